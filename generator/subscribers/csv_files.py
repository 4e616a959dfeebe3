"""CSV import and export of subscribers. Import reads press's own CSV and the exports of
Mailchimp, Substack, Ghost and Buttondown (platform_exports.py), and reports every bad row,
with its line."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from generator.atomic import write_atomically
from generator.content.problems import Problem, display_path
from generator.content.topics import UnknownTopic, checked_topics
from generator.errors import NotARegularFile, require_regular_file
from generator.subscribers.addresses import InvalidAddress, normalise_address
from generator.subscribers.platform_exports import BadValue, consent_time, recognise
from generator.subscribers.store import NewSubscriber, Subscriber

EXPORT_COLUMNS = (
    "email", "status", "source", "created_at", "confirmed_at", "updated_at", "topics",
)  # fmt: skip


@dataclass(frozen=True)
class ImportFile:
    rows: list[NewSubscriber]
    problems: list[Problem]
    repeated: int  # rows whose address appeared earlier in the same file
    platform: str = "press"  # whose export it is (platform_exports.py)
    skipped: dict[str, int] = field(default_factory=dict)  # rows left out there, by reason


def read_import(path: Path, root: Path, categories: tuple[str, ...] | None = None) -> ImportFile:
    """Parse and validate every row of press's own CSV or another platform's export
    (recognised by its header row); nothing is written here. With `categories`, every topic
    named must be one of them."""
    shown = display_path(path, root)
    try:
        require_regular_file(path)
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, NotARegularFile) as exc:
        return ImportFile([], [Problem(shown, 1, 1, f"cannot read the file: {exc}")], 0)
    lines = text.splitlines()
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    platform = recognise(set(header))
    if platform is None:
        hint = (
            "the first line must name the columns, e.g. email,status,source (or be the header "
            "of a Mailchimp, Substack, Ghost or Buttondown export)"
        )
        return ImportFile([], [Problem(shown, 1, 1, "no 'email' column", hint)], 0)
    reader.fieldnames = header
    default_source = (
        f"import:{path.name}"
        if platform.name == "press"
        else (f"import:{platform.name}:{path.name}")
    )
    rows: list[NewSubscriber] = []
    problems: list[Problem] = []
    skipped: Counter[str] = Counter()
    seen: set[str] = set()
    repeated = 0
    for record in reader:
        line = reader.line_num
        record = {
            key: restored(value) if isinstance(value, str) else value
            for key, value in record.items()
        }
        raw = (record.get(platform.email_column) or "").strip()
        try:
            email = normalise_address(raw)
        except InvalidAddress as exc:
            problems.append(Problem(shown, line, _column(lines, line, raw), f"'{raw}': {exc}"))
            continue
        try:
            reading = platform.read(record, set(header))
            consented = consent_time(reading.consented)
            topics = _topics(reading.topics, categories)
        except BadValue as exc:
            problems.append(Problem(shown, line, _column(lines, line, exc.value), str(exc)))
            continue
        if reading.status is None:
            skipped[reading.why] += 1
            continue
        if email in seen:
            repeated += 1
            continue
        seen.add(email)
        source = reading.source if reading.source.strip() else default_source
        rows.append(NewSubscriber(email, reading.status, source, consented, topics))
    return ImportFile(rows, problems, repeated, platform.name, dict(skipped))


def _topics(names: tuple[str, ...], categories: tuple[str, ...] | None) -> tuple[str, ...]:
    if categories is None:
        return names
    try:
        return checked_topics(names, categories)
    except UnknownTopic as exc:
        unknown = next(name for name in names if name not in categories)
        raise BadValue("topics", unknown, str(exc)) from exc


def _column(lines: list[str], line: int, value: str) -> int:
    if not value or not 0 < line <= len(lines):
        return 1
    return lines[line - 1].find(value) + 1 or 1


def export_csv(subscribers: Iterable[Subscriber], path: Path) -> int:
    """Write the subscribers to `path` atomically; returns the number of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for sub in subscribers:
        cells = [neutralised(cell) for cell in (sub.email, sub.status, sub.source)]
        writer.writerow([*cells, *_stamps(sub), neutralised(";".join(sub.topics))])
        count += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, buffer.getvalue().encode("utf-8"))
    return count


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(cell: str) -> str:
    """The cell as a spreadsheet shows it but never runs it: a leading quote (OWASP's rule)."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def restored(cell: str) -> str:
    """The value `neutralised` protected: an export imports back to the same values."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def _stamps(sub: Subscriber) -> list[str]:
    moments = (sub.created_at, sub.confirmed_at, sub.updated_at)
    return [m.isoformat(timespec="seconds") if m else "" for m in moments]
