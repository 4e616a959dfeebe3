"""What a page's HTML is made from, as one fingerprint: when `press serve` plans the site again
after an article is added, moved, re-dated, recategorised or removed, it writes again only
the pages whose fingerprint changed.

A fingerprint holds everything the templates read for the page: the site's navigation (one
fingerprint shared by every page), the page's own fields and neighbours, and by kind of page:
- a post: its Article, its "Read next", its related links, and the URLs its own links resolve
  to;
- a list page of the blog plan: each post it shows, as above, and the pages of its list;
- any other page: its content (the pages press generates hold all they show in it).
The site configuration and the templates are not in it: a change to those rebuilds it all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from generator.blog.plan import LISTS
from generator.content.articles import Article
from generator.content.markup import link_values
from generator.site.cached_pages import link_targets
from generator.site.page_context import post_links
from generator.site.session_memo import SessionMemo


def nav_fingerprint(nav: Any) -> str:
    return _digest(repr(_nav_items(nav.items)))


def _nav_items(items: Iterable[Any]) -> list[Any]:
    return [
        (
            type(item).__name__,
            item.title,
            getattr(item, "url", None),
            tuple(_nav_items(item.children or [])),
        )
        for item in items
    ]


class PagePrints:
    """The fingerprints of one build's pages, planned by the press plugin `press`; each
    article's part is made once."""

    def __init__(self, press: Any) -> None:
        self.press = press
        self.navs: dict[int, str] = {}
        self.posts: dict[int, tuple[Article, tuple[Any, ...]]] = {}  # by id of the Article

    def of(self, page: Any, nav: Any, options: dict[str, Any]) -> str:
        if id(nav) not in self.navs:
            self.navs[id(nav)] = nav_fingerprint(nav)
        parts: list[Any] = [
            self.navs[id(nav)],
            sorted(options.items()),
            page.url,
            page.title,
            page.canonical_url,
            getattr(page, "update_date", None),
            sorted((k, repr(v)) for k, v in page.meta.items()),
            page.content,
            _toc(page.toc),
            _neighbour(page.previous_page),
            _neighbour(page.next_page),
        ]
        press = self.press
        article = press.articles.get(page.file.src_uri)
        planned = press.blog.page_for(page.file.src_uri)
        if article is not None:
            parts.append(self._post(article, page.file.src_uri))
            parts.append(post_links(article, press.articles, press.blog))
            parts.append([_shown(a) for a in press.related.for_article(article)])
        elif planned is not None and planned.kind in LISTS:
            pages = [p.url for p in press.blog.views[planned.view]]
            sources = press.blog.post_sources
            posts = [self._post(a, sources[a.path]) for a in planned.articles]
            parts.append((planned.kind.value, planned.view, planned.number, pages, posts))
        return _digest(repr(parts))

    def _post(self, article: Article, src_uri: str) -> tuple[Any, ...]:
        known = self.posts.get(id(article))
        if known is None:  # the Article is kept with its part, so its id stays its own
            digest, links = self.press.article_prints.of(article)
            part = (article.path, digest, _targets(links, src_uri, self.press))
            known = self.posts[id(article)] = (article, part)
        return known[1]


class ArticlePrints:
    """What a page's fingerprint takes from an article that does not depend on the build: a
    digest of the article and the links its HTML holds. An article the preview did not read
    again is the same object in the next build: its part is not made again (hashing and
    parsing every article cost a third of a second per build at 1,000)."""

    def __init__(self) -> None:
        self.memo: SessionMemo[tuple[Article, str, list[str]]] = SessionMemo()

    def of(self, article: Article) -> tuple[str, list[str]]:
        made = self.memo.get(id(article), lambda: _article_part(article))
        if made[0] is not article:  # that id was another article's, since collected
            made = _article_part(article)
            self.memo.remember(id(article), made)
        return made[1], made[2]

    def next_build(self) -> None:
        self.memo.next_build()


def _article_part(article: Article) -> tuple[Article, str, list[str]]:
    # The Article is kept with its part, so its id stays its own while it is remembered.
    return article, _digest(repr(article)), sorted(set(link_values(article.body_html)))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _toc(items: Iterable[Any]) -> list[Any]:
    return [(i.title, i.url, i.level, _toc(i.children)) for i in items]


def _neighbour(page: Any) -> tuple[Any, ...] | None:
    return (page.url, page.title) if page is not None else None


def _links(items: Iterable[Any]) -> list[Any]:
    return [
        (
            type(item).__name__,
            item.title,
            getattr(item, "url", None),
            tuple(_links(getattr(item, "children", None) or [])),
        )
        for item in items
    ]


def _shown(article: Article) -> tuple[Any, ...]:
    """What "Read next" shows of an article."""
    return (article.path, article.title, article.published, article.read_time)


def _targets(links: list[str], src_uri: str, press: Any) -> list[tuple[str, str | None]]:
    """Where the relative links of a post's HTML lead now (a file's URL, or None)."""
    return link_targets(links, src_uri, press.files)
