"""The feeds and the newsletter archive's pages for the first build of `press serve`, made in
a forked process while MkDocs starts: they need the articles but not MkDocs (as `press build`
makes them, build.py). The archive's issues go into the session's memo as if made here, so
the next plan of the site makes again only the issues that changed; each is kept with this
process's own articles, whose ids its key names (newsletter.py)."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from generator.content.articles import Article
from generator.content.site_config import SiteConfig
from generator.feeds.build import build_feeds
from generator.site.forked import Forked
from generator.site.newsletter import newsletter_pages
from generator.site.session_memo import SessionMemo

Made = tuple[dict[str, bytes], dict[str, str], list[tuple[Hashable, Any]]]


class Alongside:
    def __init__(self, site: SiteConfig, articles: list[Article], now: datetime) -> None:
        self.articles = articles
        self.job: Forked[Made] | None = Forked(partial(_make, site, articles, now))
        self.made: Made | None = None

    def archive(self, memo: SessionMemo[Any]) -> dict[str, str]:
        """The archive's pages; its issues remembered in `memo`."""
        _feeds, pages, issues = self._result()
        own = {article.source: article for article in self.articles}
        for key, (week, issue, email) in issues:
            memo.remember(key, ([own[Path(a.source)] for a in week], issue, email))
        return pages

    def feeds(self) -> dict[str, bytes]:
        return self._result()[0]

    def _result(self) -> Made:
        if self.made is None:
            assert self.job is not None
            job, self.job = self.job, None
            self.made = job.result()
        return self.made

    def stop(self) -> None:
        """Not waited for (a failed build)."""
        if self.job is not None:
            self.job.abandon()
            self.job = None


def _make(site: SiteConfig, articles: list[Article], now: datetime) -> Made:
    memo: SessionMemo[Any] = SessionMemo()
    pages = newsletter_pages(site, articles, now, memo=memo)
    return build_feeds(site, articles, now), pages, list(memo.now.items())
