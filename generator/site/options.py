"""What a build was asked for, shared by `press` and the MkDocs hooks.

MkDocs loads the hooks file as a fresh module, so the hooks cannot receive arguments; they read
these options instead. Plain `mkdocs build` gets the defaults: the current clock, no drafts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from generator.clock import current_time


@dataclass(frozen=True)
class BuildOptions:
    now: datetime
    include_drafts: bool = False
    email_preview: bool = False  # `press serve`: the coming issue at /newsletter/preview/
    # (SiteConfig, [Article]) already loaded and checked by `press build`, so the hooks need not
    # read every article a second time; None under plain `mkdocs` commands and `press serve`.
    content: Any = None


_current: BuildOptions | None = None


def set_build_options(options: BuildOptions | None) -> None:
    global _current
    _current = options


def build_options() -> BuildOptions:
    return _current or BuildOptions(now=current_time())
