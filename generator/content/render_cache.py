"""Each article body is converted once: per build, and across builds through `.cache/press/`.

One conversion gives the page body, the excerpt (the HTML before `<!-- more -->`, as Material
cuts it) and the headings for the table of contents. Entries are keyed by a hash of the body
text and of the Markdown setup (extensions, options, package versions), so any change that
could alter the HTML misses the cache. An entry carries a checksum of itself: a truncated,
corrupt or foreign file is ignored and rebuilt, never served.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.content.rendering import MORE, MarkdownRenderer

FORMAT = "press-render-2"  # bump when what an entry holds, or how it is cut, changes
_PLAIN_START = re.compile(r"^[\w*_\[(\"'“‘]")  # a paragraph, not a fence, list or HTML block


@dataclass(frozen=True)
class RenderedBody:
    html: str  # the whole body, without the separator
    excerpt: str  # the body before the separator; the first paragraph when there is none
    toc: list[dict[str, Any]]  # MkDocs' toc tokens for the body's headings


def render_body(renderer: MarkdownRenderer, body_md: str) -> RenderedBody:
    """One conversion of the body, cut at the separator the way Material cuts excerpts."""
    text = body_md if MORE in body_md else _with_separator(body_md)
    html, toc = renderer.render(text)
    if MORE not in html:  # no safe place for a separator: the first paragraph on its own
        return RenderedBody(html, renderer.convert(body_md.split("\n\n", 1)[0]), toc)
    before, after = html.split(MORE, 1)
    body = (before + after.lstrip("\n")).rstrip("\n")
    return RenderedBody(body, before.rstrip("\n"), toc)


def _with_separator(body_md: str) -> str:
    first, _, rest = body_md.partition("\n\n")
    if not rest or not _PLAIN_START.match(first) or "```" in first or "~~~" in first:
        return body_md
    return f"{first}\n\n{MORE}\n\n{rest}"


class RenderCache:
    def __init__(self, renderer: MarkdownRenderer, directory: Path | None) -> None:
        self.renderer, self.directory = renderer, directory
        self.converted = 0  # bodies this process converted (its own cache misses)

    def key(self, body_md: str) -> str:
        seed = f"{FORMAT}\0{self.renderer.fingerprint}\0".encode()
        return hashlib.sha256(seed + body_md.encode()).hexdigest()

    def body(self, body_md: str) -> RenderedBody:
        key = self.key(body_md)
        found = self._read(key)
        if found is None:
            found = render_body(self.renderer, body_md)
            self.converted += 1
            self._write(key, found)
        return found

    def _path(self, key: str) -> Path | None:
        return None if self.directory is None else self.directory / key[:2] / f"{key}.json"

    def _read(self, key: str) -> RenderedBody | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            checksum, _, payload = path.read_bytes().partition(b"\n")
            if hashlib.sha256(payload).hexdigest().encode() != checksum:
                return None
            entry = json.loads(payload)
            if entry.get("format") != FORMAT or entry.get("key") != key:
                return None
            html, excerpt, toc = entry["html"], entry["excerpt"], entry["toc"]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        if not (isinstance(html, str) and isinstance(excerpt, str) and isinstance(toc, list)):
            return None
        return RenderedBody(html, excerpt, toc)

    def _write(self, key: str, rendered: RenderedBody) -> None:
        path = self._path(key)
        if path is None:
            return
        entry = {"format": FORMAT, "key": key, "html": rendered.html}
        entry |= {"excerpt": rendered.excerpt, "toc": rendered.toc}
        payload = json.dumps(entry, ensure_ascii=False).encode()
        checksum = hashlib.sha256(payload).hexdigest().encode()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # No fsync: a torn entry fails its checksum and is converted again.
            fd, tmp = tempfile.mkstemp(prefix=".entry-", dir=path.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(checksum + b"\n" + payload)
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs time
