"""What a build was asked for: the moment it is built as of, and what the preview shows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from generator.content.articles import Article
from generator.content.site_config import SiteConfig

Content = tuple[SiteConfig, list[Article]]


@dataclass(frozen=True)
class BuildOptions:
    now: datetime
    include_drafts: bool = False
    email_preview: bool = False  # `press serve`: the coming issue at /newsletter/preview/
    # (SiteConfig, [Article]) already loaded and checked by `press build`, so the plugin need not
    # read every article a second time; None under plain `mkdocs` commands and `press serve`.
    content: Content | None = None
    jobs: int = 1  # processes that write pages (`press build --jobs`); under `press serve`,
    # those that read articles and draw cards for the first build (live.py)
    # `press build` makes the newsletter archive's pages alongside the feeds: a callable that
    # returns them, or None for the plugin to make them itself.
    newsletter: Callable[[], dict[str, str]] | None = None
