"""Run an ASGI app on uvicorn, on 127.0.0.1, in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running(
    app: Any, trusted_proxies: tuple[str, ...] | None = None, port: int | None = None
) -> Iterator[str]:
    """Serve `app` until the block ends; yields its base URL (no trailing slash). With
    `trusted_proxies`, under the product's own server settings (the service's limits)."""
    import uvicorn

    from generator.service.server import server_config

    port = port or free_port()
    if trusted_proxies is None:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    else:
        config = server_config(app, "127.0.0.1", port, trusted_proxies)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
