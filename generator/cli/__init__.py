"""The `press` command line: one module per command group, each a thin shell over the packages.

It is the top of the layering: it may import every package, and none imports it.
"""

from generator.cli.main import main

__all__ = ["main"]
