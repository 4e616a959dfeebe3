"""What happened to an issue after it was sent: delivered, failed, bounced, complained, left.

Bounces and complaints that arrive later (ingested reports) and unsubscribes are counted for
the issue whose send they follow: from its start to the next issue's start.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, func, select

from generator.subscribers.click_counts import LinkClicks, issue_clicks
from generator.subscribers.database import as_stored, aware
from generator.subscribers.schema import deliveries, issues, subscriber_events, subscribers

COMPLAINT_RATE = 0.001  # above 0.1% of delivered mail, mailbox providers start to filter
HARD_BOUNCE_RATE = 0.02  # above 2%, the list is old or was not collected with consent


@dataclass(frozen=True)
class IssueReport:
    issue: str
    started_at: str
    recipients: int
    sent: int
    failed: int
    hard_bounces: int
    soft_bounces: int
    complaints: int
    unsubscribes: int
    clickers: int = 0  # readers who clicked at least one article link
    top_links: tuple[LinkClicks, ...] = ()

    @property
    def click_rate(self) -> float:
        """Click-through rate: readers who clicked, per message delivered."""
        return self.clickers / self.sent if self.sent else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complaints / self.sent if self.sent else 0.0

    @property
    def hard_bounce_rate(self) -> float:
        return self.hard_bounces / self.recipients if self.recipients else 0.0

    def warnings(self) -> list[str]:
        found = []
        if self.complaint_rate > COMPLAINT_RATE:
            found.append(
                f"complaint rate {self.complaint_rate:.2%} is over 0.1%: mailbox providers will "
                "start filtering the digest. Check that every address opted in (double opt-in), "
                "make the unsubscribe link prominent, and send only what the signup promised"
            )
        if self.hard_bounce_rate > HARD_BOUNCE_RATE:
            found.append(
                f"hard-bounce rate {self.hard_bounce_rate:.2%} is over 2%: the list holds dead "
                "addresses. Ingest bounces after every send (press bounces ingest) and never "
                "import a list that was not collected with consent"
            )
        return found

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["complaint_rate"] = round(self.complaint_rate, 6)
        data["hard_bounce_rate"] = round(self.hard_bounce_rate, 6)
        data["click_rate"] = round(self.click_rate, 6)
        data["warnings"] = self.warnings()
        return data


def issue_reports(engine: Engine, newest: str | None = None, count: int = 8) -> list[IssueReport]:
    """Reports for the `count` issues sent up to `newest` (default: the latest), newest first."""
    query = select(issues.c.issue, issues.c.started_at).order_by(issues.c.issue.desc())
    if newest:
        query = query.where(issues.c.issue <= newest)
    with engine.connect() as conn:
        started = [(issue, aware(at)) for issue, at in conn.execute(query.limit(count + 1))]
        reports = []
        for index, (issue, at) in enumerate(started[:count]):
            until = started[index - 1][1] if index else None  # the next issue's start
            reports.append(_report(conn, issue, at, until))
    return reports


def _report(conn: Connection, issue: str, start: datetime, until: datetime | None) -> IssueReport:
    counts = dict(
        conn.execute(
            select(deliveries.c.status, func.count())
            .where(deliveries.c.issue == issue)
            .group_by(deliveries.c.status)
        ).all()
    )
    events = {
        change: n
        for change, n in conn.execute(
            select(subscriber_events.c.change, func.count())
            .where(_within(subscriber_events.c.at, start, until))
            .group_by(subscriber_events.c.change)
        )
    }
    complaints = sum(n for change, n in events.items() if change.endswith("-> complained"))
    unsubscribes = conn.execute(
        select(func.count())
        .select_from(subscribers)
        .where(
            subscribers.c.status == "unsubscribed", _within(subscribers.c.updated_at, start, until)
        )
    ).scalar_one()
    clicked = issue_clicks(conn, issue)
    return IssueReport(
        issue=issue,
        started_at=start.isoformat(),
        recipients=sum(counts.values()),
        sent=counts.get("sent", 0),
        failed=counts.get("failed", 0),
        hard_bounces=counts.get("failed", 0) + events.get("hard bounce", 0),
        soft_bounces=events.get("soft bounce", 0),
        complaints=complaints,
        unsubscribes=unsubscribes,
        clickers=clicked.readers,
        top_links=clicked.links,
    )


def _within(column: Any, start: datetime, until: datetime | None) -> ColumnElement[bool]:
    if until is None:
        return column >= as_stored(start)
    return and_(column >= as_stored(start), column < as_stored(until))
