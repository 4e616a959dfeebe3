"""Make the links and images of an article's HTML absolute, for feeds and email.

Only the `href` and `src` attributes of tags are rewritten (generator/content/markup.py);
text, code samples and everything else pass through byte for byte, so a `href="x/y"` shown
inside `<code>` stays exactly as written.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping

from generator.content.articles import Article
from generator.content.markup import resolve_source_link, rewrite_links
from generator.content.site_config import SiteConfig


def absolute_html(
    html: str, article: Article, site: SiteConfig, by_source: Mapping[str, str]
) -> str:
    """`by_source` maps a post's path under content/ (e.g. posts/x.md) to its absolute URL."""
    folder = posixpath.dirname(article.source.relative_to(site.content_dir).as_posix())
    return rewrite_links(html, _resolver(folder, site, by_source, article.url))


def _resolver(
    folder: str, site: SiteConfig, by_source: Mapping[str, str], page_url: str
) -> Callable[[str], str]:
    def resolve(link: str) -> str:
        found = resolve_source_link(link, folder)
        if found is None:  # another site, mail, or root-absolute
            return site.absolute(link) if link.startswith("/") and link[1:2] != "/" else link
        if not found.target:
            return page_url + link  # "#anchor" (or "?query") on the article's own page
        url = by_source.get(found.target) or site.absolute(found.written)
        query = f"?{found.query}" if found.query else ""
        return url + query + (f"#{found.fragment}" if found.fragment else "")

    return resolve


def source_urls(articles: list[Article], site: SiteConfig) -> dict[str, str]:
    # Called once per feed and per digest over every article: string slicing, not pathlib.
    prefix = site.content_dir.as_posix().rstrip("/") + "/"
    urls = {}
    for article in articles:
        path = article.source.as_posix()
        key = path[len(prefix) :] if path.startswith(prefix) else _relative(article, site)
        urls[key] = article.url
    return urls


def _relative(article: Article, site: SiteConfig) -> str:
    return article.source.relative_to(site.content_dir).as_posix()
