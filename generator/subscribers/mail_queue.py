"""The service's outgoing mail, kept in the database until a server accepts it.

A subscribe request or a confirmation click only adds a row, in the same transaction as the
state change it follows from, so the request never waits for a mail server and a crash loses
no email. A worker claims due rows with a lease (so two service processes never send the same
row), sends them, and marks each sent, or due again later with a doubling delay.

Each worker has an identity and beats every HEARTBEAT seconds; a lease is held only while its
worker's heartbeat is younger than STALE, so the rows of a killed worker are free for the next
process within seconds, not when LEASE runs out (LEASE still bounds a live worker that hangs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, select, update

from generator.subscribers.database import as_stored, aware, write_lock
from generator.subscribers.schema import mail_queue, mail_workers

LEASE = timedelta(minutes=5)  # longer than sending a batch can take
HEARTBEAT = 1.0  # seconds between a worker's signs of life
STALE = timedelta(seconds=5)  # a worker silent this long is dead
# Each worker's acceptance journal beside a SQLite store (see service/mailer.py).
JOURNAL_SUFFIX = ".mail-{worker}.accepted"
JOURNAL_NAME = re.compile(r"\.mail-([0-9a-f]{32})\.accepted(?:\.folding)?$")


@dataclass(frozen=True)
class QueuedMail:
    id: int
    kind: str
    email: str
    created_at: datetime
    attempts: int


def enqueue_mail(conn: Connection, kind: str, email: str, now: datetime) -> None:
    """Add a row in the caller's transaction: the mail exists exactly when the change does."""
    stamp = as_stored(now)
    conn.execute(
        mail_queue.insert().values(
            kind=kind, email=email, created_at=stamp, due_at=stamp, attempts=0, last_error=""
        )
    )


class MailQueue:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._write_lock = write_lock(engine)

    def register(self, worker: str, now: datetime) -> None:
        stamp = as_stored(now)
        with self._write_lock, self.engine.begin() as conn:
            conn.execute(
                mail_workers.insert().values(id=worker, started_at=stamp, heartbeat_at=stamp)
            )

    def heartbeat(self, worker: str, now: datetime) -> None:
        """A sign of life; a worker another process took for dead registers again."""
        stamp = as_stored(now)
        with self._write_lock, self.engine.begin() as conn:
            beat = conn.execute(
                update(mail_workers).where(mail_workers.c.id == worker).values(heartbeat_at=stamp)
            )
            if beat.rowcount == 0:
                conn.execute(
                    mail_workers.insert().values(id=worker, started_at=stamp, heartbeat_at=stamp)
                )

    def retire(self, worker: str) -> None:
        """A clean stop: the worker's leases are free at once and its row is gone."""
        with self._write_lock, self.engine.begin() as conn:
            conn.execute(
                update(mail_queue)
                .where(mail_queue.c.locked_by == worker)
                .values(locked_until=None, locked_by=None)
            )
            conn.execute(delete(mail_workers).where(mail_workers.c.id == worker))

    def live_workers(self, now: datetime) -> set[str]:
        query = select(mail_workers.c.id).where(
            mail_workers.c.heartbeat_at >= as_stored(now - STALE)
        )
        with self.engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def forget_dead_workers(self, now: datetime) -> None:
        with self._write_lock, self.engine.begin() as conn:
            conn.execute(
                delete(mail_workers).where(mail_workers.c.heartbeat_at < as_stored(now - STALE))
            )

    def claim_due(self, now: datetime, worker: str = "", limit: int = 20) -> list[QueuedMail]:
        """Due rows nobody alive holds, leased to `worker` until now + LEASE."""
        stamp = as_stored(now)
        live = select(mail_workers.c.id).where(
            mail_workers.c.heartbeat_at >= as_stored(now - STALE)
        )
        holder_dead = mail_queue.c.locked_by.is_not(None) & mail_queue.c.locked_by.not_in(live)
        free = (
            mail_queue.c.locked_until.is_(None) | (mail_queue.c.locked_until < stamp) | holder_dead
        )
        query = (
            select(mail_queue)
            .where(mail_queue.c.due_at <= stamp, free)
            .order_by(mail_queue.c.id)
            .limit(limit)
        )
        with self._write_lock, self.engine.begin() as conn:
            rows = conn.execute(query.with_for_update(skip_locked=True)).all()
            if rows:
                ids = [row.id for row in rows]
                lease = as_stored(now + LEASE)
                conn.execute(
                    update(mail_queue)
                    .where(mail_queue.c.id.in_(ids))
                    .values(locked_until=lease, locked_by=worker or None)
                )
        return [
            QueuedMail(row.id, row.kind, row.email, aware(row.created_at), row.attempts)
            for row in rows
        ]

    def mark_sent(self, mail: QueuedMail, now: datetime) -> None:
        self._finish(mail, sent_at=as_stored(now), due_at=None, last_error="")

    def mark_accepted(self, ids: Iterable[int], now: datetime) -> None:
        """What a dead worker's journal says a server accepted: sent, if still due."""
        ids = list(ids)
        if not ids:
            return
        with self._write_lock, self.engine.begin() as conn:
            conn.execute(
                update(mail_queue)
                .where(mail_queue.c.id.in_(ids), mail_queue.c.due_at.is_not(None))
                .values(
                    attempts=mail_queue.c.attempts + 1,
                    sent_at=as_stored(now),
                    due_at=None,
                    last_error="",
                    locked_until=None,
                    locked_by=None,
                )
            )

    def mark_failed(self, mail: QueuedMail, error: str, retry_at: datetime | None) -> None:
        """Due again at `retry_at`; None gives up (the reader can ask again)."""
        due = as_stored(retry_at) if retry_at else None
        self._finish(mail, due_at=due, last_error=error[:500])

    def _finish(self, mail: QueuedMail, **values: object) -> None:
        with self._write_lock, self.engine.begin() as conn:
            conn.execute(
                update(mail_queue)
                .where(mail_queue.c.id == mail.id)
                .values(
                    attempts=mail_queue.c.attempts + 1, locked_until=None, locked_by=None, **values
                )
            )

    def pending(self) -> int:
        """Rows still to send (for tests and the operator)."""
        query = select(mail_queue.c.id).where(mail_queue.c.due_at.is_not(None))
        with self.engine.connect() as conn:
            return len(conn.execute(query).all())

    def oldest_due(self, now: datetime) -> datetime | None:
        """When the longest-waiting due row became due (for /readyz)."""
        query = select(mail_queue.c.due_at).where(mail_queue.c.due_at <= as_stored(now))
        with self.engine.connect() as conn:
            return aware(conn.execute(query.order_by(mail_queue.c.due_at).limit(1)).scalar())
