"""Active content in article bodies: found for `press check`, removed from feeds and email.

An article's page is the editor's to shape, so a `<script>` there is a warning (an error under
`--strict`). Feeds and the digest are read in other people's software and must never carry
scripts, frames, plugins, event handlers or `javascript:` links: their HTML goes through nh3
(the Ammonia sanitiser) with an allow-list, which also drops what no pattern below foresaw.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import nh3
from selectolax.lexbor import LexborHTMLParser

from generator.content.front_matter import Source
from generator.content.problems import Problem

ACTIVE = re.compile(
    r"<\s*(?P<tag>script|iframe|object|embed|frame|frameset|applet)\b"
    r"|\s(?P<handler>on[a-z]+)\s*="
    r"|(?P<scheme>(?:java|vb)script\s*:)",
    re.IGNORECASE,
)
FENCE = re.compile(r"^\s*(```|~~~)")
_ATTRIBUTES = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
# Kept on every element: footnotes, admonitions and headings need their ids and classes.
_ATTRIBUTES["*"] = {"id", "class", "title", "lang", "dir"}
_ATTRIBUTES["a"] = _ATTRIBUTES.get("a", set()) | {"rel"}


def safe_html(html: str) -> str:
    """The HTML with every active part removed; formatting, links and images kept."""
    return nh3.clean(html, attributes=_ATTRIBUTES, link_rel=None)


def active_content_problems(source: Source, body_html: str) -> list[Problem]:
    """A warning at each place in the body where active content starts. What is active is
    read from the rendered HTML (code samples are text there, raw HTML blocks are not); the
    source is searched only to say where."""
    found = _active_in_html(body_html)
    if not found:
        return []
    places = _places(source)
    problems = []
    for what, kind in found:
        line, col = _take(places, kind) or (source.body_line, 1)
        problems.append(
            Problem(
                source.path,
                line,
                col,
                f"{what} in the body: feeds and the digest leave it out",
                "remove it, or keep it knowing only the web page runs it",
                warning=True,
            )
        )
    return problems


_ACTIVE_TAGS = ("script", "iframe", "object", "embed", "frame", "frameset", "applet")
_URL_ATTRIBUTES = ("href", "src", "action", "formaction", "data", "xlink:href")


def _active_in_html(html: str) -> list[tuple[str, str]]:
    """(description, source pattern key) of each active part, in document order."""
    if not ACTIVE.search(html):
        return []  # nearly every article: no need to parse
    found = []
    for node in LexborHTMLParser(html).css("*"):
        if node.tag in _ACTIVE_TAGS:
            found.append((f"<{node.tag}>", f"tag:{node.tag}"))
        for name, value in node.attributes.items():
            name = name.lower()
            if name.startswith("on"):
                found.append((f"an '{name}' attribute", f"handler:{name}"))
            elif name in _URL_ATTRIBUTES and _SCHEME.match(value or ""):
                found.append(("a javascript: link", "scheme"))
    return found


_SCHEME = re.compile(r"\s*(?:java|vb)script\s*:", re.IGNORECASE)


def _take(places: list[tuple[tuple[int, int], str]], kind: str) -> tuple[int, int] | None:
    at = next((i for i, (_, known) in enumerate(places) if known == kind), None)
    return places.pop(at)[0] if at is not None else None


def _places(source: Source) -> list[tuple[tuple[int, int], str]]:
    """Where active-looking markup starts in the body, outside code samples, in order."""
    places = []
    for line, col, match in _active_parts(source):
        if match["tag"]:
            kind = f"tag:{match['tag'].lower()}"
        elif match["handler"]:
            kind = f"handler:{match['handler'].lower()}"
        else:
            kind = "scheme"
        places.append(((line, col), kind))
    return places


def _active_parts(source: Source) -> Iterator[tuple[int, int, re.Match[str]]]:
    in_code = False
    raw: list[str] = []  # the raw HTML block the line is in: [tag] or []
    for offset, text in enumerate(source.body.split("\n")):
        if FENCE.match(text) and not raw:
            in_code = not in_code
            continue
        indented = text.startswith(("    ", "\t"))
        if in_code or (indented and not raw):
            continue  # code samples show markup; they do not run it
        raw = _raw_block_after(text, raw)
        for match in ACTIVE.finditer(_without_inline_code(text)):
            start = match.start("handler") if match["handler"] else match.start()
            yield source.body_line + offset, start + 1, match


# A raw HTML block: a line starting with a tag that has no `markdown` attribute. Until its
# closing tag, Markdown leaves the lines alone, indented ones included (they are not code).
_RAW_OPEN = re.compile(r"^<([a-zA-Z][a-zA-Z0-9]*)\b(?![^>]*\bmarkdown\b)")


def _raw_block_after(text: str, raw: list[str]) -> list[str]:
    if not raw:
        opened = _RAW_OPEN.match(text)
        if opened is None or opened[1].lower() in _ACTIVE_TAGS:
            return []
        raw = [opened[1].lower()]
    closing = f"</{raw[0]}"
    return [] if closing in text.lower() else raw


def _without_inline_code(text: str) -> str:
    # Blank out `code spans` but keep columns, so positions still match the file.
    return re.sub(r"`[^`]*`", lambda m: " " * len(m[0]), text)
