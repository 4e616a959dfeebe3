"""How a send records each message the mail server accepted, before the worker lets the server
accept that connection's next one (so a crash can cost at most one duplicate per connection).

SQLite ledger: a line in the acceptance journal beside the database, written inline by the
worker, folded into the table every FOLD_EVERY seconds and at the end of each pass.
PostgreSQL ledger: a commit per message on the worker's own connection (the journal would live
on the sending machine's disk, which a scheduled CI runner does not keep).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol

from generator.delivery.journal import AcceptanceJournal, read_journal
from generator.delivery.ledger import Due, Ledger, LedgerWriter

FOLD_ROUNDS = 3  # a crash leaves at most a moved journal and a current one
FOLD_EVERY = 5.0  # seconds: how far the ledger table may lag behind the journal
FOLD_CHUNK = 5000  # journal lines per transaction, so memory does not grow with the send


class AcceptanceRecorder(Protocol):
    def accepted(self, due: Due, writer: LedgerWriter) -> None:
        """Record durably that the server accepted `due`'s message (the worker's own `writer`
        is there for recorders that commit each acceptance)."""
        ...

    def fold_if_due(self) -> None:
        """Bring the ledger table up to date if it has lagged for long enough."""
        ...

    def close(self) -> None: ...


def acceptance_recorder(ledger: Ledger, now: Callable[[], datetime]) -> AcceptanceRecorder:
    path = ledger.journal_path()
    if path is None:
        return CommitRecorder(now)
    return JournalRecorder(ledger, path, now)


def recover_acceptances(ledger: Ledger) -> int:
    """Fold what a killed send journaled but did not fold; returns how many lines."""
    path = ledger.journal_path()
    return 0 if path is None else fold_journal(ledger, AcceptanceJournal(path))


def fold_journal(ledger: Ledger, journal: AcceptanceJournal) -> int:
    folded = 0
    for _ in range(FOLD_ROUNDS):
        taken = journal.take()
        if taken is None:
            break
        for records in read_journal(taken, FOLD_CHUNK):
            ledger.record_accepted(records)
            folded += len(records)
        ledger.checkpoint()  # the WAL reaches the disk before the journal lines are dropped
        journal.forget_taken()
    return folded


class JournalRecorder:
    def __init__(self, ledger: Ledger, path: Path, now: Callable[[], datetime]) -> None:
        self.ledger, self.now = ledger, now
        self.journal = AcceptanceJournal(path)
        self.journal.open()
        self.folded = time.monotonic()

    def accepted(self, due: Due, writer: LedgerWriter) -> None:
        at = int(self.now().timestamp())
        self.journal.append(due.subscriber_id, at, due.bounce_count > 0)

    def fold_if_due(self) -> None:
        # Folding is a transaction and a checkpoint: worth doing every few seconds, not on
        # every page of due rows.
        if time.monotonic() - self.folded >= FOLD_EVERY:
            fold_journal(self.ledger, self.journal)
            self.folded = time.monotonic()

    def close(self) -> None:
        fold_journal(self.ledger, self.journal)
        self.journal.close()


class CommitRecorder:
    """Commits each acceptance on the worker's own connection before it sends again."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self.now = now

    def accepted(self, due: Due, writer: LedgerWriter) -> None:
        writer.sent(due, self.now())

    def fold_if_due(self) -> None:
        pass  # each acceptance is its own commit

    def close(self) -> None:
        pass
