"""Write MkDocs' pages from several processes: the template rendering of a build, split.

MkDocs reads every page first and then renders each through its template, one after the
other; that second loop is most of a build. Under `press build --jobs N` the loop only
records the pages (`defer`), and the press plugin's `on_post_build`, which runs before the
search plugin writes its index, renders them from N forked processes (`flush`). Each process
renders every N-th page and sends back, per page, what must outlive it: the search entries
the page added and the log records it raised, which are replayed in page order so the
search index and the strict-mode warning count are the same as a serial build's. With `keep`,
each process also sends back what that function reads off each page once it is rendered
(the live preview's record of which articles a page shows), in `results`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from generator.site.forked import Forked
from generator.site.mkdocs_seam import build_page, page_loop_calls, search_entries

Call = tuple[tuple[Any, ...], dict[str, Any]]
Made = tuple[list[dict[str, Any]], Any]  # a page's search entries, and what `keep` read off it


class PageWriter:
    def __init__(self, jobs: int, keep: Callable[[Any], Any] | None = None) -> None:
        self.jobs = jobs
        self.calls: list[Call] = []
        self.render_page: Callable[..., None] = build_page  # MkDocs' own
        self.keep = keep  # called with each page once rendered, in its process
        self.results: list[Made] = []  # per page: entries, kept
        # Pages an earlier build wrote and this one keeps (`press serve`), by their place
        # among the calls: their entries join the index in page order, like a serial build's.
        self.made: dict[int, Made] = {}

    def defer(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append((args, kwargs))

    def already_made(self, entries: list[dict[str, Any]], kept: Any) -> None:
        """A page in the loop that is not rendered again: it keeps `entries` in the index."""
        self.made[len(self.calls)] = (entries, kept)
        self.calls.append(((), {}))

    def flush(self, config: Any) -> None:
        """Render the deferred pages across the processes, then keep their side effects."""
        calls, self.calls = self.calls, []
        made, self.made = self.made, {}
        if not calls:
            return
        entries = search_entries(config)
        jobs = self.jobs if entries is not None else 1
        entries = entries if entries is not None else []
        start = len(entries)
        share = partial(
            _render_share,
            self.render_page,
            jobs=jobs,
            calls=[c for i, c in enumerate(calls) if i not in made],
            entries=entries,
            keep=self.keep,
        )
        children = [Forked(partial(_collect, share, k)) for k in range(1, jobs)]
        results: dict[int, Any] = {}
        try:
            results.update(share(0))
            for child in children:
                results.update(child.result())
        finally:  # no child outlives the flush, even when this process's share failed
            for child in children:
                child.abandon()
        del entries[start:]
        self.results = []
        rendered = iter(range(len(calls) - len(made)))
        for index in range(len(calls)):
            if index in made:
                added, kept = made[index]
                records = []
            else:
                added, records, kept = results[next(rendered)]
                self.results.append((added, kept))
            entries.extend(added)
            for record in records:
                logging.getLogger(record.name).handle(record)


@contextmanager
def pages_deferred(writer: PageWriter) -> Iterator[None]:
    """MkDocs' page loop hands its pages to `writer` instead of rendering them."""
    try:
        with page_loop_calls(writer.defer):
            yield
    finally:
        writer.calls, writer.made = [], {}


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        record.msg, record.args = record.getMessage(), None  # picklable, formatted once
        self.records.append(record)


def _render_share(
    render_page: Callable[..., None],
    k: int,
    *,
    jobs: int,
    calls: list[Call],
    entries: list[dict[str, Any]],
    keep: Callable[[Any], Any] | None = None,
) -> Iterator[tuple[int, tuple[list[dict[str, Any]], list[logging.LogRecord], Any]]]:
    """Renders pages k, k + jobs, …; yields each page's search entries, log records and what
    `keep` reads off it."""
    logger = logging.getLogger("mkdocs")
    for index in range(k, len(calls), jobs):
        args, kwargs = calls[index]
        before, handler = len(entries), _Records()
        saved = logger.handlers, logger.propagate
        logger.handlers, logger.propagate = [handler], False  # replayed in page order later
        try:
            render_page(*args, **kwargs)
        finally:
            logger.handlers, logger.propagate = saved
        kept = keep(args[0]) if keep is not None else None
        yield index, (entries[before:], handler.records, kept)


def _collect(share: Callable[[int], Iterator[Any]], k: int) -> dict[int, Any]:
    return dict(share(k))
