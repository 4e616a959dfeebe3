"""The one base of every error a user can act on.

A `PressError` is a mistake in what the user gave (content, settings, arguments, a file) or in
the machine it runs on (a database that is down, a relay that refuses): the command line prints
its message as one line and exits 1. Any other exception is a bug and reaches the crash report
with its traceback (cli/errors.py), however ordinary its type (`ValueError`, `KeyError`).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class PressError(Exception):
    """An error whose message tells the user what to do; never a bug."""


class NotARegularFile(PressError):
    """A FIFO, device or socket given as a file: opening it could block forever."""


def require_regular_file(path: Path) -> None:
    """Raises NotARegularFile (or OSError) before anything opens `path` for reading."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise NotARegularFile(
            f"{path}: not a regular file (a FIFO, device or socket is never read)"
        )
