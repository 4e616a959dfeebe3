"""The subscriber exports of the platforms people leave, recognised by their header row, and
each row read as a press subscriber: its status, when it consented and where it came from.

Columns are those each platform documents for its export:
- Mailchimp's audience export: one file per section, "Email Address", OPTIN_TIME and
  CONFIRM_TIME; the unsubscribed file adds UNSUB_TIME, the cleaned one (hard bounces) CLEAN_TIME.
- Substack's subscriber export: email, active_subscription, email_disabled, created_at.
- Ghost's members export: email, subscribed_to_emails, created_at (email_disabled on newer
  versions: Ghost stopped mailing the address after bounces or a complaint).
- Buttondown's subscriber export: email (or email_address), subscriber_type (or type),
  creation_date, referrer_url.
- press's own export: email, status, source, created_at, confirmed_at, topics (";"-separated).
Whoever left or bounced there is imported as unsubscribed or bounced, so never mailed here;
whoever never confirmed there is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from generator.subscribers.schema import STATUSES

Row = dict[str, str]


@dataclass(frozen=True)
class Reading:
    """One row as press reads it. `status` None: skipped, for the reason in `why`."""

    status: str | None
    why: str = ""
    consented: str = ""  # the platform's own date text, parsed by `consent_time`
    source: str = ""
    topics: tuple[str, ...] = ()  # press's own export: the categories followed


@dataclass(frozen=True)
class Platform:
    name: str
    email_column: str
    matches: Callable[[set[str]], bool]
    read: Callable[[Row, set[str]], Reading]


class BadValue(ValueError):
    """A cell press cannot read: its column, its text as written, and what is wrong."""

    def __init__(self, column: str, value: str, message: str) -> None:
        super().__init__(message)
        self.column, self.value = column, value


def _flag(row: Row, column: str) -> bool:
    value = (row.get(column) or "").strip().lower()
    if value in ("true", "1", "yes", "t", "y"):
        return True
    if value in ("false", "0", "no", "f", "n", ""):
        return False
    raise BadValue(column, value, f"{column} '{value}' is neither true nor false")


def _mailchimp(row: Row, header: set[str]) -> Reading:
    consented = row.get("confirm_time") or row.get("optin_time") or ""
    if "clean_time" in header:  # the cleaned section: addresses Mailchimp found undeliverable
        return Reading("bounced", consented=consented)
    if "unsub_time" in header:
        return Reading("unsubscribed", consented=consented)
    return Reading("active", consented=consented)


def _flagged(subscribed: str) -> Callable[[Row, set[str]], Reading]:
    """Substack's and Ghost's rows: bounced when the platform disabled the address (their
    `email_disabled`), unsubscribed unless the `subscribed` column says yes."""

    def read(row: Row, header: set[str]) -> Reading:
        consented = row.get("created_at", "")
        if "email_disabled" in header and _flag(row, "email_disabled"):
            return Reading("bounced", consented=consented)
        if not _flag(row, subscribed):
            return Reading("unsubscribed", consented=consented)
        return Reading("active", consented=consented)

    return read


BUTTONDOWN_ACTIVE = {
    "regular",
    "premium",
    "trialed",
    "unpaid",
    "gifted",
    "churning",
    "paused",
    "past_due",
}
# Told apart in the report, but none of them is ever mailed here.
BUTTONDOWN_GONE = {"unsubscribed", "removed", "spammy"}


def _buttondown(row: Row, header: set[str]) -> Reading:
    column = "subscriber_type" if "subscriber_type" in header else "type"
    kind = (row.get(column) or "regular").strip().lower()
    consented, source = row.get("creation_date", ""), row.get("referrer_url", "")
    if kind in BUTTONDOWN_ACTIVE:
        return Reading("active", consented=consented, source=source)
    if kind in BUTTONDOWN_GONE:
        return Reading("unsubscribed", consented=consented, source=source)
    if kind == "unactivated":
        return Reading(None, "not confirmed there")
    raise BadValue(column, kind, f"{column} '{kind}' is not a Buttondown subscriber type")


def _press(row: Row, header: set[str]) -> Reading:
    status = (row.get("status") or "active").strip().lower()
    if status not in STATUSES:
        allowed = ", ".join(STATUSES)
        raise BadValue("status", status, f"status '{status}' is not one of {allowed}")
    consented = row.get("confirmed_at") or row.get("created_at") or ""
    topics = tuple(name.strip() for name in (row.get("topics") or "").split(";") if name.strip())
    return Reading(status, consented=consented, source=row.get("source", ""), topics=topics)


PLATFORMS = (
    Platform("mailchimp", "email address", lambda h: "email address" in h, _mailchimp),
    Platform(
        "substack",
        "email",
        lambda h: {"email", "active_subscription"} <= h,
        _flagged("active_subscription"),
    ),
    Platform(
        "ghost",
        "email",
        lambda h: {"email", "subscribed_to_emails"} <= h,
        _flagged("subscribed_to_emails"),
    ),
    Platform(
        "buttondown",
        "email",
        lambda h: "creation_date" in h and bool({"subscriber_type", "type"} & h),
        _buttondown,
    ),
    Platform("press", "email", lambda h: "email" in h, _press),
)


def recognise(header: set[str]) -> Platform | None:
    """The platform whose export has this header row (lower-cased column names)."""
    for platform in PLATFORMS:
        if platform.matches(header):
            if platform.name == "buttondown" and "email" not in header:
                return Platform("buttondown", "email_address", platform.matches, platform.read)
            return platform
    return None


def consent_time(text: str) -> datetime | None:
    """A platform's date ("2024-03-01 09:30:00", ISO 8601 with Z or an offset) as UTC; an
    empty cell is no date."""
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadValue("date", text, f"'{text}' is not a date and time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
