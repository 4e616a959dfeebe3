"""When digests go out and which articles each one holds.

Each send moment is built from its calendar date and wall-clock time in the site time zone, so a
week that crosses a clock change is 167 or 169 hours long and the cut-off stays at 07:00 local.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from generator.content.articles import Article
from generator.content.site_config import SiteConfig
from generator.errors import PressError


class NotADigestDay(PressError, ValueError):
    """An issue date that is not the site's digest weekday."""


@dataclass(frozen=True)
class DigestWindow:
    issue: date  # the Saturday the digest is for
    start: datetime  # previous send moment, inclusive
    end: datetime  # this send moment, exclusive

    def holds(self, moment: datetime) -> bool:
        # In UTC: Python compares two datetimes sharing a tzinfo by wall clock, ignoring offsets.
        return _utc(self.start) <= _utc(moment) < _utc(self.end)


def send_moment(site: SiteConfig, day: date) -> datetime:
    return datetime.combine(day, site.digest.send_time, tzinfo=site.timezone)


def digest_window(site: SiteConfig, issue: date) -> DigestWindow:
    if issue.weekday() != site.digest.weekday:
        raise NotADigestDay(f"{issue.isoformat()} is not a digest day ({_weekday_name(site)})")
    return DigestWindow(
        issue, send_moment(site, issue - timedelta(days=7)), send_moment(site, issue)
    )


def next_issue_date(site: SiteConfig, now: datetime) -> date:
    """The digest day on or after today, in the site time zone."""
    today = now.astimezone(site.timezone).date()
    return today + timedelta(days=(site.digest.weekday - today.weekday()) % 7)


def upcoming_issue_date(site: SiteConfig, now: datetime) -> date:
    """The first digest day whose send moment is still ahead: what editors are writing for."""
    day = next_issue_date(site, now)
    return day if _utc(now) < _utc(send_moment(site, day)) else day + timedelta(days=7)


def select_week(articles: list[Article], window: DigestWindow, now: datetime) -> list[Article]:
    """Published articles in the window, newest first; drafts and future articles never."""
    chosen = [a for a in articles if a.is_published(now) and window.holds(a.published)]
    return sorted(chosen, key=lambda a: (a.published, a.slug), reverse=True)


def _weekday_name(site: SiteConfig) -> str:
    return ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[
        site.digest.weekday
    ]


def issue_for(site: SiteConfig, published: datetime) -> date:
    """The digest day whose window holds `published`."""
    day = next_issue_date(site, published)
    return day if _utc(published) < _utc(send_moment(site, day)) else day + timedelta(days=7)


def past_issues(site: SiteConfig, articles: list[Article], now: datetime) -> dict[date, list]:
    """Digests already sent (send moment passed), newest first, each with its articles."""
    issues: dict[date, list[Article]] = {}
    for article in sorted(articles, key=lambda a: (a.published, a.slug), reverse=True):
        day = issue_for(site, article.published)
        if article.is_published(now) and send_moment(site, day) <= now:
            issues.setdefault(day, []).append(article)
    return dict(sorted(issues.items(), reverse=True))


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def latest_issue_date(site: SiteConfig, now: datetime) -> date:
    """The most recent digest day whose send moment has passed."""
    day = next_issue_date(site, now)
    return day if _utc(send_moment(site, day)) <= _utc(now) else day - timedelta(days=7)
