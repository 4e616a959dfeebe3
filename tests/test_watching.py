"""What tells `press serve` of a save (generator/site/watching.py): the kernel's events for
changed files, none for files the build only reads, and polling where the kernel cannot."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers.polling import PollingObserver

from generator.site import watching
from generator.site.watching import changes_observer


class Seen(FileSystemEventHandler):
    def __init__(self) -> None:
        self.events: list[FileSystemEvent] = []
        self.any = threading.Event()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.events.append(event)
            self.any.set()

    def after(self, action: object) -> bool:
        """Whether an event came within 3 s of `action` (already done)."""
        return self.any.wait(timeout=3)

    def reset(self) -> None:
        time.sleep(0.2)  # the rest of one save's events
        self.events.clear()
        self.any.clear()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "content/posts").mkdir(parents=True)
    (tmp_path / "content/posts/a.md").write_text("# A\n")
    (tmp_path / "mkdocs.yml").write_text("site_name: A\n")
    (tmp_path / "notes.txt").write_text("not watched\n")
    return tmp_path


def test_saves_are_seen_and_reads_are_not(project: Path) -> None:
    seen = Seen()
    paths = [project / "content", project / "mkdocs.yml"]
    observer = changes_observer(paths, polling_interval=0.1)
    assert not isinstance(observer, PollingObserver)  # Linux: inotify
    for path in paths:
        observer.schedule(seen, str(path), recursive=True)
    observer.start()
    try:
        post = project / "content/posts/a.md"
        post.read_text()  # the build reads every article: no rebuild for that
        assert not seen.any.wait(timeout=0.5)
        post.write_text("# A, edited\n")
        assert seen.after("edit")
        seen.reset()
        (project / "content/posts/b.md").write_text("# B\n")
        assert seen.after("new")
        seen.reset()
        (project / "content/posts/b.md").unlink()
        assert seen.after("deleted")
        seen.reset()
        for n in range(2):  # an editor's save: a new file renamed over the old one, twice
            new = project / f".mkdocs.yml.{n}"
            new.write_text(f"site_name: B{n}\n")
            seen.reset()
            os.replace(new, project / "mkdocs.yml")
            assert seen.after("replaced"), n
            assert all("mkdocs.yml" in str(e.src_path) + str(e.dest_path) for e in seen.events)
        seen.reset()
        (project / "notes.txt").write_text("beside mkdocs.yml, not watched\n")
        assert not seen.any.wait(timeout=0.5)
    finally:
        observer.stop()
        observer.join(timeout=5)


def test_where_the_kernel_cannot_watch_the_paths_they_are_polled(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def limit(self: object) -> None:
        raise OSError(28, "inotify watch limit reached")

    monkeypatch.setattr(watching._ChangesObserver, "start", limit)
    observer = changes_observer([project / "content"], polling_interval=0.1)
    assert isinstance(observer, PollingObserver)
