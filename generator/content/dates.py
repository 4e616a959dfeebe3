"""Article dates: editor text in, one aware datetime in the site time zone out."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from generator.errors import PressError

DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
HINT = "use YYYY-MM-DD or an ISO date-time such as 2026-11-21T07:30"


class DateError(PressError, ValueError):
    def __init__(self, message: str, hint: str = HINT) -> None:
        super().__init__(message)
        self.hint = hint


def parse_article_date(raw: object, tz: ZoneInfo) -> tuple[datetime, bool]:
    """Returns (aware datetime in `tz`, whether only a date was given).

    A naive value is wall-clock time in the site time zone, never the build machine's.
    """
    if isinstance(raw, datetime | date) and not isinstance(raw, bool):
        raw = raw.isoformat()
    if not isinstance(raw, str) or not raw.strip():
        raise DateError(f"'{raw}' is not a date")
    text = raw.strip()
    if DATE_ONLY.match(text):
        day = _real_date(text)
        return datetime.combine(day, time(), tzinfo=tz), True
    if DATE_TIME.match(text):
        return _real_datetime(text, tz), False
    raise DateError(f"'{text}' is not a date")


def _real_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise DateError(f"'{text}' is not a real date ({exc})", "check the day and month") from exc


def _real_datetime(text: str, tz: ZoneInfo) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise DateError(f"'{text}' is not a real date ({exc})", "check the date and time") from exc
    if value.tzinfo is None:
        return value.replace(tzinfo=tz)
    return value.astimezone(tz)
