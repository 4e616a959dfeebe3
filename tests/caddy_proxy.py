"""The shipped deploy/Caddyfile run by a real Caddy (Debian's package) on 127.0.0.1, plain
HTTP (no certificates to fetch here), with its admin API off so tests can run side by side."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from asgi_server import free_port
from conftest import REPO


@contextmanager
def caddy(site_root: Path, upstreams: list[str]) -> Iterator[tuple[str, str]]:
    """Yields (site URL, service URL)."""
    site_port, service_port = free_port(), free_port()
    home = Path(tempfile.mkdtemp(prefix="press-caddy-"))
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "PRESS_CADDY_ADMIN": "off",
        "PRESS_SITE_ADDRESS": f"http://127.0.0.1:{site_port}",
        "PRESS_SITE_ROOT": str(site_root),
        "PRESS_SERVICE_ADDRESS": f"http://127.0.0.1:{service_port}",
        "PRESS_SERVICE_UPSTREAMS": " ".join(upstreams),
    }
    command = ["caddy", "run", "--config", str(REPO / "deploy" / "Caddyfile")]
    process = subprocess.Popen(
        [*command, "--adapter", "caddyfile"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(home / "caddy.log", "wb"),  # noqa: SIM115 (closed with the process)
    )
    site = f"http://127.0.0.1:{site_port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, (home / "caddy.log").read_text()
            try:
                httpx.get(site, timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "caddy did not start"
                time.sleep(0.05)
        yield site, f"http://127.0.0.1:{service_port}"
    finally:
        process.terminate()
        process.wait(timeout=20)
