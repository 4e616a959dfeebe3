"""The acceptance journal of a send to a SQLite ledger: one line per message the mail server
accepted, written before the worker offers its next message, and folded into the ledger
table every few seconds (and first thing by the next run, after a crash).

Why not a SQLite commit per message: a commit is a large share of the CPU that sending one
message takes, and releases the interpreter lock that the other workers then hold. The
journal is a shared memory map of a file: a line is a copy of about 20 bytes, with no system
call, so the worker never lets go of the interpreter lock for it. Once copied, the line belongs
to the kernel's page cache: it survives the process being killed at any instant, the guarantee
of a SQLite commit with WAL and synchronous=NORMAL; only a power cut can lose it (as it can
lose the last commits).

A line is `subscriber_id accepted_at reset_bounces`. The file grows in zero-filled steps; zero
bytes are never digits, so a line cut short by a kill is not mistaken for a complete one.
Folding moves the journal aside first, so the workers go on writing to a fresh file, and
deletes the moved file only after the ledger has committed (and checkpointed) what it held.
Folding the same lines twice changes nothing: only rows still due become sent.
"""

from __future__ import annotations

import mmap
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

GROWTH = 1 << 20  # bytes the file grows by: about 50,000 lines


class Accepted(NamedTuple):  # a tuple: a fold reads one per message sent
    subscriber_id: int
    at: int  # seconds since the epoch, from the send's clock
    reset_bounces: bool


class AcceptanceJournal:
    """Owned by one send of one issue (the send lock sits beside it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.moved = path.with_name(path.name + ".folding")
        self._lock = threading.Lock()  # a line never lands in a file being moved aside
        self._file: _MappedFile | None = None

    def open(self) -> None:
        self._file = _MappedFile(self.path)

    def append(self, subscriber_id: int, at: int, reset_bounces: bool) -> None:
        line = b"%d %d %d\n" % (subscriber_id, at, reset_bounces)
        with self._lock:
            assert self._file is not None, "open the journal first"
            self._file.write(line)

    def take(self) -> Path | None:
        """Moves what was journaled so far aside and returns where (None: nothing); lines
        from now on go to a new file. Call `forget_taken` once the ledger holds them."""
        with self._lock:
            if self.moved.exists():  # left by a crash before a fold deleted it
                return self.moved
            if self._file is not None:
                self._file.close()
            if _has_lines(self.path):
                os.replace(self.path, self.moved)
            if self._file is not None:
                self._file = _MappedFile(self.path)
        return self.moved if self.moved.exists() else None

    def forget_taken(self) -> None:
        self.moved.unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
        if self.path.exists() and not _has_lines(self.path):
            self.path.unlink()


class _MappedFile:
    """A file written through a shared memory map, from where its complete lines end."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._end = _written_length(path)
        self._map: mmap.mmap | None = None
        self._grow(max(os.fstat(self._fd).st_size, self._end + GROWTH))

    def write(self, line: bytes) -> None:
        assert self._map is not None
        end = self._end + len(line)
        if end > len(self._map):
            self._grow(len(self._map) + GROWTH)
        self._map[self._end : end] = line
        self._end = end

    def _grow(self, size: int) -> None:
        if self._map is not None:
            self._map.close()
        os.ftruncate(self._fd, size)
        self._map = mmap.mmap(self._fd, size)

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None
        os.ftruncate(self._fd, self._end)  # drop the zero tail
        os.close(self._fd)


def _written_length(path: Path) -> int:
    data = path.read_bytes()
    return data.rfind(b"\n") + 1


def _has_lines(path: Path) -> bool:
    return path.exists() and _written_length(path) > 0


def read_journal(path: Path, chunk: int) -> Iterator[list[Accepted]]:
    """The complete lines of a journal, `chunk` at a time; a line cut short by a crash counts
    as not written (at worst that one message is sent again, never lost)."""
    records: list[Accepted] = []
    with path.open("rb") as lines:
        for line in lines:
            fields = line.split()
            if line.endswith(b"\n") and len(fields) == 3 and all(f.isdigit() for f in fields):
                records.append(Accepted(int(fields[0]), int(fields[1]), fields[2] == b"1"))
            if len(records) == chunk:
                yield records
                records = []
    if records:
        yield records
