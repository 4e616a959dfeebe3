"""Links inside the built site: every internal link and #anchor of an article must lead to a
page (and a heading) that the build wrote.

Checked against the staged tree, before it replaces the live site, and reported at the link's
place in the article's source. Only the pages links point to are read, each once.
"""

from __future__ import annotations

import posixpath
from functools import partial
from pathlib import Path
from urllib.parse import unquote, urlsplit

from generator.content.articles import Article
from generator.content.loader import markdown_links
from generator.content.markup import element_ids
from generator.content.problems import Problem, display_path
from generator.content.site_config import SiteConfig
from generator.site.forked import Forked


class BuiltPages:
    """The staged site: which paths exist, and the ids each page has (read on demand).
    `bodies` are the posts' HTML by their pages' paths: a post's page shows its body, so an
    id of the body is on the page without reading the page (most anchors are headings of
    posts; reading and parsing their pages was most of the check)."""

    def __init__(self, root: Path, bodies: dict[str, str] | None = None) -> None:
        self.root = root
        self.bodies = bodies or {}
        self._ids: dict[Path, set[str]] = {}
        self._body_ids: dict[str, set[str]] = {}

    def page(self, path: str) -> Path | None:
        target = self.root / path
        if path.endswith("/") or target.is_dir():
            target = target / "index.html"
        return target if target.is_file() else None

    def ids(self, page: Path) -> set[str]:
        if page not in self._ids:
            self._ids[page] = element_ids(page.read_text(encoding="utf-8", errors="replace"))
        return self._ids[page]

    def has_id(self, path: str, page: Path, anchor: str) -> bool:
        """Whether the page at site path `path` (written to `page`) has an element `anchor`."""
        body = self.bodies.get(path)
        if body is not None:
            if path not in self._body_ids:
                self._body_ids[path] = element_ids(body)
            if anchor in self._body_ids[path]:
                return True
        return anchor in self.ids(page)


def broken_internal_links(
    staging: Path, site: SiteConfig, articles: list[Article], strict: bool, jobs: int = 1
) -> list[Problem]:
    """In article order; with `jobs` > 1, each of that many processes checks every N-th one."""
    check = partial(_check_share, staging, site, articles, strict, jobs)
    if jobs <= 1 or len(articles) < 8 * jobs:
        return [p for _, found in check(0) for p in found]
    children = [Forked(partial(check, k)) for k in range(1, jobs)]
    try:
        results = dict(check(0))
        for child in children:
            results.update(child.result())
    finally:
        for child in children:
            child.abandon()
    return [p for n in sorted(results) for p in results[n]]


def _check_share(
    staging: Path, site: SiteConfig, articles: list[Article], strict: bool, jobs: int, k: int
) -> list[tuple[int, list[Problem]]]:
    pages = BuiltPages(staging, {a.path: a.body_html for a in articles})
    by_source = dict(_sources(articles, site))
    return [
        (n, _check_article(articles[n], site, by_source, pages, strict))
        for n in range(k, len(articles), jobs)
    ]


def _sources(articles: list[Article], site: SiteConfig) -> list[tuple[str, str]]:
    return [(a.source.relative_to(site.content_dir).as_posix(), a.path) for a in articles]


def _check_article(
    article: Article, site: SiteConfig, by_source: dict[str, str], pages: BuiltPages, strict: bool
) -> list[Problem]:
    if pages.page(article.path) is None:
        return []  # not on the site (a draft, or dated later)
    folder = posixpath.dirname(article.source.relative_to(site.content_dir).as_posix())
    problems = []
    for line, col, target in markdown_links(article):
        reason = _broken(target, article.path, folder, by_source, pages)
        if reason:
            shown = display_path(article.source, site.root)
            message = f"link to '{target}': {reason}"
            hint = "fix the path, or the heading it points to"
            problems.append(Problem(shown, line, col, message, hint, warning=not strict))
    return problems


def _broken(
    target: str, page_path: str, folder: str, by_source: dict[str, str], pages: BuiltPages
) -> str:
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return ""  # another site, mail, or a protocol-relative URL: not ours to check
    path = _site_path(unquote(parts.path), page_path, folder, by_source)
    if path is None:
        return ""  # a Markdown file that is no article: the content check vouched for it
    page = pages.page(path)
    if page is None:
        return f"no page at /{path}"
    anchor = unquote(parts.fragment)
    if anchor and page.suffix == ".html" and not pages.has_id(path, page, anchor):
        return f"/{path} has no heading or element with id '{anchor}'"
    return ""


def _site_path(path: str, page_path: str, folder: str, by_source: dict[str, str]) -> str | None:
    """The link's target as a path in the built site ('' is the home page)."""
    if not path:
        return page_path  # "#anchor" on the same page
    if path.startswith("/"):
        return path.lstrip("/")
    if path.endswith(".md"):
        return by_source.get(posixpath.normpath(posixpath.join(folder, path)))
    resolved = posixpath.normpath(posixpath.join(page_path, path))
    return "" if resolved == "." else resolved + ("/" if path.endswith("/") else "")
