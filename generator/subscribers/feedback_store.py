"""What bounces and complaints do to subscribers: the store's rules, applied once per message.

A hard bounce counts towards `delivery.bounce_limit`, like a permanent refusal during a send;
a soft one is recorded and changes nothing; a complaint makes the address `complained`, never
mailed again. Each message is applied in one transaction with its key, so a message ingested
twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, select, update

from generator.subscribers.database import as_stored
from generator.subscribers.schema import feedback_seen, subscriber_events, subscribers
from generator.subscribers.store import SubscriberStore, count_permanent_failure


def apply_feedback(
    store: SubscriberStore,
    key: str,
    feedback: Iterable[tuple[str, str, str]],
    bounce_limit: int,
    now: datetime,
) -> list[str] | None:
    """Apply (kind, recipient, detail) items of one message; None if it was applied before.
    Returns one line per change, for people."""
    with store.transaction() as conn:
        seen = conn.execute(select(feedback_seen.c.key).where(feedback_seen.c.key == key)).first()
        if seen is not None:
            return None
        conn.execute(feedback_seen.insert().values(key=key, ingested_at=as_stored(now)))
        return [
            _apply(conn, kind, email, detail, bounce_limit, now) for kind, email, detail in feedback
        ]


def claim_signature(store: SubscriberStore, token: str, event_key: str, now: datetime) -> bool:
    """False when `token` already vouched for another event: a signature that covers only a
    timestamp and a token (Mailgun's) would otherwise carry any event data inside its time
    window. The same event again (a relay's retry) is fine. Kept durably, in the store."""
    pair = f"{token}|{event_key}"
    with store.transaction() as conn:
        known = set(
            conn.execute(
                select(feedback_seen.c.key).where(feedback_seen.c.key.in_([token, pair]))
            ).scalars()
        )
        if token in known:
            return pair in known
        stamp = as_stored(now)
        conn.execute(
            feedback_seen.insert(), [{"key": k, "ingested_at": stamp} for k in (token, pair)]
        )
        return True


def _apply(
    conn: Connection, kind: str, email: str, detail: str, bounce_limit: int, now: datetime
) -> str:
    row = conn.execute(
        select(subscribers.c.id, subscribers.c.status).where(subscribers.c.email == email)
    ).first()
    if row is None:
        return f"{kind} for {email}: not a subscriber, nothing to change"
    if kind == "unsubscribe":
        conn.execute(
            update(subscribers)
            .where(subscribers.c.id == row.id, subscribers.c.status.in_(("pending", "active")))
            .values(status="unsubscribed", updated_at=as_stored(now))
        )
        return f"unsubscribe ({detail}) from {email}: unsubscribed"
    if kind == "complaint":
        conn.execute(
            update(subscribers)
            .where(subscribers.c.id == row.id)
            .values(status="complained", updated_at=as_stored(now))
        )
        _record(conn, email, f"{row.status} -> complained", f"complaint ({detail})", now)
        return f"complaint ({detail}) from {email}: complained, never mailed again"
    if kind == "hard":
        bounced = count_permanent_failure(conn, row.id, bounce_limit, now)
        _record(conn, email, "hard bounce", detail, now)
        outcome = "now bounced" if bounced else f"counted towards the limit of {bounce_limit}"
        return f"hard bounce {detail} for {email}: {outcome}"
    _record(conn, email, "soft bounce", detail, now)
    return f"soft bounce {detail} for {email}: recorded, still {row.status}"


def _record(conn: Connection, email: str, change: str, reason: str, now: datetime) -> None:
    conn.execute(
        subscriber_events.insert().values(
            email=email, at=as_stored(now), change=change, reason=reason
        )
    )
