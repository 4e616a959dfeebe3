"""What tells `press serve` that a file was saved: the kernel, where it can.

MkDocs' live-reload server polls the watched folders (a walk and a stat per file, every
0.1 s here), which at 1,000 articles took a sixth of a core from the rebuild it triggers, in
the same process, and made each save wait for the next poll. `changes_observer` gives it
watchdog's observer for the platform instead (inotify on Linux), told only of changes to
files: reading a file is an event too (inotify's open and close), and the build reads every
article. Where the kernel cannot watch every path (inotify's limits), it polls as MkDocs
does. A watched file (mkdocs.yml) stays watched when an editor saves it by renaming a new
file over it (tests/test_watching.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from watchdog.events import (
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

CHANGES: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    FileClosedEvent,  # closed after writing; watchdog names reading FileClosedNoWriteEvent
]


class _ChangesObserver(Observer):  # type: ignore[misc, valid-type]
    def schedule(
        self,
        event_handler: FileSystemEventHandler,
        path: str | Path,
        *,
        recursive: bool = False,
        event_filter: list[type[FileSystemEvent]] | None = None,
        follow_symlink: bool = False,
    ) -> ObservedWatch:
        return super().schedule(event_handler, path, recursive=recursive, event_filter=CHANGES)


def changes_observer(paths: list[Path], polling_interval: float) -> BaseObserver:
    """An observer for `paths` that the kernel tells of changes, when it can watch them all
    (tried here, so that a limit shows now and not when the server starts); else polling."""
    probe = _ChangesObserver()
    try:
        for path in paths:
            probe.schedule(FileSystemEventHandler(), path, recursive=True)
        probe.start()
    except OSError:
        return PollingObserver(timeout=polling_interval)
    finally:
        _stop(probe)
    return _ChangesObserver()


def _stop(observer: Any) -> None:
    observer.stop()
    if observer.is_alive():
        observer.join(timeout=5)
