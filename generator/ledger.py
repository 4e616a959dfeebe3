"""The delivery ledger: one row per (issue, subscriber), committed as soon as the mail server
has accepted the message, so a rerun after any failure sends only what is still due.

Statuses: queued (not tried yet), retry (a temporary failure; due again), sent, failed (a
permanent failure; never retried), skipped (no longer active when its turn came).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from queue import SimpleQueue

from sqlalchemy import (
    Connection,
    Engine,
    Update,
    bindparam,
    exists,
    func,
    literal,
    literal_column,
    select,
    update,
)

from generator.database import as_stored, write_lock
from generator.store_schema import deliveries, subscribers

DUE = ("queued", "retry")
_DUE_SQL = (
    "SELECT s.id, s.email, s.status, s.bounce_count FROM subscribers s"
    " JOIN deliveries d ON d.subscriber_id = s.id"
    " WHERE d.issue = {} AND d.status IN ('queued', 'retry') AND d.subscriber_id > {}"
    " ORDER BY d.subscriber_id LIMIT {}"
)


@dataclass(frozen=True)
class Due:
    subscriber_id: int
    email: str
    active: bool
    bounce_count: int


class Ledger:
    def __init__(self, engine: Engine, issue: str) -> None:
        self.engine, self.issue = engine, issue
        self.write_lock = write_lock(engine)

    def enqueue(self, now: datetime) -> int:
        """Add a queued row for every active subscriber who has none; returns how many."""
        stamp = as_stored(now)
        already = exists().where(
            deliveries.c.issue == self.issue, deliveries.c.subscriber_id == subscribers.c.id
        )
        chosen = select(
            literal(self.issue), subscribers.c.id, literal("queued"), literal(0), literal(""),
            literal(stamp, deliveries.c.updated_at.type),
        ).where(subscribers.c.status == "active", ~already)  # fmt: skip
        columns = ["issue", "subscriber_id", "status", "attempts", "last_error", "updated_at"]
        with self.engine.begin() as conn:
            return conn.execute(deliveries.insert().from_select(columns, chosen)).rowcount

    def counts(self) -> dict[str, int]:
        query = (
            select(deliveries.c.status, func.count())
            .where(deliveries.c.issue == self.issue)
            .group_by(deliveries.c.status)
        )
        with self.engine.connect() as conn:
            return {status: number for status, number in conn.execute(query)}

    def due_page(self, after: int, size: int, ids: list[int] | None = None) -> list[Due]:
        """Due rows with subscriber id above `after`, in id order (keyset paging: memory stays
        flat however large the list); `ids` narrows the page to those subscribers.

        It runs on the driver connection: it shares the interpreter with the workers, and
        SQLAlchemy's row processing here slowed every worker down (GIL) by a fifth."""
        named = ":{}" if self.engine.dialect.name == "sqlite" else "%({})s"
        sql = _DUE_SQL.format(*(named.format(n) for n in ("issue", "after", "size")))
        params: dict[str, object] = {"issue": self.issue, "after": after, "size": size}
        if ids is not None:
            marks = ", ".join(named.format(f"id{n}") for n in range(len(ids)))
            sql = sql.replace(" ORDER BY", f" AND d.subscriber_id IN ({marks}) ORDER BY")
            params |= {f"id{n}": value for n, value in enumerate(ids)}
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            raw.commit()
        finally:
            raw.close()
        return [
            Due(sid, email, status == "active", bounces) for sid, email, status, bounces in rows
        ]

    def checkpoint(self) -> None:
        """Copy the SQLite WAL back into the database without blocking the writers."""
        if self.engine.dialect.name == "sqlite":
            raw = self.engine.raw_connection()  # outside any transaction, as SQLite requires
            try:
                raw.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                raw.close()

    def mark_skipped(self, ids: list[int], now: datetime) -> None:
        if ids:
            with self.engine.begin() as conn:
                conn.execute(self._row(ids).values(status="skipped", updated_at=as_stored(now)))

    def _row(self, ids: list[int]) -> Update:
        return update(deliveries).where(
            deliveries.c.issue == self.issue, deliveries.c.subscriber_id.in_(ids)
        )


# Built once: constructing a statement per message costs far more than executing it.
_RECORD = (
    update(deliveries)
    .where(deliveries.c.issue == bindparam("i"), deliveries.c.subscriber_id == bindparam("sid"))
    .values(
        status=bindparam("st"),
        attempts=deliveries.c.attempts + literal_column("1"),
        last_error=bindparam("err"),
        updated_at=bindparam("at", type_=deliveries.c.updated_at.type),
    )
)


class LedgerWriter:
    """One worker's connection to the ledger: each outcome is its own committed transaction.

    Recording an accepted message is the hot path of a send (once per subscriber, between
    two SMTP transactions), so it runs the statement compiled once on the driver connection:
    going through SQLAlchemy's execution machinery cost more than the SMTP client itself.
    """

    def __init__(self, ledger: Ledger) -> None:
        self.issue = ledger.issue
        self.conn: Connection = ledger.engine.connect()
        self.write_lock = ledger.write_lock
        dialect = ledger.engine.dialect
        compiled = _RECORD.compile(dialect=dialect)
        self._sql = str(compiled)
        self._order = compiled.positiontup  # names in order for positional drivers (SQLite)
        stamp_type = deliveries.c.updated_at.type.dialect_impl(dialect)
        self._stamp = stamp_type.bind_processor(dialect) or (lambda value: value)
        # The driver connection under `self.conn`: used only between SQLAlchemy transactions.
        self._raw = self.conn.connection.dbapi_connection
        self._autocommit = dialect.name == "sqlite"  # set up so in database.py
        self._cursor = self._raw.cursor()
        self._stamp_second, self._stamp_value = -1, None
        if self._autocommit:
            # A WAL checkpoint (with its fsync) would otherwise land on whichever commit
            # crosses the threshold, inside a worker; Ledger.checkpoint runs it between pages.
            self._cursor.execute("PRAGMA wal_autocheckpoint=0")

    def sent(self, due: Due, now: datetime) -> None:
        with self.write_lock:
            self._record_fast(due, "sent", now)
            if due.bounce_count:
                self.conn.execute(self._subscriber(due).values(bounce_count=0))
                self.conn.commit()

    def retry(self, due: Due, error: str, now: datetime) -> None:
        with self.write_lock:
            self._record(due, "retry", error, now)
            self.conn.commit()

    def failed(self, due: Due, error: str, now: datetime, bounce_limit: int) -> bool:
        """Record a permanent failure; True when it made the subscriber bounced."""
        with self.write_lock:
            self._record(due, "failed", error, now)
            bounces = subscribers.c.bounce_count + 1
            self.conn.execute(self._subscriber(due).values(bounce_count=bounces))
            bounced = self.conn.execute(
                self._subscriber(due)
                .where(subscribers.c.bounce_count >= bounce_limit, subscribers.c.status == "active")
                .values(status="bounced", updated_at=as_stored(now))
            ).rowcount
            self.conn.commit()
        return bounced == 1

    def _record(self, due: Due, status: str, error: str, now: datetime) -> None:
        values = {"i": self.issue, "sid": due.subscriber_id, "st": status, "err": error[:500]}
        self.conn.execute(_RECORD, {**values, "at": as_stored(now)})

    def _record_fast(self, due: Due, status: str, now: datetime) -> None:
        second = int(now.timestamp())  # the ledger keeps seconds; format each second once
        if second != self._stamp_second:
            self._stamp_second = second
            self._stamp_value = self._stamp(datetime.fromtimestamp(second, UTC))
        values = {"i": self.issue, "sid": due.subscriber_id, "st": status, "err": ""}
        values["at"] = self._stamp_value
        params = tuple(values[name] for name in self._order) if self._order else values
        self._cursor.execute(self._sql, params)
        if not self._autocommit:
            self._raw.commit()

    @staticmethod
    def _subscriber(due: Due) -> Update:
        return update(subscribers).where(subscribers.c.id == due.subscriber_id)

    def close(self) -> None:
        if self._autocommit:
            self._cursor.execute("PRAGMA wal_autocheckpoint=1000")  # the pool reuses it
        self._cursor.close()
        self.conn.close()


Committed = threading.Lock


class CommitPipeline:
    """Records accepted messages from a thread of its own, so a worker's next MAIL and RCPT
    round trips overlap the commit of its last acceptance.

    The worker passes the returned event to the transport as `before_data`: a message is not
    offered to the server before the previous one on that connection is committed, so each
    connection still has at most one accepted message the ledger does not know yet.
    """

    WAIT = 60.0  # seconds; a commit that takes longer means the database is in trouble

    def __init__(self, ledger: Ledger, now: Callable[[], datetime]) -> None:
        self.writer = LedgerWriter(ledger)
        self.now = now
        self.error: BaseException | None = None
        self._queue: SimpleQueue[tuple[Due, Committed] | None] = SimpleQueue()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def submit(self, due: Due) -> Committed:
        done = threading.Lock()  # held until the commit: lighter than an Event, once per email
        done.acquire()
        self._queue.put((due, done))
        return done

    def wait(self, done: Committed) -> None:
        if not done.acquire(timeout=self.WAIT) or self.error is not None:
            raise RuntimeError(f"the ledger could not record a sent message: {self.error}")
        done.release()  # waiting twice (a retry path) must not block

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            due, done = item
            try:
                if self.error is None:
                    self.writer.sent(due, self.now())
            except Exception as exc:  # every waiting worker sees it
                self.error = exc
            finally:
                done.release()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(self.WAIT)
        self.writer.close()
