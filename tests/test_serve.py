"""`press serve`: a live preview on 127.0.0.1 that rebuilds when an article is saved."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode("utf-8")


def wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def test_serve_previews_drafts_and_reloads_on_save(example_project: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", "--port", str(port)],
        cwd=example_project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "SOURCE_DATE_EPOCH": "1795435200"},
    )
    try:
        assert wait_for(lambda: "Quiet voices" in fetch(url), 60), "preview did not start"
        draft = fetch(url + "posts/the-delegation-ladder/")
        assert "Draft" in draft and "not published" in draft
        post = example_project / "content/posts/2026-11-20-make-the-decision-reversible.md"
        post.write_text(post.read_text().replace("Ask what undoing", "Ask what reversing"))
        page = url + "posts/make-the-decision-reversible/"
        assert wait_for(lambda: "Ask what reversing" in fetch(page), 60), "no rebuild on save"
        assert "livereload" in fetch(page)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
