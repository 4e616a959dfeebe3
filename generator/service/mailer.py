"""The service's mail worker: sends what the mail queue holds, off the request path.

One thread per service process, woken when a request queues mail (and every few seconds, for
retries and for rows another process left). A failure makes the row due again after a
doubling delay; after MAX_ATTEMPTS the row is given up and the reader can simply ask again.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from generator.delivery.envelope import Envelope
from generator.delivery.ledger import latest_sent_issue
from generator.delivery.transports import DeliveryError, Transport
from generator.service.emails import confirmation_message, confirmation_url, welcome_message
from generator.service.handlers import Service
from generator.subscribers.mail_queue import MailQueue, QueuedMail

STILL_WANTED = {"confirm": "pending", "welcome": "active"}  # the status each mail is for
POLL = 2.0  # seconds between looks at the queue when nothing wakes the worker
MAX_ATTEMPTS = 8
STOP_WAIT = 30.0  # seconds a shutdown waits for the batch being sent


class MailWorker:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.queue = MailQueue(service.store.engine)
        self.envelope = Envelope(service.site, service.signer)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="press-mail", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.service.mail_ready.set()
        self._thread.join(STOP_WAIT)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.service.mail_ready.wait(POLL)
            self.service.mail_ready.clear()
            try:
                while self.send_due() and not self._stop.is_set():
                    pass
            except Exception:
                self._stop.wait(POLL)

    def send_due(self) -> int:
        """Send one batch of due mail; returns how many rows it handled."""
        batch = self.queue.claim_due(self.service.clock())
        if not batch:
            return 0
        transport = self.service.transport()
        try:
            for mail in batch:
                self._send(transport, mail)
        finally:
            transport.close()
        return len(batch)

    def _send(self, transport: Transport, mail: QueuedMail) -> None:
        service = self.service
        subscriber = service.store.get(mail.email)
        status = subscriber.status if subscriber else "erased"
        if status != STILL_WANTED[mail.kind]:
            # Things changed since it was queued (a complaint, a bounce, an unsubscribe): a
            # suppressed address gets nothing, whatever was queued for it before.
            self.queue.mark_failed(mail, f"not sent: the address is {status}", None)
            return
        try:
            message = self._message(mail)
            transport.send(self.envelope.plain, mail.email, message)
        except DeliveryError as exc:
            attempt = mail.attempts + 1
            delay = timedelta(seconds=service.retry_delay * 2 ** (attempt - 1))
            retry = service.clock() + delay if attempt < MAX_ATTEMPTS else None
            self.queue.mark_failed(mail, str(exc), retry)
            return
        self.queue.mark_sent(mail, service.clock())

    def _message(self, mail: QueuedMail) -> bytes:
        """Built when sent, from when it was asked for: the link expires as promised then."""
        site, signer = self.service.site, self.service.signer
        if mail.kind == "welcome":
            latest = latest_sent_issue(self.service.store.engine)
            return welcome_message(site, mail.email, signer, latest, mail.created_at)
        url = confirmation_url(site, signer, mail.email, mail.created_at)
        return confirmation_message(site, mail.email, url, mail.created_at)
