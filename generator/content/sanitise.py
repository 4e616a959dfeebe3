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


def active_content_problems(source: Source) -> list[Problem]:
    """A warning at each place in the body where active content starts."""
    return [
        Problem(
            source.path,
            line,
            col,
            f"{what} in the body: feeds and the digest leave it out",
            "remove it, or keep it knowing only the web page runs it",
            warning=True,
        )
        for line, col, what in _active_parts(source)
    ]


def _active_parts(source: Source) -> Iterator[tuple[int, int, str]]:
    in_code = False
    for offset, text in enumerate(source.body.split("\n")):
        if FENCE.match(text):
            in_code = not in_code
            continue
        if in_code or text.startswith(("    ", "\t")):
            continue  # code samples show markup; they do not run it
        for match in ACTIVE.finditer(_without_inline_code(text)):
            start = match.start("handler") if match["handler"] else match.start()
            yield source.body_line + offset, start + 1, _described(match)


def _described(match: re.Match[str]) -> str:
    if match["tag"]:
        return f"<{match['tag'].lower()}>"
    if match["handler"]:
        return f"an '{match['handler'].lower()}' attribute"
    return "a javascript: link"


def _without_inline_code(text: str) -> str:
    # Blank out `code spans` but keep columns, so positions still match the file.
    return re.sub(r"`[^`]*`", lambda m: " " * len(m[0]), text)
