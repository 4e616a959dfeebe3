"""What a list page of the blog shows (home, year archive, category, author): each planned
article as an excerpt, and the links to the list's other pages, ready for the templates.

An excerpt is cut from the article's one rendering: its title as a level-2 heading linking to
the post, then the text before `<!-- more -->` with its links made relative to the list page
and its in-page anchors pointing into the post (what Material's excerpts did)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from markdown.extensions.toc import slugify as toc_slugify
from mkdocs.structure.files import Files
from mkdocs.utils import get_relative_url

from generator.blog.plan import PlannedPage
from generator.content.articles import Article
from generator.site.cached_pages import relative_links

EXCERPT_AUTHORS = 1  # avatars shown on an excerpt (Material's post_excerpt_max_authors)
PAGE_RADIUS = 2  # page numbers shown either side of the current one


@dataclass(frozen=True)
class Excerpt:
    article: Article
    content: str  # HTML: heading and excerpt
    more: bool  # the post has more than its excerpt

    @property
    def authors(self) -> tuple[Any, ...]:
        return self.article.authors[:EXCERPT_AUTHORS]


@dataclass(frozen=True)
class PageLink:
    number: int | None  # None: the dots between distant pages
    url: str | None  # site-relative; None for the current page and the dots


@dataclass(frozen=True)
class Listing:
    page: PlannedPage
    excerpts: list[Excerpt]
    pages: list[PageLink]  # empty when the list fits one page


def build_listing(
    planned: PlannedPage, views: list[PlannedPage], src_of: dict[str, str], files: Files
) -> Listing:
    """`views`: every page of the list `planned` belongs to, in order; `src_of`: source URI
    by article path, to resolve each excerpt's links as written in its file."""
    excerpts = [
        excerpt_of(article, planned.url, src_of[article.path], files)
        for article in planned.articles
    ]
    return Listing(planned, excerpts, page_links(planned, views))


def excerpt_of(article: Article, page_url: str, src_uri: str, files: Files) -> Excerpt:
    post_link = get_relative_url(article.path, page_url)
    heading = (
        f'<h2 id="{escape(toc_slugify(article.title, "-"))}">'
        f'<a class="toclink" href="{escape(post_link)}">{escape(article.title)}</a></h2>'
    )
    body = relative_links(article.excerpt_html, src_uri, page_url, files, post_link)
    return Excerpt(article, f"{heading}\n{body}", article.excerpt_html != article.body_html)


def page_links(planned: PlannedPage, views: list[PlannedPage]) -> list[PageLink]:
    """The first, the last and the pages near the current one, dots where pages are left
    out (the paginate library's "~2~" that Material used)."""
    if len(views) < 2:
        return []
    current, last = planned.number, len(views)
    near = range(max(1, current - PAGE_RADIUS), min(last, current + PAGE_RADIUS) + 1)
    links: list[PageLink] = []
    for number in sorted({1, last, *near}):  # not every page: a list of 600 has 600 pages
        if links and links[-1].number is not None and number > links[-1].number + 1:
            links.append(PageLink(None, None))
        url = None if number == current else views[number - 1].url
        links.append(PageLink(number, url))
    return links
