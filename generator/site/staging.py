"""The copy of an article that MkDocs reads: front matter rewritten from the Article.

Material's blog plugin reads front matter itself and treats a naive date as UTC. Handing it a
normalised copy (aware date in the site time zone, our slug and read time) makes the page,
the URL and the archive agree with the feeds and the digest.
"""

from __future__ import annotations

import html

from generator.content.articles import Article
from generator.content.front_matter import format_front_matter


def normalized_post(article: Article, show_draft: bool = False) -> str:
    dates = {"created": article.published}
    if article.updated:
        dates["updated"] = article.updated
    meta = {
        "authors": [a.id for a in article.authors],
        "categories": list(article.categories),
        "date": dates,
        "description": article.description,
        "draft": bool(show_draft and article.draft),
        "readtime": article.read_time,
        "slug": article.slug,
        "tags": list(article.tags),
        # Material puts titles into pages, lists, the nav and the search index unescaped
        # (MkDocs' Jinja does not autoescape): a title is text, so it goes in as HTML text.
        "title": html.escape(article.title),
        "pin": article.pinned,
    }
    if article.links:
        # Titles are HTML text here too: the template prints Material's resolved links as is.
        meta["links"] = [
            {html.escape(title): target} if title else target for title, target in article.links
        ]
    # No body: the page and its excerpts come from the render cache (cached_pages.py).
    return format_front_matter(meta, "")
