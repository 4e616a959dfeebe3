"""The service's mail worker: sends what the mail queue holds, off the request path.

One thread per service process, woken when a request queues mail (and every few seconds, for
retries and for rows another process left). A failure makes the row due again after a
doubling delay; after MAX_ATTEMPTS the row is given up and the reader can simply ask again.

Crash safety, as `press send` has it: the worker beats (mail_queue.HEARTBEAT) from a thread of
its own, so a killed process's leases are free within mail_queue.STALE seconds; and with a
SQLite store each message the server accepted is journaled (one line, no commit) before it is
marked sent, so a kill between the server's 250 and that commit does not mail it twice: the
next worker folds a dead worker's journal before it claims anything.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from generator.delivery.envelope import Envelope
from generator.delivery.journal import AcceptanceJournal, read_journal
from generator.delivery.ledger import latest_sent_issue
from generator.delivery.transports import DeliveryError, Transport
from generator.service.emails import confirmation_message, confirmation_url, welcome_message
from generator.service.handlers import Service
from generator.service.logs import log_event
from generator.subscribers.database import sqlite_sidecar
from generator.subscribers.mail_queue import (
    HEARTBEAT,
    JOURNAL_NAME,
    JOURNAL_SUFFIX,
    MailQueue,
    QueuedMail,
)
from generator.subscribers.store import generation_of

STILL_WANTED = {"confirm": "pending", "welcome": "active"}  # the status each mail is for
POLL = 2.0  # seconds between looks at the queue when nothing wakes the worker
MAX_ATTEMPTS = 8
STOP_WAIT = 30.0  # seconds a shutdown waits for the batch being sent


class MailWorker:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.queue = MailQueue(service.store.engine)
        self.envelope = Envelope(service.site, service.signer)
        self.id = uuid.uuid4().hex
        self.journal = _journal(service, self.id)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="press-mail", daemon=True)
        self._beat = threading.Thread(target=self._heartbeat, name="press-beat", daemon=True)

    def start(self) -> None:
        now = self.service.clock()
        self.queue.forget_dead_workers(now)  # their journals are folded by file, not by row
        self.queue.register(self.id, now)
        if self.journal is not None:
            self.journal.open()
        self._beat.start()
        self._thread.start()
        log_event("mail_worker_started", worker=self.id)

    def stop(self) -> None:
        self._stop.set()
        self.service.mail_ready.set()
        self._thread.join(STOP_WAIT)
        self._beat.join(STOP_WAIT)
        if not self._thread.is_alive():
            if self.journal is not None:
                self.journal.close()  # every line it holds was committed after it
            self.queue.retire(self.id)
            log_event("mail_worker_stopped", worker=self.id)

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT):
            try:
                self.queue.heartbeat(self.id, self.service.clock())
            except Exception:  # a database blip: the next beat tries again
                continue

    def _run(self) -> None:
        while not self._stop.is_set():
            self.service.mail_ready.wait(POLL)
            self.service.mail_ready.clear()
            try:
                while self.send_due() and not self._stop.is_set():
                    pass
            except Exception:
                logging.getLogger("press").exception("mail_worker_error", extra={"fields": {}})
                self._stop.wait(POLL)

    def send_due(self) -> int:
        """Send one batch of due mail; returns how many rows it handled."""
        # One moment for both steps: a worker found dead here has had its journal folded
        # before any of its leases can be claimed.
        now = self.service.clock()
        self.recover_dead_journals(now)
        batch = self.queue.claim_due(now, self.id)
        if not batch:
            return 0
        transport = self.service.transport()
        try:
            for mail in batch:
                self._send(transport, mail)
        finally:
            transport.close()
            if self.journal is not None and self.journal.take() is not None:
                self.journal.forget_taken()  # each line's row is marked sent by now
        return len(batch)

    def recover_dead_journals(self, now: datetime) -> int:
        """Mark sent what dead workers' journals say a server accepted; returns how many.
        Runs before every claim, so it asks the database only when another worker's journal
        is there (one process alone has only its own)."""
        if self.journal is None:
            return 0
        others = [(p, m[1]) for p in self._journals() if (m := JOURNAL_NAME.search(p.name))]
        others = [(path, worker) for path, worker in others if worker != self.id]
        if not others:
            return 0
        live = self.queue.live_workers(now)
        recovered = 0
        for path, worker in others:
            if worker in live:
                continue
            try:
                for records in read_journal(path, 1000):
                    self.queue.mark_accepted((r.subscriber_id for r in records), now)
                    recovered += len(records)
            except FileNotFoundError:
                continue  # another worker folded it first (and committed before deleting)
            path.unlink(missing_ok=True)
            log_event("mail_journal_recovered", worker=worker, accepted=recovered)
        return recovered

    def _journals(self) -> list[Path]:
        assert self.journal is not None
        own = self.journal.path
        stem = own.name.removesuffix(JOURNAL_SUFFIX.format(worker=self.id))
        return sorted(own.parent.glob(f"{stem}.mail-*"))

    def _send(self, transport: Transport, mail: QueuedMail) -> None:
        service = self.service
        subscriber = service.store.get(mail.email)
        status = subscriber.status if subscriber else "erased"
        if status != STILL_WANTED[mail.kind]:
            # Things changed since it was queued (a complaint, a bounce, an unsubscribe): a
            # suppressed address gets nothing, whatever was queued for it before.
            self.queue.mark_failed(mail, f"not sent: the address is {status}", None)
            log_event("mail_dropped", kind=mail.kind, id=mail.id, status=status)
            return
        try:
            message = self._message(
                mail, generation_of(subscriber.confirmed_at if subscriber else None)
            )
            transport.send(self.envelope.plain, mail.email, message)
        except DeliveryError as exc:
            attempt = mail.attempts + 1
            delay = timedelta(seconds=service.retry_delay * 2 ** (attempt - 1))
            retry = service.clock() + delay if attempt < MAX_ATTEMPTS else None
            self.queue.mark_failed(mail, str(exc), retry)
            level = logging.WARNING if retry else logging.ERROR
            log_event("mail_failed", level, kind=mail.kind, id=mail.id, attempt=attempt,
                      retry=retry.isoformat() if retry else "never", error=str(exc))  # fmt: skip
            return
        now = service.clock()
        if self.journal is not None:
            self.journal.append(mail.id, int(now.timestamp()), False)
        self.queue.mark_sent(mail, now)
        log_event("mail_sent", kind=mail.kind, id=mail.id, attempt=mail.attempts + 1)

    def _message(self, mail: QueuedMail, generation: int) -> bytes:
        """Built when sent, from when it was asked for: the link expires as promised then."""
        site, signer = self.service.site, self.service.signer
        if mail.kind == "welcome":
            latest = latest_sent_issue(self.service.store.engine)
            return welcome_message(site, mail.email, signer, latest, mail.created_at, generation)
        url = confirmation_url(site, signer, mail.email, mail.created_at)
        return confirmation_message(site, mail.email, url, mail.created_at)


def _journal(service: Service, worker: str) -> AcceptanceJournal | None:
    path: Path | None = sqlite_sidecar(service.store.engine, JOURNAL_SUFFIX.format(worker=worker))
    return AcceptanceJournal(path) if path is not None else None
