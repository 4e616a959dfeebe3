"""The one base of every error a user can act on.

A `PressError` is a mistake in what the user gave (content, settings, arguments, a file) or in
the machine it runs on (a database that is down, a relay that refuses): the command line prints
its message as one line and exits 1. Any other exception is a bug and reaches the crash report
with its traceback (cli/errors.py), however ordinary its type (`ValueError`, `KeyError`).
"""

from __future__ import annotations


class PressError(Exception):
    """An error whose message tells the user what to do; never a bug."""
