"""Problems found in content or configuration, reported as `path:line:col: message`."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from generator.errors import PressError


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    col: int
    message: str
    hint: str = ""
    warning: bool = False

    def format(self, strict: bool = False) -> str:
        level = "warning: " if self.warning and not strict else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.path}:{self.line}:{self.col}: {level}{self.message}{hint}"

    def annotation(self, strict: bool = False) -> str:
        kind = "warning" if self.warning and not strict else "error"
        text = self.message + (f" ({self.hint})" if self.hint else "")
        return f"::{kind} file={self.path},line={self.line},col={self.col}::{text}"


class ContentError(PressError):
    """Raised when content or configuration has problems; carries every one of them."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(p.format() for p in self.problems))


def display_path(path: Path, root: Path) -> str:
    """A path as the editor knows it: relative to the project root where possible.

    A path already written under the root needs no resolving (the loader's are): resolving
    costs system calls per part, and a build asks once per article and page."""
    if path.is_absolute() and root.is_absolute() and ".." not in path.parts:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    try:
        return path.resolve().relative_to(_resolved(root)).as_posix()
    except ValueError:
        return path.as_posix()


@functools.lru_cache(maxsize=64)
def _resolved(root: Path) -> Path:
    return root.resolve()


def errors_of(problems: Iterable[Problem], strict: bool) -> list[Problem]:
    return [p for p in problems if strict or not p.warning]


def report_lines(problems: Iterable[Problem], strict: bool) -> list[str]:
    """Lines to print: one per problem, plus GitHub annotations under GitHub Actions."""
    ordered = sorted(problems)
    lines = [p.format(strict) for p in ordered]
    if os.environ.get("GITHUB_ACTIONS") == "true":
        lines += [p.annotation(strict) for p in ordered]
    return lines
