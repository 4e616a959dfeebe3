"""Post pages and Material's excerpts from the render cache: MkDocs converts no article again.

Material's blog plugin converts a post's whole Markdown once for every list page that shows
its excerpt, and MkDocs converts it again for its page. Both get the article's one rendering
instead; what those conversions added on top is redone here on the HTML:
- links to documents and assets become URLs relative to the page showing them (MkDocs'
  `_RelativePathTreeprocessor`, without its guesses: `press check` reports broken links);
- an excerpt starts with the post's title as a level-2 heading linking to the post, and its
  in-page anchors point into the post (Material's `ExcerptTreeprocessor`).
The overrides are narrow, both made in the documented `on_page_markdown` event: a post's
`render` reads the cache, and its excerpt is a `CachedExcerpt`, a Material `Excerpt` whose
`render` reads the cache.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from copy import copy, deepcopy
from html import escape
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from markdown.extensions.toc import slugify as toc_slugify
from material.plugins.blog.structure import Excerpt, Post
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import get_toc
from mkdocs.utils import get_relative_url

from generator.content.articles import Article
from generator.content.links import rewrite_links

Shown = Callable[[Article, Page], None]  # an article is shown on a page other than its own

_ID = re.compile(r"""\sid=["']([^"']+)["']""")
_LINK_ATTRIBUTE = re.compile(r"\s(?:href|src)\s*=", re.I)


def render_from_cache(page: Page, article: Article) -> None:
    """Makes MkDocs' `page.render` fill the page from the article's cached HTML: what a
    conversion would set (content, toc, anchors). The links are made relative to the page
    by `finish_content`, when the page is written (in parallel under --jobs)."""

    def render(config: Any, files: Files) -> None:
        page.content = article.body_html
        page.toc = get_toc(article.toc)
        page.present_anchor_ids = anchor_ids(article.body_html)
        page._title_from_render = None  # the title comes from the front matter

    page.render = render  # type: ignore[method-assign]


def finish_content(page: Page, article: Article, files: Files) -> None:
    page.content = relative_links(article.body_html, page.file.src_uri, page.url, files)


def anchor_ids(html: str) -> set[str]:
    """The ids a page offers to links (MkDocs checks `#anchor` links against these)."""
    return set(_ID.findall(html))


def relative_links(
    html: str, src_uri: str, page_url: str, files: Files, anchor_base: str | None = None
) -> str:
    """Links written relative to the source file `src_uri`, resolved as MkDocs resolves
    them, and made relative to `page_url`; `#anchor` links go to `anchor_base` when given."""
    if not _LINK_ATTRIBUTE.search(html):
        return html  # most excerpts: nothing to resolve, no need to parse
    return rewrite_links(html, _resolver(src_uri, page_url, files, anchor_base))


def _resolver(
    src_uri: str, page_url: str, files: Files, anchor_base: str | None
) -> Callable[[str], str]:
    base = posixpath.dirname(src_uri)

    def resolve(url: str) -> str:
        scheme, netloc, path, query, anchor = urlsplit(url)
        if scheme or netloc or url.startswith(("/", "\\")):
            return url
        if not path:
            return anchor_base + url if anchor_base is not None and anchor else url
        target_uri = posixpath.normpath(posixpath.join(base, unquote(path)).lstrip("/"))
        target = files.get_file_from_path(target_uri)
        if target is None:
            return url
        return urlunsplit(("", "", get_relative_url(target.url, page_url), query, anchor))

    return resolve


def _excerpt_fields(excerpt: Excerpt, post: Post, site_url: str) -> None:
    """What Material's `Excerpt.__init__` sets, except its Markdown parser."""
    excerpt.file = copy(post.file)
    excerpt.post = post
    excerpt._set_canonical_url(site_url)
    excerpt.config = post.config
    excerpt.meta = post.meta
    excerpt.authors = []
    excerpt.categories = []
    excerpt.more = None


class CachedExcerpt(Excerpt):
    """Material's excerpt of a post, cut from the article's cached HTML instead of converted
    again for every list page. Only `__init__` and `render` differ from Material's."""

    def __init__(
        self, post: Post, article: Article, files: Files, site_url: str, shown: Shown | None = None
    ) -> None:
        # Material's __init__ builds a Markdown parser per post; this excerpt needs none.
        _excerpt_fields(self, post, site_url)
        self.article, self.files, self.shown = article, files, shown
        self.title_id = toc_slugify(article.title, "-")
        self.toc = get_toc([])

    def render(self, page: Page, separator: str) -> None:
        if self.shown is not None:
            self.shown(self.article, page)
        post_link = get_relative_url(self.post.url, page.url)
        heading = (
            f'<h2 id="{escape(self.title_id)}"><a class="toclink" href="{escape(post_link)}">'
            f"{escape(self.article.title)}</a></h2>"
        )
        body = relative_links(
            self.article.excerpt_html, self.file.src_uri, page.url, self.files, post_link
        )
        self.content = f"{heading}\n{body}"
        # Templates only ask whether there is more to read than the excerpt.
        self.more = "more" if self.article.excerpt_html != self.article.body_html else None
        token: dict[str, Any] = {"level": 2, "id": self.title_id, "children": []}
        self.toc = get_toc([{**token, "name": escape(self.article.title)}])


def cached_excerpt(
    page: Post, article: Article, files: Files, site_url: str, shown: Shown | None = None
) -> CachedExcerpt:
    """Replaces the excerpt Material made for `page`, keeping the authors and categories it
    chose for list pages (`post_excerpt_max_authors` and `_max_categories`). `shown` is told
    of every list page the excerpt is rendered on."""
    made = getattr(page, "excerpt", None)
    excerpt = CachedExcerpt(page, article, files, site_url, shown)
    if made is not None:
        excerpt.authors, excerpt.categories = made.authors, made.categories
    return excerpt


_LINKISH = re.compile(r"[\[<!]")  # links, images, references or HTML: output depends on the page


def render_memoised(page: Page, memo: dict[str, Any]) -> None:
    """Makes `page.render` reuse an earlier page's conversion of the same Markdown. Material's
    list pages (every page of the index, archive, categories and authors) hold only their
    title as Markdown, so a build otherwise makes a Markdown parser for each of them; text
    with any link, image or HTML is converted as usual, its output depends on the page."""
    # A page rendered again (`press serve`) wraps MkDocs' own render, not the last wrapper.
    original = page.__dict__.setdefault("_unmemoised_render", page.render)

    def render(config: Any, files: Files) -> None:
        text = page.markdown or ""
        if _LINKISH.search(text):
            return original(config, files)
        if text not in memo:
            original(config, files)
            memo[text] = (page.content, page.toc, page._title_from_render, page.present_anchor_ids)
        content, toc, title, anchors = memo[text]
        page.content, page.toc = content, deepcopy(toc)
        page._title_from_render, page.present_anchor_ids = title, set(anchors or ())

    page.render = render  # type: ignore[method-assign]


class DeferredExcerpt(Excerpt):
    """What Material's blog plugin makes for each post while press builds: Material's excerpt
    without its Markdown parser, which Material builds for every post up front. The press
    plugin replaces each with a CachedExcerpt; should Material ever render one itself, the
    parser is built then and the excerpt renders exactly as Material's own."""

    def __init__(self, post: Post, config: Any, files: Files) -> None:
        self._material_args = (post, config, files)
        _excerpt_fields(self, post, config.site_url)

    def render(self, page: Page, separator: str) -> None:
        authors, categories = self.authors, self.categories
        Excerpt.__init__(self, *self._material_args)
        self.authors, self.categories = authors, categories
        Excerpt.render(self, page, separator)


_FIRST_H1 = re.compile(r"<h1\b[^>]*>(.*?)</h1>", re.S)


def render_with(page: Page, convert: Callable[[str], tuple[str, list[dict[str, Any]]]]) -> None:
    """Makes `page.render` convert with `convert`, the site's one Markdown parser (or what it
    made before): for the pages press generates (newsletter issues, tags), instead of a new
    parser per page. What MkDocs' own render adds is redone: links resolved relative to the
    page, the ids it offers, and the title taken from a leading level-1 heading."""

    def render(config: Any, files: Files) -> None:
        html, toc = convert(page.markdown or "")
        page.content = relative_links(html, page.file.src_uri, page.url, files)
        page.toc = get_toc(toc)
        page.present_anchor_ids = anchor_ids(html)
        first = _FIRST_H1.match(html)
        page._title_from_render = _heading_text(first.group(1)) if first else None

    page.render = render  # type: ignore[method-assign]


def _heading_text(inner_html: str) -> str:
    """MkDocs' heading text: tags and comments removed, entities kept, spaces collapsed."""
    text = re.sub(r"<!--.*?-->", "", inner_html, flags=re.S)
    return " ".join(re.sub(r"<[^>]*>", "", text).split())
