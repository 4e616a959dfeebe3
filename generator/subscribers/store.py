"""The subscriber store: who receives the digest, in which state, since when and why.

Statuses: pending (asked, not yet confirmed), active, unsubscribed, bounced, complained.
Every write takes the clock as an argument; timestamps are stored in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Insert, false, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from generator.content.topics import stored_topics, topics_of
from generator.errors import PressError
from generator.subscribers.database import (
    DatabaseUnavailable,
    as_stored,
    aware,
    open_engine,
    write_lock,
)
from generator.subscribers.mail_queue import enqueue_mail
from generator.subscribers.migrations import migrate
from generator.subscribers.schema import (
    STATUSES,
    clicks,
    mail_queue,
    subscriber_events,
    subscribers,
)

PAGE = 1000
IN_PAGE = 500  # values in one IN (...): below SQLite's oldest limit of 999
SUPPRESSED = ("bounced", "complained")  # never mailed again without an explicit reactivation


class NotSuppressed(PressError, ValueError):
    """Only a bounced or complained address can be reactivated."""

    def __init__(self, email: str, status: str | None) -> None:
        where = f"is {status}" if status else "is not a subscriber"
        super().__init__(f"{email} {where}; only bounced or complained addresses are reactivated")


# A pending address gets at most one confirmation email in this interval, however often a
# form is submitted for it: the subscribe form must not become a way to mail-bomb someone.
CONFIRMATION_INTERVAL = timedelta(minutes=10)


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    status: str
    source: str
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None
    bounce_count: int
    topics: tuple[str, ...] = ()  # the categories followed; () follows every one
    paused_until: datetime | None = None


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = EPOCH.replace(tzinfo=None)
_MICROSECOND = timedelta(microseconds=1)


def generation_of(confirmed_at: datetime | None) -> int:
    """Which subscription of an address this is: its confirmation moment in microseconds
    (0 for one never confirmed here, e.g. imported). A moment without a zone is UTC, as
    stored; it is taken as it is (a send asks once per subscriber)."""
    if confirmed_at is None:
        return 0
    if confirmed_at.tzinfo is None:
        return (confirmed_at - _NAIVE_EPOCH) // _MICROSECOND
    return (confirmed_at - EPOCH) // _MICROSECOND  # exact, unlike a float


@dataclass(frozen=True)
class NewSubscriber:
    email: str  # already normalised
    status: str = "active"
    source: str = ""
    consented_at: datetime | None = None  # when they subscribed elsewhere (an import)
    topics: tuple[str, ...] = ()


class SubscriberStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Writers queue on a lock instead of SQLite's sleep-and-poll busy handler.
        self._write_lock = write_lock(engine)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction, queued behind this process's other writers (SQLite)."""
        with self._write_lock, self.engine.begin() as conn:
            yield conn

    @classmethod
    def open(cls, url: str, root: Path) -> SubscriberStore:
        """Open and migrate; raises DatabaseUnavailable when the database cannot be used."""
        engine = open_engine(url, root)
        try:
            migrate(engine)
        except SQLAlchemyError as exc:
            engine.dispose()
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise DatabaseUnavailable(f"cannot open the subscriber database: {reason}") from exc
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def add_many(self, rows: Iterable[NewSubscriber], now: datetime) -> int:
        """Insert the rows whose address is new; returns how many were added. Existing
        subscribers are left exactly as they are (an import must never re-activate someone
        who unsubscribed)."""
        added = 0
        with self.transaction() as conn:
            before = _count(conn)
            batch: list[dict[str, Any]] = []
            for row in rows:
                batch.append(_new_row(row, now))
                if len(batch) == PAGE:
                    conn.execute(_insert_ignoring_duplicates(conn), batch)
                    batch = []
            if batch:
                conn.execute(_insert_ignoring_duplicates(conn), batch)
            added = _count(conn) - before
        return added

    def known_addresses(self, emails: Iterable[str]) -> set[str]:
        """Which of `emails` the store already holds, whatever their status."""
        wanted, found = list(emails), set()
        with self.engine.connect() as conn:
            for at in range(0, len(wanted), IN_PAGE):
                page = wanted[at : at + IN_PAGE]
                query = select(subscribers.c.email).where(subscribers.c.email.in_(page))
                found.update(conn.execute(query).scalars())
        return found

    def add(self, row: NewSubscriber, now: datetime) -> bool:
        return self.add_many([row], now) == 1

    def get(self, email: str) -> Subscriber | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(subscribers).where(subscribers.c.email == email)).first()
        return _subscriber(found) if found else None

    def email_of(self, subscriber_id: int | None) -> str | None:
        if subscriber_id is None:
            return None
        query = select(subscribers.c.email).where(subscribers.c.id == subscriber_id)
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one_or_none()

    def request_subscription(
        self, email: str, source: str, now: datetime, topics: tuple[str, ...] = ()
    ) -> bool:
        """Record a double opt-in request; True when it queued a confirmation email. The
        topics chosen on the form apply to a new or returning reader, never to one already
        subscribed (their preferences page is the way to change those)."""
        with self.transaction() as conn:
            conn.execute(
                _insert_ignoring_duplicates(conn),
                [_new_row(NewSubscriber(email, "pending", source, topics=topics), now)],
            )
            # An unsubscribed reader may come back, through the same double opt-in.
            conn.execute(
                update(subscribers)
                .where(
                    subscribers.c.email == email,
                    subscribers.c.status.in_(("unsubscribed", "pending")),
                )
                .values(
                    status="pending",
                    source=source,
                    topics=stored_topics(topics),
                    updated_at=as_stored(now),
                )
            )
            claimed = conn.execute(
                update(subscribers)
                .where(
                    subscribers.c.email == email,
                    subscribers.c.status == "pending",
                    (subscribers.c.confirm_sent_at.is_(None))
                    | (subscribers.c.confirm_sent_at <= as_stored(now - CONFIRMATION_INTERVAL)),
                )
                .values(confirm_sent_at=as_stored(now))
            )
            if claimed.rowcount == 1:
                enqueue_mail(conn, "confirm", email, now)
        return claimed.rowcount == 1

    def confirm(self, email: str, now: datetime) -> bool:
        """pending → active; True if the address is (now) active."""
        with self.transaction() as conn:
            conn.execute(
                update(subscribers)
                .where(subscribers.c.email == email, subscribers.c.status == "pending")
                .values(status="active", confirmed_at=as_stored(now), updated_at=as_stored(now))
            )
            status = conn.execute(
                select(subscribers.c.status).where(subscribers.c.email == email)
            ).scalar_one_or_none()
        return status == "active"

    def claim_welcome(self, email: str, now: datetime) -> bool:
        """Queue the welcome email, exactly once per subscriber ever; True if this did."""
        with self.transaction() as conn:
            claimed = conn.execute(
                update(subscribers)
                .where(
                    subscribers.c.email == email,
                    subscribers.c.status == "active",
                    subscribers.c.welcomed_at.is_(None),
                )
                .values(welcomed_at=as_stored(now))
            )
            if claimed.rowcount == 1:
                enqueue_mail(conn, "welcome", email, now)
        return claimed.rowcount == 1

    def reactivate(self, email: str, reason: str, now: datetime) -> str:
        """Make a bounced or complained address active again, by an operator's explicit
        decision, recorded with its reason; returns the status it had. Nothing else can:
        imports, the form and old confirmation links all leave suppressed addresses alone."""
        with self.transaction() as conn:
            status = conn.execute(
                select(subscribers.c.status).where(subscribers.c.email == email)
            ).scalar_one_or_none()
            if status not in SUPPRESSED:
                raise NotSuppressed(email, status)
            conn.execute(
                update(subscribers)
                .where(subscribers.c.email == email)
                .values(status="active", bounce_count=0, updated_at=as_stored(now))
            )
            conn.execute(
                subscriber_events.insert().values(
                    email=email, at=as_stored(now), change=f"{status} -> active", reason=reason
                )
            )
        return status

    def events(self, email: str) -> list[tuple[datetime, str, str]]:
        """(when, change, reason) of every recorded hand-made change, oldest first."""
        query = (
            select(subscriber_events.c.at, subscriber_events.c.change, subscriber_events.c.reason)
            .where(subscriber_events.c.email == email)
            .order_by(subscriber_events.c.id)
        )
        with self.engine.connect() as conn:
            return [(aware(at), change, reason) for at, change, reason in conn.execute(query)]

    def unsubscribe(self, email: str, now: datetime, generation: int | None = None) -> bool:
        """pending/active → unsubscribed; False if the address is unknown. A bounced or
        complained address keeps that (stronger) status. With `generation`, only the
        subscription of that generation is ended (an older link changes nothing)."""
        with self.transaction() as conn:
            query = update(subscribers).where(
                subscribers.c.email == email, subscribers.c.status.in_(("pending", "active"))
            )
            if generation is not None:
                current = conn.execute(
                    select(subscribers.c.confirmed_at).where(subscribers.c.email == email)
                ).scalar_one_or_none()
                if generation_of(aware(current)) != generation:
                    query = query.where(false())
            conn.execute(query.values(status="unsubscribed", updated_at=as_stored(now)))
            status = conn.execute(
                select(subscribers.c.status).where(subscribers.c.email == email)
            ).scalar_one_or_none()
        return status is not None

    def set_preferences(
        self,
        email: str,
        generation: int,
        topics: tuple[str, ...],
        paused_until: datetime | None,
        now: datetime,
    ) -> bool:
        """Change the topics and pause of the subscription of that generation, if it is still
        pending or active; True when it did. A link from an ended subscription changes nothing."""
        with self.transaction() as conn:
            current = conn.execute(
                select(subscribers.c.confirmed_at).where(subscribers.c.email == email)
            ).first()
            if current is None or generation_of(aware(current[0])) != generation:
                return False
            changed = conn.execute(
                update(subscribers)
                .where(
                    subscribers.c.email == email,
                    subscribers.c.status.in_(("pending", "active")),
                )
                .values(
                    topics=stored_topics(topics),
                    paused_until=as_stored(paused_until) if paused_until else None,
                    updated_at=as_stored(now),
                )
            )
        return changed.rowcount == 1

    def topic_selections(self, now: datetime) -> dict[str, int]:
        """How many subscribers would get an issue now, by stored topics (active, not paused)."""
        query = (
            select(subscribers.c.topics, func.count())
            .where(subscribers.c.status == "active", not_paused(now))
            .group_by(subscribers.c.topics)
        )
        with self.engine.connect() as conn:
            return {topics: number for topics, number in conn.execute(query)}

    def erase(self, email: str) -> bool:
        """Delete every trace of the address (a data-erasure request)."""
        with self.transaction() as conn:
            found = conn.execute(
                select(subscribers.c.id).where(subscribers.c.email == email)
            ).scalar_one_or_none()
            result = conn.execute(subscribers.delete().where(subscribers.c.email == email))
            conn.execute(mail_queue.delete().where(mail_queue.c.email == email))
            if found is not None:  # per-reader click counts name the subscriber
                conn.execute(clicks.delete().where(clicks.c.reader == f"id-{found}"))
        return result.rowcount == 1

    def iter_subscribers(self, status: str | None = None) -> Iterator[Subscriber]:
        """Every subscriber in id order, read a page at a time so memory stays flat."""
        after = 0
        while True:
            query = select(subscribers).where(subscribers.c.id > after)
            if status:
                query = query.where(subscribers.c.status == status)
            with self.engine.connect() as conn:
                page = conn.execute(query.order_by(subscribers.c.id).limit(PAGE)).all()
            yield from (_subscriber(row) for row in page)
            if len(page) < PAGE:
                return
            after = page[-1].id

    def count_by_status(self) -> dict[str, int]:
        query = select(subscribers.c.status, func.count()).group_by(subscribers.c.status)
        with self.engine.connect() as conn:
            found = {status: number for status, number in conn.execute(query)}
        return {status: found.get(status, 0) for status in STATUSES}


def not_paused(now: datetime) -> ColumnElement[bool]:
    return subscribers.c.paused_until.is_(None) | (subscribers.c.paused_until <= as_stored(now))


def count_permanent_failure(
    conn: Connection, subscriber_id: int, bounce_limit: int, now: datetime
) -> bool:
    """A mail server refused this subscriber's address for good: after `bounce_limit` such
    refusals (across issues) an active subscriber becomes bounced. True when this one did it.

    Runs in the caller's transaction, so the delivery outcome and this rule commit together."""
    row = subscribers.c.id == subscriber_id
    conn.execute(update(subscribers).where(row).values(bounce_count=subscribers.c.bounce_count + 1))
    bounced = conn.execute(
        update(subscribers)
        .where(row, subscribers.c.bounce_count >= bounce_limit, subscribers.c.status == "active")
        .values(status="bounced", updated_at=as_stored(now))
    )
    return bounced.rowcount == 1


def clear_failures(conn: Connection, subscriber_ids: list[int]) -> None:
    """A server accepted a message for these subscribers: earlier refusals no longer count."""
    conn.execute(
        update(subscribers).where(subscribers.c.id.in_(subscriber_ids)).values(bounce_count=0)
    )


def _count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(subscribers)).scalar_one()


def _new_row(row: NewSubscriber, now: datetime) -> dict[str, Any]:
    if row.status not in STATUSES:
        raise ValueError(f"unknown status '{row.status}'")
    stamp = as_stored(now)
    # An import keeps when the reader consented on the platform they came from.
    consented = as_stored(row.consented_at) if row.consented_at else stamp
    confirmed = consented if row.status == "active" else None
    return {
        "email": row.email,
        "status": row.status,
        "source": row.source[:200],
        "created_at": consented,
        "updated_at": stamp,
        "confirmed_at": confirmed,
        "confirm_sent_at": None,
        "bounce_count": 0,
        "topics": stored_topics(row.topics),
    }


def _insert_ignoring_duplicates(conn: Connection) -> Insert:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(subscribers).on_conflict_do_nothing(index_elements=["email"])


def _subscriber(row: Any) -> Subscriber:
    return Subscriber(
        id=row.id,
        email=row.email,
        status=row.status,
        source=row.source,
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
        confirmed_at=aware(row.confirmed_at),
        bounce_count=row.bounce_count,
        topics=topics_of(row.topics),
        paused_until=aware(row.paused_until),
    )
