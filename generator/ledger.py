"""The delivery ledger: one row per (issue, subscriber), committed as soon as the mail server
has accepted the message, so a rerun after any failure sends only what is still due.

Statuses: queued (not tried yet), retry (a temporary failure; due again), sent, failed (a
permanent failure; never retried), skipped (no longer active when its turn came).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, Update, and_, exists, func, literal, select, update

from generator.store_schema import deliveries, subscribers

DUE = ("queued", "retry")


@dataclass(frozen=True)
class Due:
    subscriber_id: int
    email: str
    active: bool
    bounce_count: int


class Ledger:
    def __init__(self, engine: Engine, issue: str) -> None:
        self.engine, self.issue = engine, issue

    def enqueue(self, now: datetime) -> int:
        """Add a queued row for every active subscriber who has none; returns how many."""
        stamp = now.astimezone(UTC)
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
        flat however large the list); `ids` narrows the page to those subscribers."""
        s = subscribers.c
        query = (
            select(s.id, s.email, s.status, s.bounce_count)
            .join(deliveries, and_(deliveries.c.subscriber_id == s.id))
            .where(deliveries.c.issue == self.issue, deliveries.c.status.in_(DUE))
            .where(s.id > after)
            .order_by(s.id)
            .limit(size)
        )  # fmt: skip
        if ids is not None:
            query = query.where(subscribers.c.id.in_(ids))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [Due(r.id, r.email, r.status == "active", r.bounce_count) for r in rows]

    def mark_skipped(self, ids: list[int], now: datetime) -> None:
        if ids:
            with self.engine.begin() as conn:
                conn.execute(self._row(ids).values(status="skipped", updated_at=_utc(now)))

    def _row(self, ids: list[int]) -> Update:
        return update(deliveries).where(
            deliveries.c.issue == self.issue, deliveries.c.subscriber_id.in_(ids)
        )


class LedgerWriter:
    """One worker's connection to the ledger: each outcome is its own committed transaction."""

    def __init__(self, ledger: Ledger) -> None:
        self.issue = ledger.issue
        self.conn: Connection = ledger.engine.connect()

    def sent(self, due: Due, now: datetime) -> None:
        self._record(due, "sent", "", now)
        if due.bounce_count:
            self.conn.execute(self._subscriber(due).values(bounce_count=0))
            self.conn.commit()

    def retry(self, due: Due, error: str, now: datetime) -> None:
        self._record(due, "retry", error, now)

    def failed(self, due: Due, error: str, now: datetime, bounce_limit: int) -> bool:
        """Record a permanent failure; True when it made the subscriber bounced."""
        self._record(due, "failed", error, now, commit=False)
        self.conn.execute(self._subscriber(due).values(bounce_count=subscribers.c.bounce_count + 1))
        bounced = self.conn.execute(
            self._subscriber(due)
            .where(subscribers.c.bounce_count >= bounce_limit, subscribers.c.status == "active")
            .values(status="bounced", updated_at=_utc(now))
        ).rowcount
        self.conn.commit()
        return bounced == 1

    def _record(
        self, due: Due, status: str, error: str, now: datetime, commit: bool = True
    ) -> None:
        self.conn.execute(
            update(deliveries)
            .where(
                deliveries.c.issue == self.issue, deliveries.c.subscriber_id == due.subscriber_id
            )
            .values(
                status=status,
                attempts=deliveries.c.attempts + 1,
                last_error=error[:500],
                updated_at=_utc(now),
            )
        )
        if commit:
            self.conn.commit()

    @staticmethod
    def _subscriber(due: Due) -> Update:
        return update(subscribers).where(subscribers.c.id == due.subscriber_id)

    def close(self) -> None:
        self.conn.close()


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
