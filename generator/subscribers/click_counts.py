"""Clicks on the article links of each issue, counted by the service's /r/ redirect.

One row per (issue, link, reader): a reader's second click on a link adds to that row's count
but not to the link's unique readers. The reader is a per-issue pseudonym (click_tokens.py),
or "id-<subscriber id>" when the operator counts per reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Insert, func, select
from sqlalchemy.dialects import postgresql, sqlite

from generator.subscribers.database import as_stored
from generator.subscribers.schema import clicks
from generator.subscribers.store import SubscriberStore


@dataclass(frozen=True)
class LinkClicks:
    link: str  # the page's path on the site
    readers: int  # unique
    clicks: int  # every counted click


@dataclass(frozen=True)
class IssueClicks:
    issue: str
    readers: int  # who clicked at least one link
    links: tuple[LinkClicks, ...]  # most readers first


def record_click(store: SubscriberStore, issue: str, link: str, reader: str, now: datetime) -> None:
    with store.transaction() as conn:
        conn.execute(_count_once(conn, issue, link[:500], reader[:40], now))


def _count_once(conn: Connection, issue: str, link: str, reader: str, now: datetime) -> Insert:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    row = {"issue": issue, "link": link, "reader": reader, "first_at": as_stored(now), "count": 1}
    insert = dialect.insert(clicks).values(**row)
    return insert.on_conflict_do_update(
        index_elements=["issue", "link", "reader"], set_={"count": clicks.c.count + 1}
    )


def issue_clicks(conn: Connection, issue: str, top: int = 5) -> IssueClicks:
    """One issue's clickers and its `top` links by unique readers."""
    per_link = (
        select(clicks.c.link, func.count(), func.sum(clicks.c.count))
        .where(clicks.c.issue == issue)
        .group_by(clicks.c.link)
        .order_by(func.count().desc(), clicks.c.link)
        .limit(top)
    )
    readers = select(func.count(clicks.c.reader.distinct())).where(clicks.c.issue == issue)
    links = tuple(
        LinkClicks(link, unique, int(total)) for link, unique, total in conn.execute(per_link)
    )
    return IssueClicks(issue, conn.execute(readers).scalar_one(), links)
