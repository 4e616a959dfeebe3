"""`press serve`: a live preview on 127.0.0.1 that rebuilds when an article is saved."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


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


@contextmanager
def press_serve(project: Path, *args: str) -> Iterator[str]:
    """`press serve` on a free port as of Monday 23/11/2026 12:00 UTC; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", "--port", str(port), *args],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "SOURCE_DATE_EPOCH": "1795435200"},
    )
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_previews_drafts_and_reloads_on_save(example_project: Path) -> None:
    with press_serve(example_project) as url:
        assert wait_for(lambda: "Quiet voices" in fetch(url), 60), "preview did not start"
        draft = fetch(url + "posts/the-delegation-ladder/")
        assert "Draft" in draft and "not published" in draft
        post = example_project / "content/posts/2026-11-20-make-the-decision-reversible.md"
        post.write_text(post.read_text().replace("Ask what undoing", "Ask what reversing"))
        page = url + "posts/make-the-decision-reversible/"
        assert wait_for(lambda: "Ask what reversing" in fetch(page), 60), "no rebuild on save"
        assert "livereload" in fetch(page)


NEW_ARTICLE = """---
title: Feedback before Friday
date: 2026-11-26T09:00
authors: [amara]
categories: [Growth]
---

Say it while it can still change something.

<!-- more -->

## How

Soon, specifically, kindly.
"""


@pytest.mark.browser
def test_serve_previews_the_coming_email_and_reloads_it_on_save(
    example_project: Path, browser
) -> None:
    with press_serve(example_project) as url:
        assert wait_for(lambda: "Quiet voices" in fetch(url + "newsletter/preview/"), 60)
        text = fetch(url + "newsletter/preview.txt")
        assert "This week's 3 articles, 28/11/2026." in text
        assert "[Draft] The delegation ladder" in text and "Quiet voices in loud rooms" in text
        page = browser.new_page()
        page.goto(url + "newsletter/preview/")
        assert page.get_by_role("heading", name="Quiet voices in loud rooms").is_visible()
        assert page.get_by_text("Feedback before Friday").count() == 0
        post = example_project / "content/posts/2026-11-26-feedback-before-friday.md"
        post.write_text(NEW_ARTICLE, encoding="utf-8")
        # livereload reloads the open page after the rebuild
        heading = page.get_by_role("heading", name="Feedback before Friday")
        heading.wait_for(state="visible", timeout=60_000)
        assert page.get_by_role("heading", name="[Draft] The delegation ladder").is_visible()
        page.close()
    with press_serve(example_project, "--no-drafts") as url:
        assert wait_for(
            lambda: "Feedback before Friday" in fetch(url + "newsletter/preview.txt"), 60
        )
        assert "Draft" not in fetch(url + "newsletter/preview.txt")


def test_twenty_rebuilds_leave_no_temporary_folder_behind(project: Path, tmp_path: Path) -> None:
    import signal

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}/posts/good-article/"
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", "--port", str(port)],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "SOURCE_DATE_EPOCH": "1795435200", "TMPDIR": str(scratch)},
    )
    post = next((project / "content/posts").glob("*.md"))
    original = post.read_text()
    try:
        assert wait_for(lambda: "Body text." in fetch(url), 60), "preview did not start"
        for n in range(20):
            post.write_text(original.replace("Body text.", f"Body text, edit {n}."))
            assert wait_for(lambda n=n: f"edit {n}." in fetch(url), 60), f"no rebuild {n}"
        made = [p.name for p in scratch.iterdir()]
        assert len(made) == 1 and made[0].startswith("press-serve-")  # the served site, once
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    assert list(scratch.iterdir()) == []


def test_a_taken_port_is_reported_at_once_without_a_traceback(project: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "generator", "serve", "--port", str(port)],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"cannot serve on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_port_is_held_from_the_start_until_the_server_listens() -> None:
    # press serve checks its port at once and holds it through the first build: another
    # program given a free port meanwhile (a test's SMTP server, say) cannot take it.
    from generator.site.mkdocs_adapter import _reserve_port

    port = free_port()
    reserved = _reserve_port("127.0.0.1", port)
    try:
        with socket.socket() as other, pytest.raises(OSError):
            other.bind(("127.0.0.1", port))
    finally:
        reserved.close()
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))  # as the live-reload server binds, once released
