"""Pages from the render cache: MkDocs converts no article again.

A post's page gets the article's one rendering, and the pages press generates are converted
with the site's one Markdown parser; what MkDocs' own conversion adds on top is redone on the
HTML: links to documents and assets become URLs relative to the page showing them (MkDocs'
`_RelativePathTreeprocessor`, without its guesses: `press check` reports broken links). The
override is narrow, made in the documented `on_page_markdown` event: the page's `render`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from functools import partial
from html import escape
from typing import Any
from urllib.parse import urlunsplit

from markdown.extensions.toc import slugify as toc_slugify
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import get_toc
from mkdocs.utils import get_relative_url

from generator.content.articles import Article
from generator.content.markup import element_ids, resolve_source_link, rewrite_links

Shown = Callable[[Article, Page], None]  # an article is shown on a page other than its own


def render_from_cache(page: Page, article: Article) -> None:
    """Makes MkDocs' `page.render` fill the page from the article's cached HTML: what a
    conversion would set (content, toc, anchors). The links are made relative to the page
    when the page is written (relative_bodies.py)."""

    def render(config: Any, files: Files) -> None:
        page.content = article.body_html
        page.toc = get_toc(article.toc)
        page.present_anchor_ids = anchor_ids(article.body_html)

    page.render = render  # type: ignore[method-assign]


def anchor_ids(html: str) -> set[str]:
    """The ids a page offers to links (MkDocs checks `#anchor` links against these)."""
    return element_ids(html)


def relative_links(
    html: str, src_uri: str, page_url: str, files: Files, anchor_base: str | None = None
) -> str:
    """Links written relative to the source file `src_uri`, resolved as MkDocs resolves
    them, and made relative to `page_url`; `#anchor` links go to `anchor_base` when given."""
    return rewrite_links(html, _resolver(src_uri, page_url, files, anchor_base))


def link_targets(links: Iterable[str], src_uri: str, files: Files) -> list[tuple[str, str | None]]:
    """Where the relative links written in the source file `src_uri` lead now: per link to
    a file, that file's URL (None when no file has that path)."""
    folder = posixpath.dirname(src_uri)
    found = []
    for link in links:
        resolved = resolve_source_link(link, folder)
        if resolved is None or not resolved.target:
            continue
        file = files.get_file_from_path(resolved.target)
        found.append((link, file.url if file is not None else None))
    return found


def _resolver(
    src_uri: str, page_url: str, files: Files, anchor_base: str | None
) -> Callable[[str], str]:
    folder = posixpath.dirname(src_uri)

    def resolve(url: str) -> str:
        link = resolve_source_link(url, folder)
        if link is None:
            return url
        if not link.target:
            return anchor_base + url if anchor_base is not None and link.fragment else url
        target = files.get_file_from_path(link.target)
        if target is None:
            return url
        relative = get_relative_url(target.url, page_url)
        return urlunsplit(("", "", relative, link.query, link.fragment))

    return resolve


Relative = Callable[[str, str, str, Files], str]  # as `relative_links`


def render_with(
    page: Page,
    convert: Callable[[str], tuple[str, list[dict[str, Any]]]],
    relative: Relative = relative_links,
    anchors: Callable[[str], set[str]] = anchor_ids,
    defer: Callable[[Callable[[], None]], bool] | None = None,
) -> None:
    """Makes `page.render` convert with `convert`, the site's one Markdown parser (or what it
    made before): for the pages press generates (list pages, newsletter issues, tags) and the
    home page, instead of a new parser per page. What MkDocs' own render adds is redone: links
    resolved relative to the page (`relative`) and the ids it offers (`anchors`; titles are in
    their metadata). `defer` may take the conversion for later (it returns True), before the
    page is written; until then its content is empty."""

    def fill(files: Files) -> None:
        html, toc = convert(page.markdown or "")
        page.content = relative(html, page.file.src_uri, page.url, files)
        page.toc = get_toc(toc)
        page.present_anchor_ids = set(anchors(html))

    def render(config: Any, files: Files) -> None:
        if defer is not None and defer(partial(fill, files)):
            page.content = ""  # MkDocs checks that a page it read has content
            return
        fill(files)

    page.render = render  # type: ignore[method-assign]


def render_heading(page: Page, title: str) -> None:
    """Makes `page.render` give the page only `title` as its level-1 heading: a list page's
    content, what the site's Markdown makes of `# title`, without a parser."""
    anchor = toc_slugify(title, "-")
    text = escape(title, quote=False)

    def render(config: Any, files: Files) -> None:
        page.content = f'<h1 id="{escape(anchor)}">{text}</h1>'
        token = {"level": 1, "id": anchor, "name": text, "children": []}
        page.toc = get_toc([token])
        page.present_anchor_ids = {anchor}

    page.render = render  # type: ignore[method-assign]
