"""`press subscribers import`: one or more files (press's CSV, or another platform's export,
such as the three files of a Mailchimp audience), checked whole before anything is written,
then added with a report per file.

An address in several files is taken once, with the status that keeps it from being mailed
if any file says so (unsubscribed in one of Mailchimp's files and subscribed in another means
unsubscribed). An address the store already holds is left exactly as it is."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from generator.subscribers.csv_files import ImportFile
from generator.subscribers.store import NewSubscriber, SubscriberStore

# Which reading of an address wins when files disagree: the one that mails least.
PRECEDENCE = {"complained": 0, "bounced": 1, "unsubscribed": 2, "pending": 3, "active": 4}
SUPPRESSED = {"unsubscribed", "bounced", "complained"}


@dataclass
class FileReport:
    name: str
    platform: str
    imported: int = 0  # new subscribers who will be mailed (or asked to confirm)
    unsubscribed: int = 0  # new addresses kept only so they are never mailed
    skipped: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
        skipped = sum(self.skipped.values())
        return (
            f"{self.name} ({self.platform}): imported {self.imported}, unsubscribed "
            f"{self.unsubscribed}, skipped {skipped}" + (f" ({why})" if why else "")
        )


def import_files(
    store: SubscriberStore, files: list[tuple[str, ImportFile]], now: datetime
) -> list[FileReport]:
    """Adds the rows of every file (already read and checked); a report per file."""
    reports = [FileReport(name, parsed.platform) for name, parsed in files]
    chosen: dict[str, tuple[int, NewSubscriber]] = {}
    for n, (_, parsed) in enumerate(files):
        report = reports[n]
        report.skipped.update(parsed.skipped)
        if parsed.repeated:
            report.skipped["repeated in the file"] += parsed.repeated
        if parsed.problems:
            report.skipped["invalid"] += len(parsed.problems)
        for row in parsed.rows:
            earlier = chosen.get(row.email)
            if earlier is None or PRECEDENCE[row.status] < PRECEDENCE[earlier[1].status]:
                if earlier is not None:
                    reports[earlier[0]].skipped["in another file"] += 1
                chosen[row.email] = (n, row)
            else:
                report.skipped["in another file"] += 1
    known = store.known_addresses(chosen)
    new = [(n, row) for email, (n, row) in chosen.items() if email not in known]
    for email in known:
        reports[chosen[email][0]].skipped["already known"] += 1
    store.add_many([row for _, row in new], now)
    for n, row in new:
        if row.status in SUPPRESSED:
            reports[n].unsubscribed += 1
        else:
            reports[n].imported += 1
    return reports
