"""The delivery ledger: one row per (issue, subscriber), committed as soon as the mail server
has accepted the message, so a rerun after any failure sends only what is still due.

Statuses: queued (not tried yet), retry (a temporary failure; due again), sent, failed (a
permanent failure; never retried), skipped (no longer active when its turn came).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    Update,
    bindparam,
    case,
    exists,
    func,
    literal,
    literal_column,
    select,
    update,
)

from generator.delivery.journal import Accepted
from generator.subscribers.database import DriverStatement, as_stored, sqlite_sidecar, write_lock
from generator.subscribers.schema import deliveries, issue_variants, issues, subscribers
from generator.subscribers.store import (
    clear_failures,
    count_permanent_failure,
    generation_of,
    not_paused,
)

DUE = ("queued", "retry")


def _due_rows() -> Select:
    """Due rows in subscriber order after a given id: keyset paging keeps memory flat."""
    due = [literal_column(f"'{status}'") for status in DUE]  # constants, so it compiles once
    return (
        select(
            subscribers.c.id,
            subscribers.c.email,
            subscribers.c.status,
            subscribers.c.bounce_count,
            subscribers.c.confirmed_at,
            deliveries.c.variant,
        )
        .join_from(subscribers, deliveries, deliveries.c.subscriber_id == subscribers.c.id)
        .where(
            deliveries.c.issue == bindparam("issue"),
            deliveries.c.status.in_(due),
            deliveries.c.subscriber_id > bindparam("after"),
        )
        .order_by(deliveries.c.subscriber_id)
        .limit(bindparam("size"))
    )


class Due(NamedTuple):  # a tuple: one is made per subscriber, on the sending threads' core
    subscriber_id: int
    email: str
    active: bool
    bounce_count: int
    generation: int = 0  # which subscription of the address (its unsubscribe link names it)
    variant: str = ""  # which rendering of the issue (see digest/variants.py)


def _variant_of(topics: ColumnElement[str], variants: Mapping[str, str] | None) -> ColumnElement:
    """The variant that stored `topics` get, as SQL (every reader's is "" without variants)."""
    if not variants:
        return literal("")
    return case(dict(variants), value=topics, else_=literal(""))


def latest_sent_issue(engine: Engine) -> date | None:
    """The newest issue that reached at least one subscriber."""
    query = select(func.max(deliveries.c.issue)).where(deliveries.c.status == "sent")
    with engine.connect() as conn:
        newest = conn.execute(query).scalar_one_or_none()
    return date.fromisoformat(newest) if newest else None


class Ledger:
    def __init__(self, engine: Engine, issue: str) -> None:
        self.engine, self.issue = engine, issue
        self.write_lock = write_lock(engine)
        self._due_statement = DriverStatement(engine, _due_rows())
        self._fold_statement = DriverStatement(engine, _FOLD)
        self._stamp = stamp_binder(engine)

    def enqueue(self, now: datetime, variants: Mapping[str, str] | None = None) -> int:
        """Add a queued row for every active, unpaused subscriber who has none; returns how
        many. `variants` maps stored topics to the variant their readers get; topics it does
        not name get no row (nothing this week in them). None: everyone gets the whole issue.

        One statement, so the work stays in the database and the subscribers are read once
        however many variants there are."""
        stamp = as_stored(now)
        already = exists().where(
            deliveries.c.issue == self.issue, deliveries.c.subscriber_id == subscribers.c.id
        )
        variant = _variant_of(subscribers.c.topics, variants)
        chosen = select(
            literal(self.issue), subscribers.c.id, literal("queued"), literal(0), literal(""),
            literal(stamp, deliveries.c.updated_at.type), variant,
        ).where(subscribers.c.status == "active", not_paused(now), ~already)  # fmt: skip
        if variants is not None:
            chosen = chosen.where(subscribers.c.topics.in_(list(variants)))
        columns = ["issue", "subscriber_id", "status", "attempts", "last_error", "updated_at"]
        insert = deliveries.insert().from_select([*columns, "variant"], chosen)
        with self.engine.begin() as conn:
            if variants is not None:
                self._repin(conn, variants, now)
            return conn.execute(insert).rowcount

    def _repin(self, conn: Connection, variants: Mapping[str, str], now: datetime) -> None:
        """Rows still due get the variant their reader's topics give now: a reader who changed
        topics mid-send, or an issue whose articles changed, gets what this run renders.

        Correlated on each due row, so a fresh issue (nothing due yet) costs nothing here."""
        due = (deliveries.c.issue == self.issue) & deliveries.c.status.in_(DUE)
        topics = (
            select(subscribers.c.topics)
            .where(subscribers.c.id == deliveries.c.subscriber_id)
            .scalar_subquery()
        )
        # Topics with nothing in this issue any more: no email this week.
        conn.execute(
            update(deliveries)
            .where(due, topics.not_in(list(variants)))
            .values(status="skipped", updated_at=as_stored(now))
        )
        pinned = _variant_of(topics, variants)
        conn.execute(
            update(deliveries).where(due, deliveries.c.variant != pinned).values(variant=pinned)
        )

    def record_variants(
        self, fingerprints: Mapping[str, str], now: datetime, replace: bool = False
    ) -> dict[str, str]:
        """Bind each variant to its fingerprint, as record_fingerprint does for the issue:
        returns the variants whose stored fingerprint differs (variant -> stored). A variant
        new to this issue (a reader chose new topics since it started) is simply added."""
        changed: dict[str, str] = {}
        with self.write_lock, self.engine.begin() as conn:
            rows = select(issue_variants.c.variant, issue_variants.c.fingerprint).where(
                issue_variants.c.issue == self.issue
            )
            stored = {variant: value for variant, value in conn.execute(rows)}
            if not stored:  # a send started before variants: it sent the whole issue
                before = select(issues.c.fingerprint).where(issues.c.issue == self.issue)
                whole = conn.execute(before).scalar_one_or_none()
                stored = {"": whole} if whole else {}
                if whole:
                    values = {"issue": self.issue, "variant": "", "fingerprint": whole}
                    conn.execute(issue_variants.insert().values(**values))
            for variant, fingerprint in sorted(fingerprints.items()):
                before = stored.get(variant)
                if before is None:
                    values = {"issue": self.issue, "variant": variant, "fingerprint": fingerprint}
                    conn.execute(issue_variants.insert().values(**values))
                elif before != fingerprint and replace:
                    conn.execute(
                        issue_variants.update()
                        .where(
                            issue_variants.c.issue == self.issue,
                            issue_variants.c.variant == variant,
                        )
                        .values(fingerprint=fingerprint)
                    )
                elif before != fingerprint:
                    changed[variant] = before
        return changed

    def record_fingerprint(self, fingerprint: str, now: datetime, replace: bool = False) -> str:
        """The fingerprint this issue's send is bound to: the first send stores `fingerprint`;
        a later run gets the stored one back (so the caller can refuse a changed digest),
        unless `replace` rebinds the issue to the new one."""
        row = issues.c.issue == self.issue
        with self.write_lock, self.engine.begin() as conn:
            stored = conn.execute(select(issues.c.fingerprint).where(row)).scalar_one_or_none()
            if stored is None:
                values = {"issue": self.issue, "fingerprint": fingerprint}
                conn.execute(issues.insert().values(**values, started_at=as_stored(now)))
                return fingerprint
            if replace and stored != fingerprint:
                conn.execute(issues.update().where(row).values(fingerprint=fingerprint))
                return fingerprint
        return stored

    def earlier_issues_sent(self) -> bool:
        """Whether any earlier issue went out: the newsletter is running, so a missed issue
        is a fault, not a week from before the first send."""
        query = select(deliveries.c.issue).where(
            deliveries.c.issue < self.issue, deliveries.c.status == "sent"
        )
        with self.engine.connect() as conn:
            return conn.execute(query.limit(1)).first() is not None

    def counts(self) -> dict[str, int]:
        query = (
            select(deliveries.c.status, func.count())
            .where(deliveries.c.issue == self.issue)
            .group_by(deliveries.c.status)
        )
        with self.engine.connect() as conn:
            return {status: number for status, number in conn.execute(query)}

    def due_page(self, after: int, size: int, ids: list[int] | None = None) -> list[Due]:
        """Due rows with subscriber id above `after`, in id order; `ids` narrows the page to
        those subscribers (a retry pass).

        Full pages run a statement compiled once, on the driver connection: the producer shares
        the interpreter with the workers, so its per-row work is kept to a tuple."""
        values = {"issue": self.issue, "after": after, "size": size}
        if ids is None:
            rows = self._due_statement.fetch_all(values)
        else:
            query = _due_rows().where(deliveries.c.subscriber_id.in_(ids))
            with self.engine.connect() as conn:
                rows = [tuple(row) for row in conn.execute(query, values)]
        return [
            Due(sid, email, status == "active", bounces, _generation(confirmed), variant)
            for sid, email, status, bounces, confirmed, variant in rows
        ]

    def checkpoint(self) -> None:
        """Copy the SQLite WAL back into the database without blocking the writers."""
        if self.engine.dialect.name == "sqlite":
            raw = self.engine.raw_connection()  # outside any transaction, as SQLite requires
            try:
                raw.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                raw.close()

    def journal_path(self) -> Path | None:
        """Where this issue's acceptance journal lives; None when the ledger is not SQLite."""
        return sqlite_sidecar(self.engine, f".send-{self.issue}.accepted")

    def record_accepted(self, accepted: list[Accepted]) -> None:
        """Fold journaled acceptances into the table in one transaction (see journal.py);
        rows no longer due are left alone, so folding twice is safe.

        One statement per FOLD_CHUNK rows and second of acceptance times, compiled once and
        run on the driver: SQLAlchemy's work on a 500-id IN list cost twice the database's."""
        by_second: dict[int, list[int]] = {}
        for record in accepted:
            by_second.setdefault(record.at, []).append(record.subscriber_id)
        resets = [record.subscriber_id for record in accepted if record.reset_bounces]
        with self.write_lock, self.engine.begin() as conn:
            cursor = conn.connection.dbapi_connection.cursor()  # inside this transaction
            for second, ids in by_second.items():
                at = self._stamp(datetime.fromtimestamp(second, UTC))
                for chunk in chunked(ids):
                    self._fold_statement.execute(cursor, _fold_values(self.issue, at, chunk))
            cursor.close()
            for chunk in chunked(resets):
                clear_failures(conn, chunk)

    def mark_skipped(self, ids: list[int], now: datetime) -> None:
        if ids:
            with self.engine.begin() as conn:
                conn.execute(self._row(ids).values(status="skipped", updated_at=as_stored(now)))

    def _row(self, ids: list[int]) -> Update:
        return update(deliveries).where(
            deliveries.c.issue == self.issue, deliveries.c.subscriber_id.in_(ids)
        )


# Built once: constructing a statement is more work than executing it, and this runs per message.
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


FOLD_CHUNK = 500  # ids per statement, far below SQLite's limit on bound parameters


def chunked(ids: list[int], size: int = FOLD_CHUNK) -> list[list[int]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


# Accepted rows become sent: FOLD_CHUNK ids per statement, a short list padded with its last.
_FOLD = (
    update(deliveries)
    .where(
        deliveries.c.issue == bindparam("issue"),
        deliveries.c.subscriber_id.in_([bindparam(f"id{n}") for n in range(FOLD_CHUNK)]),
        deliveries.c.status.in_([literal_column(f"'{status}'") for status in DUE]),
    )
    .values(
        status=literal_column("'sent'"),
        attempts=deliveries.c.attempts + literal_column("1"),
        last_error=literal_column("''"),
        updated_at=bindparam("at", type_=deliveries.c.updated_at.type),
    )
)


def _fold_values(issue: str, at: object, ids: list[int]) -> dict[str, object]:
    padded = ids + ids[-1:] * (FOLD_CHUNK - len(ids))
    return {"issue": issue, "at": at, **{f"id{n}": value for n, value in enumerate(padded)}}


def stamp_binder(engine: Engine) -> Callable[[datetime], object]:
    """How the driver takes an `updated_at` value (for statements run on it directly)."""
    dialect = engine.dialect
    stamp_type = deliveries.c.updated_at.type.dialect_impl(dialect)
    return stamp_type.bind_processor(dialect) or (lambda value: value)


class LedgerWriter:
    """One worker's connection to the ledger: each outcome is its own committed transaction.

    Recording an accepted message is the hot path of a send (once per subscriber, between
    two SMTP transactions), so it runs the statement compiled once on the driver connection,
    outside SQLAlchemy's per-execution machinery.
    """

    def __init__(self, ledger: Ledger) -> None:
        self.issue = ledger.issue
        self.conn: Connection = ledger.engine.connect()
        self.write_lock = ledger.write_lock
        dialect = ledger.engine.dialect
        self._statement = DriverStatement(ledger.engine, _RECORD)
        self._stamp = stamp_binder(ledger.engine)
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
                clear_failures(self.conn, [due.subscriber_id])
                self.conn.commit()

    def retry(self, due: Due, error: str, now: datetime) -> None:
        with self.write_lock:
            self._record(due, "retry", error, now)
            self.conn.commit()

    def failed(self, due: Due, error: str, now: datetime, bounce_limit: int) -> bool:
        """Record a permanent failure; True when it made the subscriber bounced."""
        with self.write_lock:
            self._record(due, "failed", error, now)
            bounced = count_permanent_failure(self.conn, due.subscriber_id, bounce_limit, now)
            self.conn.commit()
        return bounced

    def _record(self, due: Due, status: str, error: str, now: datetime) -> None:
        values = {"i": self.issue, "sid": due.subscriber_id, "st": status, "err": error[:500]}
        self.conn.execute(_RECORD, {**values, "at": as_stored(now)})

    def _record_fast(self, due: Due, status: str, now: datetime) -> None:
        second = int(now.timestamp())  # the ledger keeps seconds; format each second once
        if second != self._stamp_second:
            self._stamp_second = second
            self._stamp_value = self._stamp(datetime.fromtimestamp(second, UTC))
        values = {"i": self.issue, "sid": due.subscriber_id, "st": status, "err": ""}
        self._statement.execute(self._cursor, {**values, "at": self._stamp_value})
        if not self._autocommit:
            self._raw.commit()

    def close(self) -> None:
        if self._autocommit:
            self._cursor.execute("PRAGMA wal_autocheckpoint=1000")  # the pool reuses it
        self._cursor.close()
        self.conn.close()


def _generation(confirmed_at: datetime | str | None) -> int:
    """generation_of a driver row's timestamp: SQLite's raw cursor hands back text (UTC)."""
    if isinstance(confirmed_at, str):
        confirmed_at = datetime.fromisoformat(confirmed_at)
    return generation_of(confirmed_at)
