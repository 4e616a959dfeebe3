"""One send per digest at a time, with a lock that dies with its holder.

A lock row with a heartbeat would need a timeout before a crashed send could be resumed. These
locks are released by the operating system (SQLite: flock on a file beside the database) or by
PostgreSQL (a session advisory lock) the moment the holding process dies.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

from generator.errors import PressError
from generator.subscribers.database import sqlite_sidecar


class SendInProgress(PressError, RuntimeError):
    """Another `press send` of the same digest holds the lock."""


@contextmanager
def exclusive_send(engine: Engine, issue: str) -> Iterator[None]:
    path = sqlite_sidecar(engine, f".send-{issue}.lock")
    if path is None:
        with _advisory_lock(engine, issue):
            yield
    else:
        with _file_lock(path, issue):
            yield


@contextmanager
def _file_lock(path: Path, issue: str) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise SendInProgress(_busy(issue)) from exc
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextmanager
def _advisory_lock(engine: Engine, issue: str) -> Iterator[None]:
    key = int.from_bytes(
        hashlib.sha256(f"press-send:{issue}".encode()).digest()[:8], "big", signed=True
    )
    with engine.connect() as conn:
        if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            raise SendInProgress(_busy(issue))
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()


def _busy(issue: str) -> str:
    return f"another press send of the {issue} digest is running; wait for it to finish"
