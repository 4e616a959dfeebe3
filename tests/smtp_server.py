"""A real SMTP server (aiosmtpd) on 127.0.0.1 that records what it accepts and can misbehave:
answer 4xx or 5xx to chosen recipients, or drop the connection in the middle of a message."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller

from asgi_server import free_port

MESSAGE_ID = re.compile(rb"^Message-ID: <([^>]+)>", re.MULTILINE | re.IGNORECASE)


@dataclass
class Received:
    recipient: str
    message_id: str
    data: bytes
    sender: str = ""  # the envelope sender (MAIL FROM)
    at: float = 0.0  # time.monotonic() when the server accepted it


@dataclass
class Recorder:
    """The handler: `rcpt_answer(address, seen_before)` may return an SMTP reply to refuse a
    recipient; `drop(n)` says whether to cut the n-th DATA transaction off."""

    rcpt_answer: Callable[[str, int], str | None] = lambda address, tries: None
    drop: Callable[[int], bool] = lambda n: False
    delay: float = 0.0  # seconds each DATA takes before the server answers
    frozen: bool = False  # hold each DATA unanswered while set
    refuse_held: bool = False  # answer what was held with 451 and record none of it
    received: list[Received] = field(default_factory=list)
    tries: dict[str, int] = field(default_factory=dict)
    transactions: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            seen = self.tries.get(address, 0)
            self.tries[address] = seen + 1
        answer = self.rcpt_answer(address, seen)
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.transactions += 1
            number = self.transactions
        if self.drop(number):
            server.transport.close()  # the client sees the connection vanish, no reply
            return "421 closing"
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.frozen:
            for _ in range(60_000):  # at most 10 minutes
                if not self.frozen:
                    break
                await asyncio.sleep(0.01)
            if self.refuse_held:
                return "451 4.3.0 Try again later"
        found = MESSAGE_ID.search(envelope.content)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                mid = found[1].decode() if found else ""
                at = time.monotonic()
                self.received.append(Received(rcpt, mid, envelope.content, envelope.mail_from, at))
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self.lock:
            return len(self.received)


@contextmanager
def smtp_server(recorder: Recorder | None = None) -> Iterator[tuple[str, Recorder]]:
    """Yields (transport URL, recorder)."""
    handler = recorder or Recorder()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, data_size_limit=10_000_000)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", handler
    finally:
        controller.stop()
