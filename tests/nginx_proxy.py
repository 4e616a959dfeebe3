"""The shipped deploy/nginx-press-upstreams.conf run by a real nginx (Debian's package) on
127.0.0.1, as a non-daemon with its files in a temporary folder and the ports replaced."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from asgi_server import free_port
from conftest import REPO

SHIPPED = REPO / "deploy" / "nginx-press-upstreams.conf"


def configured(upstreams: list[str], listen: str) -> str:
    """The shipped file with its example addresses replaced by these."""
    text = SHIPPED.read_text(encoding="utf-8")
    servers = "".join(
        f"    server {address} max_fails=1 fail_timeout=5s;\n" for address in upstreams
    )
    text, count = re.subn(r"(    server 127\.0\.0\.1:800[12] [^\n]*\n)+", servers, text)
    assert count == 1, "the upstream block of the shipped file changed shape"
    return text.replace("listen 127.0.0.1:8000;", f"listen {listen};")


@contextmanager
def nginx(upstreams: list[str]) -> Iterator[str]:
    """Yields the address ("127.0.0.1:port") nginx listens on."""
    home = Path(tempfile.mkdtemp(prefix="press-nginx-"))
    home.chmod(0o755)  # run as root, nginx's workers are `nobody`: they need their temp folders
    listen = f"127.0.0.1:{free_port()}"
    (home / "press.conf").write_text(configured(upstreams, listen), encoding="utf-8")
    temp = " ".join(
        f"{kind}_temp_path {home / kind};" for kind in ("client_body", "proxy", "fastcgi")
    )
    (home / "nginx.conf").write_text(
        f"pid {home / 'nginx.pid'};\nerror_log {home / 'error.log'} warn;\n"
        "events { worker_connections 256; }\n"
        f"http {{ {temp} uwsgi_temp_path {home / 'uwsgi'}; scgi_temp_path {home / 'scgi'};\n"
        f"include {home / 'press.conf'}; }}\n",
        encoding="utf-8",
    )
    command = ["nginx", "-p", str(home), "-c", str(home / "nginx.conf"), "-g", "daemon off;"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, (home / "error.log").read_text()
            try:
                httpx.get(f"http://{listen}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)
        yield listen
    finally:
        process.terminate()
        process.wait(timeout=20)
        print((home / "error.log").read_text(encoding="utf-8")[-4000:])  # shown if a test fails
        shutil.rmtree(home, ignore_errors=True)
