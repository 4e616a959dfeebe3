"""Open the subscriber database: a SQLite file by default, PostgreSQL by URL."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Executable, create_engine, event, make_url

from generator.errors import PressError

# press send holds one connection per SMTP connection (at most 64) plus its reader.
POOL, OVERFLOW = 8, 64
CONNECT_TIMEOUT = 10  # seconds


class DatabaseError(PressError, RuntimeError):
    """The database URL is unusable; the message says how to fix it."""


class DatabaseUnavailable(PressError, RuntimeError):
    """The database is there in name but cannot be used (refused, corrupt, not a database)."""


def open_engine(url: str, root: Path) -> Engine:
    """An engine for `url`; a relative SQLite path is taken from the project root."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise DatabaseError(f"'{url}' is not a database URL") from exc
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed.database, root)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(
            parsed,
            pool_pre_ping=True,
            pool_size=POOL,
            max_overflow=OVERFLOW,
            # An unreachable server fails in seconds instead of holding a request forever.
            connect_args={"connect_timeout": CONNECT_TIMEOUT},
        )
    raise DatabaseError(
        f"unsupported database '{parsed.get_backend_name()}' (use sqlite or postgresql)"
    )


def no_database_yet(url: str, root: Path) -> bool:
    """A SQLite file that does not exist yet (no subscriber has been stored): reading it would
    only create an empty one."""
    try:
        parsed = make_url(url)
    except Exception:
        return False
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return False
    path = Path(parsed.database)
    return not (path if path.is_absolute() else root / path).exists()


def _sqlite_engine(database: str | None, root: Path) -> Engine:
    if not database or database == ":memory:":
        raise DatabaseError("an in-memory SQLite database would lose every subscriber; use a file")
    path = Path(database) if Path(database).is_absolute() else root / database
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=POOL,
        max_overflow=OVERFLOW,
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def _begin_immediate(conn: Any) -> None:
    # Take the write lock up front: a deferred transaction that reads and then writes fails
    # at once with "database is locked" when another writer got there first, whereas
    # BEGIN IMMEDIATE waits (busy_timeout). It also makes DDL transactional for migrations.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    connection.isolation_level = None  # pysqlite's own BEGIN handling off; see _begin_immediate
    # WAL lets the web service read while a send writes; NORMAL sync is durable across a
    # process crash (only a power loss can drop the last commits) and keeps commits cheap.
    cursor = connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "busy_timeout=30000",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def configured_database(configured: str) -> str:
    """The database URL: PRESS_DATABASE_URL when set (it may hold a password), else site.yml."""
    return os.environ.get("PRESS_DATABASE_URL") or configured


_WRITE_LOCKS: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()
_WRITE_LOCKS_GUARD = threading.Lock()


def write_lock(engine: Engine) -> AbstractContextManager[object]:
    """One lock per SQLite database for all of this process's writers (store and ledger alike).

    SQLite lets one writer in at a time and makes the others sleep and poll (1 ms, then longer);
    queueing them on a Python lock hands the database over at once. PostgreSQL needs none.
    """
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(engine, threading.Lock())


def sqlite_sidecar(engine: Engine, suffix: str) -> Path | None:
    """A file beside a SQLite database (`subscribers.send-2026-11-21.lock` for
    `subscribers.sqlite3`); None for a server database, which has no directory of its own."""
    if engine.dialect.name != "sqlite":
        return None
    return Path(str(engine.url.database)).with_suffix(suffix)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def as_stored(moment: datetime) -> datetime:
    """Timestamps are stored in UTC (SQLite keeps no zone and hands them back naive)."""
    return moment.astimezone(UTC)


class DriverStatement:
    """A Core statement compiled once for an engine's dialect, run straight on a DB-API cursor.

    Only for a send's hot paths (once per message, or per page of due rows): there, SQLAlchemy's
    per-execution work (cache lookup, parameter and row processing) cost more than the
    database, and it holds the interpreter lock that the sending threads need."""

    def __init__(self, engine: Engine, statement: Executable) -> None:
        self.engine = engine
        compiled = statement.compile(dialect=engine.dialect)
        self.sql = str(compiled)
        self._order = compiled.positiontup  # parameter names in order, for positional drivers
        # Values the compiler bound itself (SQLite's OFFSET 0 after a LIMIT, say).
        self._fixed = {name: value for name, value in compiled.params.items() if value is not None}

    def execute(self, cursor: Any, values: Mapping[str, object]) -> None:
        values = {**self._fixed, **values}
        params = tuple(values[name] for name in self._order) if self._order else values
        cursor.execute(self.sql, params)

    def fetch_all(self, values: Mapping[str, object]) -> list[tuple]:
        """Run on a pooled driver connection of its own and return every row."""
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            self.execute(cursor, values)
            rows = cursor.fetchall()
            raw.commit()
        finally:
            raw.close()
        return [tuple(row) for row in rows]
