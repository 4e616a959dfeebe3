"""Make the links and images of an article's HTML absolute, for feeds and email.

The HTML is tokenised by a real parser and only the `href` and `src` attributes of tags are
rewritten; text, code samples and everything else pass through byte for byte, so a
`href="x/y"` shown inside `<code>` stays exactly as written.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from html import escape, unescape
from html.parser import HTMLParser

from generator.content.articles import Article
from generator.content.site_config import SiteConfig

_ABSOLUTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|#)", re.I)
_LINK_ATTRIBUTES = {"href", "src"}


def absolute_html(
    html: str, article: Article, site: SiteConfig, by_source: Mapping[str, str]
) -> str:
    """`by_source` maps a post's path under content/ (e.g. posts/x.md) to its absolute URL."""
    base = posixpath.dirname(article.source.relative_to(site.content_dir).as_posix())
    return rewrite_links(html, _resolver(base, site, by_source, article.url))


def rewrite_links(html: str, resolve: Callable[[str], str]) -> str:
    rewriter = _LinkRewriter(resolve)
    rewriter.feed(html)
    rewriter.close()
    return "".join(rewriter.out)


class _LinkRewriter(HTMLParser):
    def __init__(self, resolve: Callable[[str], str]) -> None:
        super().__init__(convert_charrefs=False)
        self.resolve, self.out = resolve, []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self._tag(attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self._tag(attrs))

    def _tag(self, attrs: list[tuple[str, str | None]]) -> str:
        original = self.get_starttag_text() or ""
        if not any(name in _LINK_ATTRIBUTES and value for name, value in attrs):
            return original
        for name, value in attrs:
            if name in _LINK_ATTRIBUTES and value:
                resolved = self.resolve(value)
                if resolved != value:
                    new = escape(resolved, quote=True)
                    original = _replace_attribute(original, name, value, new)
        return original

    def handle_endtag(self, tag: str) -> None:
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self.out.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self.out.append(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        self.out.append(f"<![{data}]>")


# One attribute of a start tag: its name, and its value in whatever quoting it used.
_ATTRIBUTE = re.compile(r"""(\s([^\s"'>/=]+)\s*=\s*)("[^"]*"|'[^']*'|[^\s"'=<>`]+)""")


def _replace_attribute(tag: str, name: str, value: str, new: str) -> str:
    """The tag text with the first `name` attribute whose value is `value` (as the parser
    read it, entities decoded) set to `new`, double-quoted."""
    for found in _ATTRIBUTE.finditer(tag):
        written = found[3][1:-1] if found[3][0] in "\"'" else found[3]
        if found[2].lower() == name and unescape(written) == value:
            return f'{tag[: found.start()]}{found[1]}"{new}"{tag[found.end() :]}'
    return tag


def _resolver(
    base: str, site: SiteConfig, by_source: Mapping[str, str], page_url: str
) -> Callable[[str], str]:
    def resolve(link: str) -> str:
        link = unescape(link)
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
