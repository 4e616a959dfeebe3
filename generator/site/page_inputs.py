"""What a page's HTML is made from, as one fingerprint: when `press serve` plans the site again
after an article is added, moved, re-dated, recategorised or removed, it writes again only
the pages whose fingerprint changed.

A fingerprint holds everything the templates read for the page: the site's navigation (one
fingerprint shared by every page), the page's own fields and neighbours, and by kind of page:
- a post: its Article, its "Read next", its related links as Material resolved them, and the
  URLs its own links resolve to;
- a list page (one of Material's views): each post it shows, as above, and its pagination;
- any other page: its content (the pages press generates hold all they show in it).
The site configuration and the templates are not in it: a change to those rebuilds it all.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from material.plugins.blog.structure import Post, View

from generator.content.articles import Article

_LINK = re.compile(r"""\s(?:href|src)\s*=\s*["']([^"']*)["']""", re.I)


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
    """The fingerprints of one build's pages. `blog` is Material's blog plugin and `press`
    the press plugin that planned them; each article's part is made once."""

    def __init__(self, blog: Any, press: Any) -> None:
        self.blog, self.press = blog, press
        self.navs: dict[int, str] = {}
        self.posts: dict[int, tuple[Any, tuple[Any, ...]]] = {}  # by id of the post page

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
        if isinstance(page, Post):
            parts.append(self._post(page))
            parts.append(_links(page.config.links.items if page.config.links else []))
            article = self.press.articles.get(page.file.src_uri)
            if article is not None:
                parts.append([_shown(a) for a in self.press.related.for_article(article)])
        elif isinstance(page, View):
            parts.append(self._view(page))
        return _digest(repr(parts))

    def _post(self, post: Post) -> tuple[Any, ...]:
        known = self.posts.get(id(post))
        if known is None:
            known = self.posts[id(post)] = (post, _post(post, self.press))  # kept: ids stay
        return known[1]

    def _view(self, page: View) -> tuple[Any, ...]:
        """The posts a list page shows and its pagination, as Material's `_render` picks them."""
        blog = self.blog
        view = blog._resolve_original(page)
        posts, pagination = view.posts, None
        if blog._config_pagination(view):
            at, step = view.pages.index(page), blog._config_pagination_per_page(view)
            posts = view.posts[at * step : at * step + step]
            pagination = (at, step, len(view.posts), [p.url for p in view.pages])
        return (type(view).__name__, view.url, pagination, [self._post(p) for p in posts])


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


def _post(post: Post, press: Any) -> tuple[Any, ...]:
    article = press.articles.get(post.file.src_uri)
    if article is None:
        return (post.url, post.content)
    excerpt = post.excerpt
    listed = (
        [(a.name, a.avatar, a.url) for a in excerpt.authors] if excerpt else [],
        [(c.title, c.url) for c in excerpt.categories] if excerpt else [],
    )
    targets = _targets(article.body_html, post.file.src_uri, press.files)
    text = _digest(repr(article))
    return (post.url, text, listed, targets, post.config.readtime)


def _targets(html: str, src_uri: str, files: Any) -> list[tuple[str, str | None]]:
    """Where the relative links of a post's HTML lead now (a file's URL, or None)."""
    base = posixpath.dirname(src_uri)
    found = []
    for link in sorted(set(_LINK.findall(html))):
        scheme, netloc, path, _query, _anchor = urlsplit(link)
        if scheme or netloc or not path or link.startswith(("/", "\\")):
            continue
        target = posixpath.normpath(posixpath.join(base, unquote(path)).lstrip("/"))
        file = files.get_file_from_path(target)
        found.append((link, file.url if file is not None else None))
    return found
