"""Make the links and images of an article's HTML absolute, for feeds and email."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping

from generator.content.articles import Article
from generator.content.site_config import SiteConfig

_ATTR = re.compile(r'\b(href|src)="([^"]*)"')
_ABSOLUTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|#)", re.I)


def absolute_html(
    html: str, article: Article, site: SiteConfig, by_source: Mapping[str, str]
) -> str:
    """`by_source` maps a post's path under content/ (e.g. posts/x.md) to its absolute URL."""
    base = posixpath.dirname(article.source.relative_to(site.content_dir).as_posix())
    resolve = _resolver(base, site, by_source, article.url)
    return _ATTR.sub(lambda m: f'{m[1]}="{resolve(m[2])}"', html)


def _resolver(
    base: str, site: SiteConfig, by_source: Mapping[str, str], page_url: str
) -> Callable[[str], str]:
    def resolve(link: str) -> str:
        if _ABSOLUTE.match(link):
            return page_url + link if link.startswith("#") else link
        if link.startswith("/"):
            return site.absolute(link)
        path, _, fragment = link.partition("#")
        target = posixpath.normpath(posixpath.join(base, path))
        url = by_source.get(target) or site.absolute(target)
        return url + (f"#{fragment}" if fragment else "")

    return resolve


def source_urls(articles: list[Article], site: SiteConfig) -> dict[str, str]:
    return {a.source.relative_to(site.content_dir).as_posix(): a.url for a in articles}
