"""End to end in headless Chromium: the subscribe box on a post, the confirmation email, the
digest's one-click unsubscribe. Everything real: the built site, `press subscriptions serve`,
`press send` into the Maildir outbox, the SQLite store."""

from __future__ import annotations

import email
import email.policy
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from generator.site.build import build_all
from generator.site.options import BuildOptions
from generator.subscribers.store import SubscriberStore

from asgi_server import free_port
from browser import serve_directory
from conftest import NOW, make_project
from test_check_errors import run_press

pytestmark = pytest.mark.browser
KEY = "flow-test-signing-key-0123456789"
SATURDAY = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def read_outbox(root: Path) -> list[email.message.EmailMessage]:
    new = root / "var" / "outbox" / "new"
    files = sorted(new.iterdir(), key=lambda p: p.stat().st_mtime_ns) if new.exists() else []
    return [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]


@pytest.fixture
def service_project(tmp_path: Path):
    root = make_project(tmp_path / "project", examples=True)
    port = free_port()
    service = f"http://127.0.0.1:{port}"
    config = root / "site_config" / "site.yml"
    text = config.read_text(encoding="utf-8")
    text = text.replace("https://subscribe.leadership-press.example.org", service)
    config.write_text(text, encoding="utf-8")
    build_all(root, BuildOptions(now=NOW))
    env = {
        **os.environ,
        "PRESS_SIGNING_KEY": KEY,
        "SOURCE_DATE_EPOCH": str(int(NOW.timestamp())),
        "PRESS_DATABASE_URL": "",
    }
    command = [sys.executable, "-m", "generator", "subscriptions", "serve", "--port", str(port)]
    child = subprocess.Popen(command, cwd=root, env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(f"{service}/healthz", timeout=1).raise_for_status()
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline or child.poll() is not None:
                child.kill()
                raise RuntimeError("press subscriptions serve did not start") from None
            time.sleep(0.1)
    try:
        yield root, service
    finally:
        child.terminate()
        child.wait(timeout=10)


def test_subscribe_confirm_and_one_click_unsubscribe(browser, service_project):
    root, service = service_project
    store = SubscriberStore.open("sqlite:///var/subscribers.sqlite3", root)
    with serve_directory(root / "site") as site_url:
        page = browser.new_page()
        page.set_default_timeout(10_000)
        page.goto(site_url + "posts/one-to-ones-that-matter/")
        page.get_by_label("Email address").fill("New.Reader@Example.com")
        page.get_by_role("button", name="Subscribe").click()
        page.wait_for_url(f"{service}/subscribe")
        assert page.get_by_role("heading", name="Check your inbox").is_visible()
    assert store.get("new.reader@example.com").status == "pending"
    assert store.get("new.reader@example.com").source == "form:posts/one-to-ones-that-matter/"

    [confirmation] = read_outbox(root)
    assert confirmation["To"] == "new.reader@example.com"
    link = re.search(
        r'href="([^"]+/confirm/[^"]+)"', confirmation.get_body(("html",)).get_content()
    )[1]
    page.goto(link)
    assert page.get_by_role("heading", name="You are subscribed").is_visible()
    assert store.get("new.reader@example.com").status == "active"

    env = {"PRESS_SIGNING_KEY": KEY, "SOURCE_DATE_EPOCH": str(int(SATURDAY.timestamp()))}
    sent = run_press(root, "send", "--no-verify-live", env={**env, "PRESS_DATABASE_URL": ""})
    assert "sent 1, failed 0" in sent.stdout, sent.stderr
    digest = read_outbox(root)[-1]
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.search(r"<(http[^>]+/unsubscribe/[^>]+)>", digest["List-Unsubscribe"])[1]

    page.goto(unsubscribe)  # what a mail scanner would do: changes nothing
    assert page.get_by_role("button", name="Unsubscribe").is_visible()
    assert store.get("new.reader@example.com").status == "active"
    one_click = page.request.post(
        unsubscribe, form={"List-Unsubscribe": "One-Click"}, headers={"Cookie": ""}
    )
    assert one_click.status == 200
    assert store.get("new.reader@example.com").status == "unsubscribed"
    page.close()
    store.close()
