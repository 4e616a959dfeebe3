"""The service's mail queue after a crash: `press subscriptions serve` is SIGKILLed while it
sends 500 confirmations to a real SMTP server on 127.0.0.1, and restarted. The restarted
process takes the dead worker's leases within seconds, and its acceptance journal keeps every
message the server accepted before the kill from going out again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from generator.subscribers.mail_queue import MailQueue
from generator.subscribers.store import SubscriberStore

from asgi_server import free_port
from conftest import NOW
from smtp_server import Recorder, smtp_server

KEY = "recovery-test-signing-key-0123456789"
COUNT = 500


def serve(root: Path, database: str, smtp: str, port: int) -> subprocess.Popen:
    """`press subscriptions serve`, its log (standard error) in `service-<port>.log`: a pipe
    nobody reads would fill and stop it."""
    env = {**os.environ, "PRESS_SIGNING_KEY": KEY, "PRESS_DATABASE_URL": database}
    env.pop("SOURCE_DATE_EPOCH", None)  # heartbeats need the real clock
    command = [sys.executable, "-m", "generator", "subscriptions", "serve", "--port", str(port)]
    with (root / f"service-{port}.log").open("wb") as log:
        return subprocess.Popen(
            [*command, "--transport", smtp],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def log_of(root: Path, port: int) -> str:
    return (root / f"service-{port}.log").read_text(encoding="utf-8", errors="replace")


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.slow
def test_sigkills_during_500_confirmations(mail_project):
    root, url, _ = mail_project
    database = url.split(":")[0]
    store = SubscriberStore.open(url, root)
    for index in range(COUNT):
        store.request_subscription(f"reader{index:05}@example.com", "test", NOW)
    recorder = Recorder(delay=0.004)
    kills: list[float] = []
    with smtp_server(recorder) as (smtp, server):
        for point in (60, 200, 330):
            port = free_port()
            child = serve(root, url, smtp, port)
            try:
                assert wait_for(
                    lambda c=child, p=point: server.count() >= p or c.poll() is not None, 60
                )
                assert child.poll() is None, log_of(root, port)
            finally:
                child.send_signal(signal.SIGKILL)
                kills.append(time.monotonic())
                child.wait(timeout=30)
        port = free_port()
        child = serve(root, url, smtp, port)
        restarted = time.monotonic()
        try:
            delivered = lambda: len({r.recipient for r in server.received}) == COUNT  # noqa: E731
            assert wait_for(delivered, 15), f"{len({r.recipient for r in server.received})}"
            took = time.monotonic() - restarted
            assert wait_for(lambda: MailQueue(store.engine).pending() == 0, 10)
        finally:
            child.send_signal(signal.SIGTERM)
            child.wait(timeout=30)
    store.close()
    counts = Counter(r.recipient for r in server.received)
    duplicated = [r for r in server.received if counts[r.recipient] > 1]
    first_copies = {}
    for r in duplicated:
        first_copies.setdefault(r.recipient, r.at)
    # A repeat is only ever the message in flight at a kill: its first copy was accepted at
    # most a moment before the kill (the 250 still on its way), never earlier.
    for recipient, accepted in first_copies.items():
        assert any(-1.0 < kill - accepted < 0.5 for kill in kills), recipient
    assert len(first_copies) <= len(kills), first_copies
    print(
        f"{database}: all {COUNT} delivered {took:.1f} s after the restart, "
        f"{len(first_copies)} repeated for {len(kills)} kills"
    )


def test_a_dead_workers_journal_keeps_its_accepted_mail_from_going_twice(
    project: Path, tmp_path: Path
):
    from datetime import timedelta

    from generator.content.site_config import load_site
    from generator.delivery.journal import AcceptanceJournal
    from generator.delivery.transports import MemoryTransport
    from generator.rate_limit import RateLimiter
    from generator.service.handlers import Service
    from generator.service.mailer import MailWorker
    from generator.subscribers.database import sqlite_sidecar
    from generator.tokens import Signer

    store = SubscriberStore.open(f"sqlite:///{tmp_path / 'subscribers.sqlite3'}", project)
    for name in ("accepted", "unsent"):
        store.request_subscription(f"{name}@example.com", "test", NOW)
    queue = MailQueue(store.engine)
    # A worker claimed both, the server accepted the first, and the process died before the
    # commit: the journal line is all that records it.
    queue.register("a" * 32, NOW)
    claimed = queue.claim_due(NOW, "a" * 32)
    journal = AcceptanceJournal(sqlite_sidecar(store.engine, f".mail-{'a' * 32}.accepted"))
    journal.open()
    journal.append(claimed[0].id, int(NOW.timestamp()), False)
    outbox = MemoryTransport()
    later = NOW + timedelta(seconds=6)  # the dead worker's last beat is now too old
    service = Service(
        load_site(project),
        store,
        Signer(KEY.encode()),
        lambda: outbox,
        lambda: later,
        RateLimiter(0),
    )
    worker = MailWorker(service)
    queue.register(worker.id, later)
    worker.journal.open()
    assert worker.send_due() == 1
    assert [to for _, to, _ in outbox.outbox] == ["unsent@example.com"]
    assert queue.pending() == 0 and not journal.path.exists()
    assert queue.live_workers(later) == {worker.id}
    store.close()
