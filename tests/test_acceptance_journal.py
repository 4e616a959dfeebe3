"""The acceptance journal of a SQLite send: what it holds survives a kill, and folding it into
the ledger loses nothing and counts nothing twice."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from generator.delivery.acceptance import fold_journal, recover_acceptances
from generator.delivery.journal import AcceptanceJournal, read_journal
from generator.delivery.ledger import Ledger
from generator.subscribers.store import NewSubscriber, SubscriberStore

NOW = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.fixture
def ledger(tmp_path: Path):
    store = SubscriberStore.open(f"sqlite:///{tmp_path / 'subscribers.sqlite3'}", tmp_path)
    store.add_many((NewSubscriber(f"reader{i:05}@example.com") for i in range(3000)), NOW)
    opened = Ledger(store.engine, "2026-11-28")
    opened.enqueue(NOW)
    yield opened
    store.close()


def due_ids(ledger: Ledger) -> list[int]:
    return [due.subscriber_id for due in ledger.due_page(0, 10_000)]


def test_lines_written_before_a_sigkill_count_as_sent_on_the_next_run(ledger: Ledger):
    ids = due_ids(ledger)[:1200]
    writer = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from generator.delivery.journal import AcceptanceJournal\n"
        "journal = AcceptanceJournal(Path(sys.argv[1]))\n"
        "journal.open()\n"
        "for line in sys.stdin:\n"
        "    journal.append(int(line), 1795849200, False)\n"
        "os.kill(os.getpid(), signal.SIGKILL)  # no close, no unmapping, no flush\n"
    )
    killed = subprocess.run(
        [sys.executable, "-c", writer, str(ledger.journal_path())],
        input="\n".join(map(str, ids)) + "\n",
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert killed.returncode == -9, killed.stderr
    assert recover_acceptances(ledger) == 1200
    assert ledger.counts() == {"sent": 1200, "queued": 1800}
    assert not ledger.journal_path().exists()


def test_a_line_cut_short_by_a_crash_is_not_counted(ledger: Ledger):
    first, second, third = due_ids(ledger)[:3]
    path = ledger.journal_path()
    # A kill in the middle of the third line: the rest of the file is still zeros.
    path.write_bytes(
        f"{first} 1795849200 0\n{second} 1795849200 1\n{third} 17958".encode() + bytes(64)
    )
    assert [r.subscriber_id for chunk in read_journal(path, 100) for r in chunk] == [first, second]
    assert recover_acceptances(ledger) == 2
    assert ledger.counts() == {"sent": 2, "queued": 2998}


def test_leftovers_of_a_crash_mid_fold_are_folded_once(ledger: Ledger):
    ids = due_ids(ledger)
    path = ledger.journal_path()
    moved = path.with_name(path.name + ".folding")
    lines = [f"{i} 1795849200 0\n" for i in ids[:20]]
    moved.write_text("".join(lines[:12]))  # a fold moved these aside, then the process died
    path.write_text("".join(lines[8:]))  # the send went on journaling (overlap: 8 to 11)
    assert recover_acceptances(ledger) == 24
    assert ledger.counts() == {"sent": 20, "queued": 2980}
    assert not path.exists() and not moved.exists()
    assert recover_acceptances(ledger) == 0
    assert ledger.counts() == {"sent": 20, "queued": 2980}


def test_folding_while_two_workers_journal_loses_no_line(ledger: Ledger):
    ids = due_ids(ledger)
    journal = AcceptanceJournal(ledger.journal_path())
    journal.open()
    start = threading.Barrier(3, timeout=30)
    underway = [threading.Event(), threading.Event()]

    def work(k: int, share: list[int]) -> None:
        start.wait()
        for n, subscriber_id in enumerate(share, 1):
            journal.append(subscriber_id, 1795849200, False)
            if n == 100:
                underway[k].set()  # lines are there to fold, and more keep coming
            if n % 50 == 0:
                time.sleep(0.001)  # lets the folding thread in mid-stream, as a send does

    workers = [threading.Thread(target=work, args=(k, ids[k::2])) for k in range(2)]
    for worker in workers:
        worker.start()
    start.wait()
    for event in underway:
        assert event.wait(timeout=30)
    folded = fold_journal(ledger, journal)  # while both workers are still writing
    folds_with_lines = int(folded > 0)
    while any(worker.is_alive() for worker in workers) and folds_with_lines < 10_000:
        taken = fold_journal(ledger, journal)
        folds_with_lines += taken > 0
        folded += taken
    for worker in workers:
        worker.join(timeout=30)
    folded += fold_journal(ledger, journal)
    journal.close()
    assert folds_with_lines >= 1  # a fold found lines while the workers were writing
    assert folded == 3000  # every line read exactly once
    assert ledger.counts() == {"sent": 3000}
    assert not ledger.journal_path().exists()
