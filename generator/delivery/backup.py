"""`press backup` and `press restore`: a consistent copy of the store, taken while the service
and a send run, and put back only where it overwrites nothing live.

A backup is always one SQLite file with press's schema, whatever the store:
- SQLite: SQLite's online backup, taken while this process holds the write lock (writers
  wait the second it takes; readers do not), with the acceptance journals of running sends
  and mail workers, read under the same lock, folded into the copy. So every message a
  server had accepted is in the backup, recorded or only journaled.
- PostgreSQL: a logical copy of every table in one REPEATABLE READ transaction (sends and
  the mail worker commit each acceptance there, so there is no journal to add).
The file is written beside its destination and moved into place, so a failed backup leaves
no half file. Restoring migrates the copy to this version's schema first, so a backup from
an older release restores into a newer one.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, delete, func, insert, select, text

from generator.delivery.journal import Accepted, read_journal
from generator.delivery.ledger import Ledger
from generator.errors import PressError
from generator.subscribers.mail_queue import JOURNAL_NAME, MailQueue
from generator.subscribers.migrations import migrate
from generator.subscribers.schema import metadata

_SEND_JOURNAL = re.compile(r"\.send-(\d{4}-\d{2}-\d{2}(?:-[\w-]+)?)\.accepted(?:\.folding)?$")
CHUNK = 5000  # rows per statement when copying tables


class BackupError(PressError):
    """The backup or restore cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupReport:
    subscribers: int
    journaled: int  # accepted messages taken from journals rather than tables


def backup_store(engine: Engine, destination: Path, now: datetime) -> BackupReport:
    destination = destination.resolve()
    if engine.dialect.name == "sqlite" and destination == Path(str(engine.url.database)).resolve():
        raise BackupError("the backup file cannot be the store itself")
    with _file_beside(destination) as partial:
        if engine.dialect.name == "sqlite":
            journals = _sqlite_snapshot(engine, partial)
        else:
            journals = {}
            copy = _sqlite_engine(partial)
            try:
                _logical_copy(engine, copy, repeatable=True)
            finally:
                copy.dispose()
        copy = _sqlite_engine(partial)
        try:
            journaled = _fold_journals(copy, journals, now)
            with copy.connect() as conn:
                count = conn.execute(select(func.count()).select_from(_table("subscribers")))
                subscribers = count.scalar_one()
        finally:
            copy.dispose()
    return BackupReport(subscribers, journaled)


def _sqlite_snapshot(engine: Engine, partial: Path) -> dict[str, list[Accepted]]:
    """Copy the database and read the journals beside it while no one else can commit: a
    journal line is folded into the table (and deleted) only by a commit, so each accepted
    message is either in the copy or in what was read."""
    source = Path(str(engine.url.database))
    holder = sqlite3.connect(source, timeout=30, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        journals = _read_journals(source)
        reader = sqlite3.connect(source, timeout=30)
        target = sqlite3.connect(partial)
        try:
            reader.backup(target)
        finally:
            target.close()
            reader.close()
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    return journals


def _read_journals(database: Path) -> dict[str, list[Accepted]]:
    """Every journal beside the store, keyed 'send:<issue>' or 'mail'. A journal is read
    before the file a fold moves it to, so a fold in between only repeats lines."""
    found: dict[str, list[Accepted]] = {}
    stem = database.with_suffix("").name
    names = sorted(
        database.parent.glob(f"{stem}.*.accepted*"), key=lambda p: p.name.endswith("folding")
    )
    for path in names:
        send = _SEND_JOURNAL.search(path.name)
        key = f"send:{send[1]}" if send else "mail" if JOURNAL_NAME.search(path.name) else ""
        if not key:
            continue
        with contextlib.suppress(FileNotFoundError):
            for records in read_journal(path, CHUNK):
                found.setdefault(key, []).extend(records)
    return found


def _fold_journals(copy: Engine, journals: dict[str, list[Accepted]], now: datetime) -> int:
    folded = 0
    for key, records in journals.items():
        if key == "mail":
            MailQueue(copy).mark_accepted((r.subscriber_id for r in records), now)
        else:
            Ledger(copy, key.removeprefix("send:")).record_accepted(records)
        folded += len(records)
    return folded


def restore_store(source: Path, engine: Engine, now: datetime, force: bool) -> int:
    """Put the backup `source` in the place of the store; returns its subscriber count."""
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    with _scratch_copy(source, _scratch_folder(engine, source)) as copy_path:
        copy = _sqlite_engine(copy_path)
        try:
            migrate(copy)
            count = _count(copy, "subscribers")
            _refuse_live(engine, now, force)
            if engine.dialect.name == "postgresql":
                migrate(engine)
                _logical_copy(copy, engine, repeatable=False, replace=True)
        finally:
            copy.dispose()
        if engine.dialect.name == "sqlite":
            _replace_sqlite(engine, copy_path)
    return count


@contextlib.contextmanager
def _scratch_copy(source: Path, folder: Path) -> Iterator[Path]:
    """The backup copied into `folder` (so the original is never written), removed after."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".press-restore-", suffix=".sqlite3", dir=folder)
    os.close(fd)
    path = Path(name)
    try:
        _copy_sqlite_file(source, path)
        yield path
    finally:
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)


def _refuse_live(engine: Engine, now: datetime, force: bool) -> None:
    try:
        migrate(engine)
        live = MailQueue(engine).live_workers(now)
        held = _count(engine, "subscribers") + _count(engine, "deliveries")
    except Exception as exc:  # a store that cannot be read holds nothing to lose
        if not force:
            raise BackupError(
                f"the store cannot be read ({type(exc).__name__}); --force replaces it"
            ) from exc
        return
    if live:
        raise BackupError(
            f"a subscription service is running against this store ({len(live)} live mail "
            "worker(s)): stop it first"
        )
    if held and not force:
        raise BackupError(
            f"the store holds {held:,} subscriber and delivery rows; restoring would replace "
            "them: pass --force if that is what you want"
        )


def _replace_sqlite(engine: Engine, partial: Path) -> None:
    target = Path(str(engine.url.database))
    engine.dispose()
    # The old store's journals and WAL belong to it: left beside the new file, SQLite would
    # apply that WAL to it and the next send would fold those journals into it.
    for stale in target.parent.glob(f"{target.with_suffix('').name}.*.accepted*"):
        stale.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(partial, target)


def _logical_copy(source: Engine, target: Engine, repeatable: bool, replace: bool = False) -> None:
    tables = list(metadata.sorted_tables)
    if not replace:
        metadata.create_all(target)
    options = {"isolation_level": "REPEATABLE READ"} if repeatable else {}
    with source.connect().execution_options(**options) as reading, target.begin() as writing:
        if replace:
            for table in reversed(tables):
                writing.execute(delete(table))
        for table in tables:
            for rows in _chunks(reading.execute(select(table)).mappings()):
                writing.execute(insert(table), rows)
        if target.dialect.name == "postgresql":
            _reset_sequences(writing)


def _reset_sequences(conn) -> None:
    """After rows came in with their ids, new rows must not reuse them."""
    for table in metadata.sorted_tables:
        if "id" in table.c and table.c.id.autoincrement is True:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
                )
            )


def _chunks(rows) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        # SQLite hands back the naive UTC it stored; PostgreSQL must be told it is UTC.
        batch.append({k: _utc(v) for k, v in row.items()})
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _utc(value: object) -> object:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _copy_sqlite_file(source: Path, target: Path) -> None:
    try:
        reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            reader.execute("SELECT count(*) FROM press_schema_version").fetchone()
            writer = sqlite3.connect(target)
            try:
                reader.backup(writer)
            finally:
                writer.close()
        finally:
            reader.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source} is not a press backup ({exc})") from exc


def _scratch_folder(engine: Engine, source: Path) -> Path:
    """Beside the SQLite store, so the restored file moves into place atomically."""
    if engine.dialect.name == "sqlite":
        return Path(str(engine.url.database)).resolve().parent
    return source.resolve().parent


def _count(engine: Engine, name: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(_table(name))).scalar_one()


def _table(name: str):
    return metadata.tables[name]


def _sqlite_engine(path: Path) -> Engine:
    return create_engine(f"sqlite:///{path}")


@contextlib.contextmanager
def _file_beside(destination: Path) -> Iterator[Path]:
    """A scratch file in the destination's folder, moved onto it when the block succeeds."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{destination.name}.", dir=destination.parent)
    os.close(fd)
    partial = Path(name)
    partial.unlink()  # sqlite3 creates it
    try:
        yield partial
        if partial.exists():
            os.replace(partial, destination)
    finally:
        for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
            leftover.unlink(missing_ok=True)
