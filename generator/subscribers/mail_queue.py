"""The service's outgoing mail, kept in the database until a server accepts it.

A subscribe request or a confirmation click only adds a row, in the same transaction as the
state change it follows from, so the request never waits for a mail server and a crash loses
no email. A worker claims due rows with a lease (so two service processes never send the same
row), sends them, and marks each sent, or due again later with a doubling delay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, select, update

from generator.subscribers.database import as_stored, aware, write_lock
from generator.subscribers.schema import mail_queue

LEASE = timedelta(minutes=5)  # longer than sending a batch can take


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

    def claim_due(self, now: datetime, limit: int = 20) -> list[QueuedMail]:
        """Due rows nobody holds, leased to the caller until now + LEASE."""
        stamp = as_stored(now)
        free = mail_queue.c.locked_until.is_(None) | (mail_queue.c.locked_until < stamp)
        query = (
            select(mail_queue)
            .where(mail_queue.c.due_at <= stamp, free)
            .order_by(mail_queue.c.id)
            .limit(limit)
        )
        with self._write_lock, self.engine.begin() as conn:
            rows = conn.execute(query).all()
            if rows:
                ids = [row.id for row in rows]
                lease = as_stored(now + LEASE)
                conn.execute(
                    update(mail_queue).where(mail_queue.c.id.in_(ids)).values(locked_until=lease)
                )
        return [
            QueuedMail(row.id, row.kind, row.email, aware(row.created_at), row.attempts)
            for row in rows
        ]

    def mark_sent(self, mail: QueuedMail, now: datetime) -> None:
        self._finish(mail, sent_at=as_stored(now), due_at=None, last_error="")

    def mark_failed(self, mail: QueuedMail, error: str, retry_at: datetime | None) -> None:
        """Due again at `retry_at`; None gives up (the reader can ask again)."""
        due = as_stored(retry_at) if retry_at else None
        self._finish(mail, due_at=due, last_error=error[:500])

    def _finish(self, mail: QueuedMail, **values: object) -> None:
        with self._write_lock, self.engine.begin() as conn:
            conn.execute(
                update(mail_queue)
                .where(mail_queue.c.id == mail.id)
                .values(attempts=mail_queue.c.attempts + 1, locked_until=None, **values)
            )

    def pending(self) -> int:
        """Rows still to send (for tests and the operator)."""
        query = select(mail_queue.c.id).where(mail_queue.c.due_at.is_not(None))
        with self.engine.connect() as conn:
            return len(conn.execute(query).all())
