"""No traceback, ever, for what a user typed or the machine they typed it on.

Every command runs inside `PressGroup.invoke`: a `PressError` (the named errors of content,
settings, stores, relays and sends) and an `OSError` of the machine (a file that cannot be read
or written, a refused connection) become one line and exit 1. Anything else, a `ValueError`
included, is a bug: one line saying so, and the full report written under var/log/.
"""

from __future__ import annotations

import os
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from generator.errors import PressError


class PressGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt as exc:
            raise click.Abort() from exc
        except (PressError, OSError) as exc:
            raise click.ClickException(describe(exc)) from exc
        except Exception as exc:
            report = write_crash_report(exc)
            raise click.ClickException(
                f"unexpected error ({type(exc).__name__}: {exc}); "
                f"the full report is in {report}: please attach it to an issue"
            ) from exc


def describe(exc: BaseException) -> str:
    """One line for an error the user can act on."""
    if isinstance(exc, OSError) and exc.strerror:
        where = exc.filename if exc.filename is not None else ""
        return f"{exc.strerror}: {where}" if where else exc.strerror
    return str(exc) or type(exc).__name__


def write_crash_report(exc: BaseException) -> Path:
    """The traceback in var/log/ under the working directory (else the temp directory)."""
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%S")
    text = "".join(traceback.format_exception(exc))
    for folder in (Path.cwd() / "var" / "log", Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"press-error-{stamp}-{os.getpid()}.txt"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return Path("(nowhere: no writable folder)")
