"""Each article body is converted once: per build, and across builds through `.cache/press/`.

One conversion gives the page body, the excerpt (the HTML before `<!-- more -->`, as Material
cuts it) and the headings for the table of contents. Entries are keyed by a hash of the body
text and of the Markdown setup (extensions, options, package versions), so any change that
could alter the HTML misses the cache. An entry carries a checksum of itself: a corrupt or
foreign entry is ignored and rebuilt, never served.

The entries live in one SQLite file (`render.sqlite`), not a file each: a cold build at 1,000
articles made 1,256 files and folders for them, and creating files is much of what a build
costs the kernel. Each process opens its own connection at its first use (the conversion
workers are forked; an inherited connection is never used, nor closed); SQLite serialises
their writes. A file that is not a database is replaced; any other failure only costs a
conversion.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
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
        self._connection: sqlite3.Connection | None = None
        self._pid = 0  # the process that opened `_connection`

    @property
    def path(self) -> Path | None:
        return None if self.directory is None else self.directory / "render.sqlite"

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

    def _read(self, key: str) -> RenderedBody | None:
        connection = self._connect()
        if connection is None:
            return None
        try:
            row = connection.execute("SELECT entry FROM entries WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        return None if row is None else _entry(bytes(row[0]), key)

    def _write(self, key: str, rendered: RenderedBody) -> None:
        connection = self._connect()
        if connection is None:
            return
        entry = {"format": FORMAT, "key": key, "html": rendered.html}
        entry |= {"excerpt": rendered.excerpt, "toc": rendered.toc}
        payload = json.dumps(entry, ensure_ascii=False).encode()
        checksum = hashlib.sha256(payload).hexdigest().encode()
        # A cache that cannot be written only costs time.
        with contextlib.suppress(sqlite3.Error):
            connection.execute(
                "INSERT OR REPLACE INTO entries (key, entry) VALUES (?, ?)",
                (key, checksum + b"\n" + payload),
            )

    def _connect(self) -> sqlite3.Connection | None:
        """This process's connection, opened at its first use (None: no cache)."""
        if self._pid == os.getpid():
            return self._connection
        self._pid, self._connection = os.getpid(), None
        if self.path is None:
            return None
        try:
            self._connection = _open(self.path)
        except sqlite3.OperationalError:
            pass  # locked for too long, read-only, ...: no cache this time
        except sqlite3.DatabaseError:  # not a database, or a damaged one: start a new one
            _remove(self.path)
            with contextlib.suppress(sqlite3.Error, OSError):
                self._connection = _open(self.path)
        except (sqlite3.Error, OSError):
            pass
        return self._connection


def _open(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Autocommit: each entry is its own transaction, so the workers take turns briefly.
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")  # no fsync per entry
        connection.execute(
            "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, entry BLOB NOT NULL)"
        )
    except sqlite3.Error:
        connection.close()
        raise
    return connection


def _remove(path: Path) -> None:
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)


def _entry(data: bytes, key: str) -> RenderedBody | None:
    """The entry stored under `key`, if it is whole and is that key's."""
    try:
        checksum, _, payload = data.partition(b"\n")
        if hashlib.sha256(payload).hexdigest().encode() != checksum:
            return None
        entry = json.loads(payload)
        if entry.get("format") != FORMAT or entry.get("key") != key:
            return None
        html, excerpt, toc = entry["html"], entry["excerpt"], entry["toc"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not (isinstance(html, str) and isinstance(excerpt, str) and isinstance(toc, list)):
        return None
    return RenderedBody(html, excerpt, toc)
