"""The one place HTML is read or edited, always with a real parser, never with patterns.

- `element_ids`, `link_values`: what a fragment or page offers to links, and where its own
  links point (selectolax's lexbor parser: fast enough for every page of a build).
- `rewrite_links`: an article's `href` and `src` values replaced, everything else passed
  through byte for byte (the standard library's tokenizer, which keeps each tag's source
  text), so feeds, emails and pages carry exactly what the editor wrote.
- `edit_fragment`: a rendered fragment (Material's navigation) parsed, changed by the given
  edits, written out again (fixes to Material's markup, html_fixes.py).
- `tag_spans`, `splice`, `start_tag`: where each tag of a text stands, for edits that change
  a few tags and pass every other byte through; they read template sources too, where
  `{% … %}` is text (Material's templates fixed once as they load, html_fixes.py).
- `resolve_source_link`: where a link written in a file under content/ leads among
  content/'s files; the one resolver behind the pages' relative links, the feeds' and
  emails' absolute ones and the preview's fingerprints.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html import escape, unescape
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from selectolax.lexbor import LexborHTMLParser

LINK_ATTRIBUTES = ("href", "src")

Edit = Callable[[LexborHTMLParser], None]


def element_ids(html: str) -> set[str]:
    """The ids a fragment or page offers to `#anchor` links."""
    if "id=" not in html:
        return set()
    return {
        node.attributes["id"] or ""
        for node in LexborHTMLParser(html).css("[id]")
        if node.attributes.get("id")
    }


def link_values(html: str) -> list[str]:
    """Every `href` and `src` value of the HTML's tags, in document order."""
    if "href" not in html and "src" not in html:
        return []
    found = []
    for node in LexborHTMLParser(html).css("[href], [src]"):
        for name in LINK_ATTRIBUTES:
            value = node.attributes.get(name)
            if value:
                found.append(value)
    return found


def edit_fragment(html: str, edits: Iterable[Edit]) -> str:
    """`html` (a fragment of a page's body) parsed, changed by each edit in turn, and
    serialised."""
    tree = LexborHTMLParser(html)
    for edit in edits:
        edit(tree)
    return tree.body.inner_html if tree.body is not None else html


@dataclass(frozen=True)
class TagSpan:
    """One start or end tag of a text: its name, its attributes (values decoded) and where
    its source text starts and ends."""

    name: str
    attrs: tuple[tuple[str, str | None], ...]
    start: int
    end: int
    closing: bool

    def attr(self, name: str) -> str | None:
        return next((value for key, value in self.attrs if key == name), None)

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self.attrs)


def tag_spans(text: str) -> list[TagSpan]:
    """Every tag of `text`, in order, found by the standard library's tokenizer."""
    locator = _TagLocator(text)
    locator.feed(text)
    locator.close()
    return locator.spans


def splice(text: str, changes: Iterable[tuple[int, int, str]]) -> str:
    """`text` with each (start, end) span replaced; the spans must not overlap."""
    out, done = [], 0
    for start, end, new in sorted(changes):
        out += [text[done:start], new]
        done = end
    return "".join(out) + text[done:]


def start_tag(name: str, attrs: Iterable[tuple[str, str | None]]) -> str:
    """A start tag written out, each value double-quoted and escaped."""
    written = "".join(
        f" {key}" if value is None else f' {key}="{escape(value, quote=True)}"'
        for key, value in attrs
    )
    return f"<{name}{written}>"


def rewrite_links(html: str, resolve: Callable[[str], str]) -> str:
    """`html` with each `href` and `src` value replaced by `resolve(value)` (entities
    decoded); the rest of the text, code samples included, passes through unchanged."""
    if "href" not in html and "src" not in html:
        return html
    rewriter = _LinkRewriter(resolve)
    rewriter.feed(html)
    rewriter.close()
    return "".join(rewriter.out)


@dataclass(frozen=True)
class SourceLink:
    """Where a relative link written in a file under content/ leads."""

    target: str  # the file under content/ ("" for an anchor on the same page)
    query: str
    fragment: str
    written: str  # the same path as written, %-escapes kept (for a URL, not a file)


def resolve_source_link(link: str, folder: str) -> SourceLink | None:
    """`link` as written in a file in `folder` (relative to content/); None for another
    site, a mail address, a root-absolute or a protocol-relative link."""
    scheme, netloc, path, query, fragment = urlsplit(link)
    if scheme or netloc or link.startswith(("/", "\\")):
        return None
    if not path:
        return SourceLink("", query, fragment, "")
    target = posixpath.normpath(posixpath.join(folder, unquote(path))).lstrip("/")
    written = posixpath.normpath(posixpath.join(folder, path)).lstrip("/")
    return SourceLink(target, query, fragment, written)


class _TagLocator(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=False)
        self.text, self.spans = text, []
        self.line_starts = [0]
        for line in text.split("\n")[:-1]:  # the tokenizer counts lines by "\n" alone
            self.line_starts.append(self.line_starts[-1] + len(line) + 1)

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        start = self._offset()
        end = start + len(self.get_starttag_text() or "")
        self.spans.append(TagSpan(tag, tuple(attrs), start, end, False))

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        start = self._offset()
        end = self.text.find(">", start) + 1 or len(self.text)
        self.spans.append(TagSpan(tag, (), start, end, True))


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
        for name, value in attrs:
            if name in LINK_ATTRIBUTES and value:
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


# One attribute inside a start tag's source text, as the tokenizer found it: its name, and
# its value in whatever quoting it used. It only ever runs over one tag the parser delimited.
_ATTRIBUTE = re.compile(r"""(\s([^\s"'>/=]+)\s*=\s*)("[^"]*"|'[^']*'|[^\s"'=<>`]+)""")


def _replace_attribute(tag: str, name: str, value: str, new: str) -> str:
    """The tag text with the first `name` attribute whose value is `value` (as the parser
    read it, entities decoded) set to `new`, double-quoted."""
    for found in _ATTRIBUTE.finditer(tag):
        written = found[3][1:-1] if found[3][0] in "\"'" else found[3]
        if found[2].lower() == name and unescape(written) == value:
            return f'{tag[: found.start()]}{found[1]}"{new}"{tag[found.end() :]}'
    return tag
