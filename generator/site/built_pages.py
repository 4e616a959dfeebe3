"""The pages of a `press serve` build as MkDocs wrote them, kept to write some of them again.

`recording` watches MkDocs' page loop and keeps, per page, its `_build_page` call, the search
entries it made, the articles it shows and the fingerprint of what it was made from
(page_inputs.py). Given the record of an earlier build into the same folder, a page whose
fingerprint is unchanged is not written again: its file and its search entries stay.
`keeping_site` lets such a build leave the folder in place and afterwards removes what it no
longer makes (a deleted article's page, a pagination page fewer).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.site.mkdocs_seam import (
    build_page,
    page_loop_calls,
    populate_page,
    search_entries,
    site_not_emptied,
)
from generator.site.page_inputs import PagePrints
from generator.site.parallel_pages import PageWriter


@dataclass
class PageRecord:
    page: Any
    call: tuple[tuple[Any, ...], dict[str, Any]]  # MkDocs' `_build_page` arguments
    entries: list[dict[str, Any]]  # what the page added to the search index
    shows: set[Path]  # the articles it shows other than its own
    fingerprint: str | None  # None: write it again whatever the next plan says
    dest: str  # its file, relative to the site folder


@dataclass
class BuiltSite:
    config: Any
    pages: list[PageRecord] = field(default_factory=list)
    at: dict[str, int] = field(default_factory=dict)  # page index by source URI
    kept: int = 0  # pages an earlier build wrote, left as they were

    def record(self, src_uri: str) -> PageRecord | None:
        at = self.at.get(src_uri)
        return self.pages[at] if at is not None else None


@contextmanager
def recording(
    built: BuiltSite, earlier: BuiltSite | None = None, writer: PageWriter | None = None
) -> Iterator[None]:
    """MkDocs' page loop, recorded into `built`; pages unchanged since `earlier` are kept.
    With a `writer` (the first build of `press serve`), the pages are rendered by its
    processes when the press plugin flushes it, and their records completed afterwards."""
    prints: list[PagePrints] = []
    deferred: list[PageRecord] = []
    # With a writer and no earlier build, nothing is kept and no page is rendered here: each
    # page is fingerprinted once the build is over, when the pages whose conversion was
    # deferred (generated_pages.py) have their HTML, as the next build will see them.
    unprinted: list[tuple[PageRecord, Any, dict[str, Any]]] = []
    print_later = earlier is None and writer is not None

    def recorded(page: Any, config: Any, doc_files: Any, nav: Any, *args: Any, **kw: Any) -> None:
        press = config.plugins["press"]
        if not prints:
            prints.append(PagePrints(press))
        shape = {"args": args[1:], **kw}  # after the Jinja environment
        fingerprint = None if print_later else prints[0].of(page, nav, shape)
        entries = search_entries(config)
        src, dest = page.file.src_uri, _relative_dest(page, config)
        old = earlier.record(src) if earlier and entries is not None else None
        later = False  # rendered by the writer's processes
        if old and (old.fingerprint, old.dest) == (fingerprint, dest) and _exists(page):
            assert entries is not None
            if writer is not None:  # joins the index when the writer's pages do
                writer.already_made(old.entries, None)
            else:
                entries.extend(old.entries)
            press.shows[src] = set(old.shows)
            made, built.kept = old.entries, built.kept + 1
        elif writer is not None:
            writer.defer(page, config, doc_files, nav, *args, **kw)
            made, later = [], True  # filled in from the writer's results
        else:
            before = len(entries) if entries is not None else 0
            build_page(page, config, doc_files, nav, *args, **kw)
            made = list(entries[before:]) if entries is not None else []
        shows = set(press.shows.get(src, ()))
        call = ((config, doc_files, nav, *args), kw)
        built.at[src] = len(built.pages)
        built.pages.append(PageRecord(page, call, made, shows, fingerprint, dest))
        if later:
            deferred.append(built.pages[-1])
        if print_later:
            unprinted.append((built.pages[-1], nav, shape))

    with page_loop_calls(recorded):
        yield
    for record, nav, shape in unprinted:
        record.fingerprint = prints[0].of(record.page, nav, shape)
    if writer is not None:
        press = built.config.plugins["press"]
        for record, (entries, shows) in zip(deferred, writer.results, strict=True):
            record.entries, record.shows = list(entries), set(shows)
            press.shows[record.page.file.src_uri] = set(shows)


def _relative_dest(page: Any, config: Any) -> str:
    return os.path.relpath(page.file.abs_dest_path, config.site_dir)


def _exists(page: Any) -> bool:
    return os.path.isfile(page.file.abs_dest_path)


def read_again(record: PageRecord, files: Any) -> None:
    """MkDocs reads the page again (its Markdown events and render)."""
    populate_page(record.page, record.call[0][0], files)


def write_again(record: PageRecord) -> None:
    """MkDocs writes the page again; its search entries are replaced."""
    args, kwargs = record.call
    entries = search_entries(args[0])
    assert entries is not None
    before = len(entries)
    build_page(record.page, *args, **kwargs)
    record.entries = entries[before:]
    record.fingerprint = None  # made from the edited article, not what the plan recorded
    del entries[before:]


def write_all_again(records: list[PageRecord], writer: PageWriter) -> None:
    """`write_again` for each record, the pages rendered by `writer`'s processes; what each
    page shows is read off it by the writer's `keep`."""
    if not records:
        return
    for record in records:
        args, kwargs = record.call
        writer.defer(record.page, *args, **kwargs)
    config = records[0].call[0][0]
    entries = search_entries(config)
    assert entries is not None
    before = len(entries)
    writer.flush(config)
    del entries[before:]
    press = config.plugins["press"]
    for record, (made, shows) in zip(records, writer.results, strict=True):
        record.entries, record.fingerprint = list(made), None
        press.shows[record.page.file.src_uri] = set(shows)


def write_search_index(built: BuiltSite) -> None:
    """The search index from every page's entries, in page order, as a build writes it."""
    entries = search_entries(built.config)
    assert entries is not None
    entries[:] = [entry for record in built.pages for entry in record.entries]
    for plugin in built.config.plugins.values():
        if getattr(plugin, "search_index", None) is not None:
            plugin.on_post_build(config=built.config)


class KeptSite:
    """A build into a folder it does not empty first: see `keeping_site`."""

    def __init__(self, site_dir: Path) -> None:
        self.site_dir = site_dir
        marker = site_dir / ".press-build-started"
        marker.write_bytes(b"")
        # File times come from the same coarse clock: anything this build writes is at least
        # as new as the marker, and the last build ended long before it was made.
        self.started = marker.stat().st_mtime_ns
        marker.unlink()

    def remove_unmade(self, kept: set[str]) -> int:
        """Removes the files this build neither wrote nor kept; returns how many."""
        removed = 0
        for folder, _dirs, names in os.walk(self.site_dir, topdown=False):
            for name in names:
                path = os.path.join(folder, name)
                relative = os.path.relpath(path, self.site_dir)
                if relative not in kept and os.stat(path).st_mtime_ns < self.started:
                    os.unlink(path)
                    removed += 1
            if folder != str(self.site_dir) and not os.listdir(folder):
                os.rmdir(folder)
        return removed


@contextmanager
def keeping_site(site_dir: Path) -> Iterator[KeptSite]:
    """MkDocs' build without its emptying of the site folder first."""
    kept = KeptSite(site_dir)
    with site_not_emptied():
        yield kept
