"""Markdown to HTML for feeds and the digest, and the word count behind read time.

The site itself is rendered by MkDocs with the extensions in mkdocs.yml; this renderer uses the
subset of them that makes sense outside the theme, so feed and email HTML match the page.
"""

from __future__ import annotations

import math
import re
from html import unescape

import markdown

EXTENSIONS = ["abbr", "attr_list", "def_list", "footnotes", "tables", "fenced_code", "sane_lists"]
MORE = "<!-- more -->"
WORDS_PER_MINUTE = 265  # Material's default, so page and digest agree


_RENDERER = markdown.Markdown(extensions=EXTENSIONS, output_format="html")


def render_markdown(text: str) -> str:
    # One reusable parser: building a Markdown instance is more work than converting an article.
    return _RENDERER.reset().convert(text)


def plain_text(html: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", unescape(text)).strip()


def read_time_minutes(html: str, images: int = 0) -> int:
    words = len(re.findall(r"\w+", plain_text(html)))
    return max(1, math.ceil(words / WORDS_PER_MINUTE + images * 10 / 60))


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary and add an ellipsis when the text is longer than `limit`."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:.")
    return cut + "…"
