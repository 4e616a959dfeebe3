"""What every `press` command shares: the project root and how errors reach the terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from generator.content.problems import ContentError, report_lines


def project_root() -> Path:
    return Path.cwd()


def reports_problems(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn ContentError into one line per problem and exit 1: no traceback for editors."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ContentError as exc:
            for line in report_lines(exc.problems, strict=True):
                click.echo(line, err=True)
            click.echo(f"{len(exc.problems)} problem(s) found", err=True)
            sys.exit(1)

    return wrapper
