"""How a send records each message the mail server accepted, before the worker lets the server
accept that connection's next one (so a crash can cost at most one duplicate per connection).

SQLite ledger: a line in the acceptance journal beside the database, written inline by the
worker, folded into the table every FOLD_EVERY seconds and at the end of each pass.
PostgreSQL ledger: a commit per message, run by a commit thread while the worker's next MAIL
and RCPT round trips go out (the journal would live on the sending machine's disk, which a
scheduled CI runner does not keep).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from queue import SimpleQueue
from typing import Protocol

from generator.acceptance_journal import AcceptanceJournal, read_journal
from generator.ledger import Due, Ledger, LedgerWriter
from generator.transports import Hook

FOLD_ROUNDS = 3  # a crash leaves at most a moved journal and a current one
FOLD_EVERY = 5.0  # seconds: how far the ledger table may lag behind the journal
FOLD_CHUNK = 5000  # journal lines per transaction, so memory does not grow with the send


class AcceptanceRecorder(Protocol):
    def accepted(self, due: Due) -> Hook | None:
        """Record an acceptance; returns what to call before the next DATA on that connection."""
        ...

    def fold_if_due(self) -> None:
        """Bring the ledger table up to date if it has lagged for long enough."""
        ...

    def close(self) -> None: ...


def acceptance_recorder(ledger: Ledger, now: Callable[[], datetime]) -> AcceptanceRecorder:
    path = ledger.journal_path()
    if path is None:
        return CommitPipeline(ledger, now)
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

    def accepted(self, due: Due) -> Hook | None:
        at = int(self.now().timestamp())
        self.journal.append(due.subscriber_id, at, due.bounce_count > 0)
        return None  # already durable: the next message need not wait for anything

    def fold_if_due(self) -> None:
        # Folding is a transaction and a checkpoint: once a page (a fraction of a second)
        # it cost a few percent of the send's speed.
        if time.monotonic() - self.folded >= FOLD_EVERY:
            fold_journal(self.ledger, self.journal)
            self.folded = time.monotonic()

    def close(self) -> None:
        fold_journal(self.ledger, self.journal)
        self.journal.close()


Committed = threading.Lock


class CommitPipeline:
    """Records accepted messages from a thread of its own, so a worker's next MAIL and RCPT
    round trips overlap the commit of its last acceptance.

    The worker passes the hook it returns to the transport as `before_data`: a message is not
    offered to the server before the previous one on that connection is committed.
    """

    WAIT = 60.0  # seconds; a commit that takes longer means the database is in trouble

    def __init__(self, ledger: Ledger, now: Callable[[], datetime]) -> None:
        self.writer = LedgerWriter(ledger)
        self.now = now
        self.error: BaseException | None = None
        self._queue: SimpleQueue[tuple[Due, Committed] | None] = SimpleQueue()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def accepted(self, due: Due) -> Hook | None:
        done = threading.Lock()  # held until the commit: lighter than an Event, once per email
        done.acquire()
        self._queue.put((due, done))
        return lambda: self.wait(done)

    def fold_if_due(self) -> None:
        pass  # each acceptance is its own commit

    def wait(self, done: Committed) -> None:
        if not done.acquire(timeout=self.WAIT) or self.error is not None:
            raise RuntimeError(f"the ledger could not record a sent message: {self.error}")
        done.release()  # waiting twice (a retry path) must not block

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            due, done = item
            try:
                if self.error is None:
                    self.writer.sent(due, self.now())
            except Exception as exc:  # every waiting worker sees it
                self.error = exc
            finally:
                done.release()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(self.WAIT)
        self.writer.close()
