"""End to end in headless Chromium: the subscribe box on a post, on the home page (posted in
place by press.js) and inside an archived issue, the confirmation email, the digest's one-click
unsubscribe. Everything real: the built site, `press subscriptions serve`,
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
from playwright.sync_api import expect

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
    """The example site built to be served on 127.0.0.1 (so the service's CORS allows its
    pages to post in place), its subscription service running; yields the project, the
    service's URL and the site's."""
    root = make_project(tmp_path / "project", examples=True)
    port, site_port = free_port(), free_port()
    service = f"http://127.0.0.1:{port}"
    site_url = f"http://127.0.0.1:{site_port}/"
    config = root / "site_config" / "site.yml"
    text = config.read_text(encoding="utf-8")
    text = text.replace("https://subscribe.leadership-press.example.org", service)
    text = text.replace("url: https://leadership-press.example.org/", f"url: {site_url}")
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
        with serve_directory(root / "site", site_port):
            yield root, service, site_url
    finally:
        child.terminate()
        child.wait(timeout=10)


def test_subscribe_confirm_and_one_click_unsubscribe(browser, service_project):
    root, service, site_url = service_project
    store = SubscriberStore.open("sqlite:///var/subscribers.sqlite3", root)
    context = browser.new_context(java_script_enabled=False)  # the form works without it
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(site_url + "posts/one-to-ones-that-matter/")
    page.get_by_label("Email address").fill("New.Reader@Example.com")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url(f"{service}/subscribe")
    assert page.get_by_role("heading", name="Check your inbox").is_visible()
    assert store.get("new.reader@example.com").status == "pending"
    assert store.get("new.reader@example.com").source == "form:posts/one-to-ones-that-matter/"

    confirmation = _confirmation_to(root, "new.reader@example.com")
    link = re.search(
        r'href="([^"]+/confirm/[^"]+)"', confirmation.get_body(("html",)).get_content()
    )[1]
    page.goto(link)
    assert page.get_by_role("heading", name="You are subscribed").is_visible()
    assert store.get("new.reader@example.com").status == "active"

    env = {"PRESS_SIGNING_KEY": KEY, "SOURCE_DATE_EPOCH": str(int(SATURDAY.timestamp()))}
    sent = run_press(root, "send", "--no-verify-live", env={**env, "PRESS_DATABASE_URL": ""})
    assert "sent 1, failed 0" in sent.stdout, sent.stderr
    # The welcome email is sent in the background and may land after it: pick the digest.
    [digest] = [m for m in read_outbox(root) if m["Message-ID"].startswith("<digest.")]
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
    context.close()
    store.close()


def _confirmation_to(root: Path, address: str) -> email.message.EmailMessage:
    """The confirmation email for `address`, waited for (the service sends it in the
    background), at most 10 s."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for message in read_outbox(root):
            if message["To"] == address and "confirm" in message["Subject"]:
                return message
        time.sleep(0.05)
    raise AssertionError(f"no confirmation email to {address}")


def test_subscribe_from_the_home_page_in_place(browser, service_project):
    root, _service, site_url = service_project
    page = browser.new_page()
    page.set_default_timeout(10_000)
    page.goto(site_url)
    box = page.locator("section.press-subscribe")
    box.get_by_label("Email address").fill("not an address@")
    box.get_by_role("button", name="Subscribe").click()
    # The browser's own check first: a malformed address is never posted.
    assert page.url == site_url and not read_outbox(root)
    box.get_by_label("Email address").fill("reader@nowhere.invalid")
    box.get_by_role("button", name="Subscribe").click()
    expect(box.get_by_role("status")).to_contain_text("That is not an email address")
    assert box.get_attribute("data-state") == "error"
    box.get_by_label("Email address").fill("Home.Reader@Example.com")
    box.get_by_role("button", name="Subscribe").click()
    expect(box.get_by_role("status")).to_contain_text("Check your inbox")
    assert page.url == site_url  # answered in place: the reader stays on the page
    assert not box.get_by_label("Email address").is_visible()  # the thank-you replaces it
    confirmation = _confirmation_to(root, "home.reader@example.com")
    assert "/confirm/" in confirmation.get_body(("plain",)).get_content()
    store = SubscriberStore.open("sqlite:///var/subscribers.sqlite3", root)
    assert store.get("home.reader@example.com").source == "form:home"
    store.close()
    page.close()


def test_subscribe_from_an_archived_issue(browser, service_project):
    root, service, site_url = service_project
    page = browser.new_page()
    page.set_default_timeout(10_000)
    page.goto(site_url + "newsletter/2026-11-21/")
    frame = page.frame_locator("iframe.press-digest-frame")
    frame.get_by_label("Email address").fill("issue.reader@example.com")
    frame.get_by_role("button", name="Subscribe").click()
    page.wait_for_url(f"{service}/subscribe")  # the whole window, not the frame
    assert page.get_by_role("heading", name="Check your inbox").is_visible()
    _confirmation_to(root, "issue.reader@example.com")
    store = SubscriberStore.open("sqlite:///var/subscribers.sqlite3", root)
    assert store.get("issue.reader@example.com").source == "form:newsletter/2026-11-21/"
    store.close()
    page.close()
