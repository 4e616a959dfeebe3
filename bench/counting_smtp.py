"""Counting SMTP servers on 127.0.0.1, each in its own process so it does not share the GIL with
the sender being measured. They accept every message and keep only a count.

`fast` is a minimal asyncio SMTP responder (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT): it costs
the server so little that the sender is the bottleneck, which is what the ratio must expose.
`aiosmtpd` is the real server used by the tests; on a small machine it is itself the
bottleneck, so ratios against it say little about the sender.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

END_OF_DATA = b"\r\n.\r\n"


class _FastSMTP(asyncio.Protocol):
    def __init__(self, count) -> None:
        self.count, self.buffer, self.in_data, self.recipients = count, b"", False, 0

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(b"220 counting ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.in_data:
                end = self.buffer.find(END_OF_DATA)
                if end < 0:
                    return
                self.buffer = self.buffer[end + len(END_OF_DATA) :]
                self.in_data = False
                with self.count.get_lock():
                    self.count.value += self.recipients
                self.transport.write(b"250 2.0.0 accepted\r\n")
                continue
            line, sep, rest = self.buffer.partition(b"\r\n")
            if not sep:
                return
            self.buffer = rest
            self._command(line[:4].upper())

    def _command(self, verb: bytes) -> None:
        if verb == b"EHLO":
            self.transport.write(b"250-counting\r\n250 8BITMIME\r\n")
        elif verb == b"MAIL":
            self.recipients = 0
            self.transport.write(b"250 2.1.0 OK\r\n")
        elif verb == b"RCPT":
            self.recipients += 1
            self.transport.write(b"250 2.1.5 OK\r\n")
        elif verb == b"DATA":
            self.in_data = True
            self.buffer = b"\r\n" + self.buffer  # the end marker may follow at once
            self.transport.write(b"354 go ahead\r\n")
        elif verb == b"QUIT":
            self.transport.write(b"221 bye\r\n")
            self.transport.close()
        else:  # HELO, RSET, NOOP
            self.transport.write(b"250 OK\r\n")


def _pin(cpu: int | None) -> None:
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})


def _serve_fast(port: int, count, ready, cpu: int | None) -> None:
    _pin(cpu)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        await loop.create_server(lambda: _FastSMTP(count), "127.0.0.1", port)
        ready.set()
        await asyncio.sleep(10**9)

    asyncio.run(run())


class _AiosmtpdCounter:
    def __init__(self, count) -> None:
        self.count = count

    async def handle_DATA(self, server, session, envelope):
        with self.count.get_lock():
            self.count.value += len(envelope.rcpt_tos)
        return "250 OK"


def _serve_aiosmtpd(port: int, count, ready, cpu: int | None) -> None:
    _pin(cpu)
    from aiosmtpd.controller import Controller

    Controller(_AiosmtpdCounter(count), hostname="127.0.0.1", port=port).start()
    ready.set()
    time.sleep(10**9)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def counting_server(kind: str = "fast", cpu: int | None = None) -> Iterator[tuple[str, object]]:
    """Yields (smtp URL, shared count of accepted recipients); `cpu` pins the server to it."""
    target = _serve_fast if kind == "fast" else _serve_aiosmtpd
    context = multiprocessing.get_context("spawn")
    count, ready, port = context.Value("q", 0), context.Event(), free_port()
    process = context.Process(target=target, args=(port, count, ready, cpu), daemon=True)
    process.start()
    if not ready.wait(30):
        process.kill()
        raise RuntimeError("counting SMTP server did not start")
    try:
        yield f"smtp://127.0.0.1:{port}", count
    finally:
        process.kill()
        process.join(10)
