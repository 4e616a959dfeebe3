"""How the service meets the network: uvicorn, with the limits a public endpoint needs.

- A client gets HEADER_TIMEOUT seconds to send a complete request head; a slow or silent
  connection is closed then (uvicorn alone waits forever, so a few thousand idle sockets can
  take every file descriptor). Bodies have their own timeout (requests.BODY_TIMEOUT).
- At most MAX_CONNECTIONS at once; beyond that uvicorn answers 503 at once.
- Forwarded client addresses (X-Forwarded-For) count only from `subscribers.trusted_proxies`:
  trusting them from anywhere would let any client pick its rate-limit bucket.
- Each response leaves in one write, head and body together. uvicorn writes the head as soon
  as the app starts its answer; a process killed between the two writes left the proxy with
  a head and no body, too late to send the request to the other process (nginx resends a
  request only while nothing of the answer has reached the client). Whole or nothing, a
  dying process's answer is either delivered or resent.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT = 10.0  # seconds from connecting (or from the last response) to a full request head
MAX_CONNECTIONS = 4096  # the systemd unit raises the file limit well above this


class OneWriteTransport:
    """A transport that holds a response's head until the first of its body follows, then
    writes both at once. "100 Continue" goes at once: the client waits for it to send the
    body."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._held = b""

    def write(self, data: bytes) -> None:
        if self._held:
            data, self._held = self._held + data, b""
        elif data.startswith(b"HTTP/1.1 ") and not data.startswith(b"HTTP/1.1 100 "):
            self._held = bytes(data)
            return
        self._transport.write(data)

    def flush(self) -> None:
        if self._held:
            held, self._held = self._held, b""
            self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request head, writing each response
    in one piece (OneWriteTransport)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._one_write = OneWriteTransport(transport)
        super().connection_made(self._one_write)  # type: ignore[arg-type]
        self._head_deadline = self.loop.call_later(HEADER_TIMEOUT, self._head_too_slow)

    def on_response_complete(self) -> None:
        self._one_write.flush()
        super().on_response_complete()
        self._head_deadline.cancel()
        self._head_deadline = self.loop.call_later(HEADER_TIMEOUT, self._head_too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_deadline.cancel()
        super().connection_lost(exc)

    def _head_too_slow(self) -> None:
        waiting_for_head = self.cycle is None or self.cycle.response_complete
        if waiting_for_head and not self.transport.is_closing():
            self.transport.close()


def server_config(
    app: Any, host: str, port: int, trusted_proxies: tuple[str, ...]
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=GuardedH11Protocol,
        limit_concurrency=MAX_CONNECTIONS,
        timeout_keep_alive=5,
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=list(trusted_proxies) or None,
        log_level="warning",
        log_config=None,  # records go through configure_logging's key=value handler
        access_log=False,
        lifespan="on",  # starts and stops the mail worker
    )
