"""What keeps a send from mailing the wrong thing: live pages, the approved fingerprint, and a
missed send window that is reported instead of passed over in silence."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from generator.content.site_config import load_site
from generator.delivery.ledger import Ledger
from generator.delivery.transports import MemoryTransport
from generator.rate_limit import RateLimiter
from generator.service.app import Service, create_app
from generator.site.build import build_all
from generator.site.options import BuildOptions
from generator.subscribers.store import SubscriberStore
from generator.tokens import Signer

from asgi_server import free_port, running
from browser import serve_directory
from conftest import ISSUE, KEY, SATURDAY
from smtp_server import smtp_server
from test_check_errors import run_press

LATEST_ARTICLE = "posts/quiet-voices-in-loud-rooms/index.html"


def send_env(url: str, when=SATURDAY) -> dict[str, str]:
    return {
        "PRESS_DATABASE_URL": url,
        "PRESS_SIGNING_KEY": KEY,
        "SOURCE_DATE_EPOCH": str(int(when.timestamp())),
    }


@contextmanager
def live_site(root: Path, database_url: str, running_service: bool = True) -> Iterator[Path]:
    """The project built as of the send and served on 127.0.0.1 at the URL its config names,
    with the subscription service (which redirects the counted links) beside it."""
    port, service_port = free_port(), free_port()
    config = root / "site_config" / "site.yml"
    text = re.sub(r"^url: .*$", f"url: http://127.0.0.1:{port}/", config.read_text(), flags=re.M)
    endpoint = f"endpoint: http://127.0.0.1:{service_port}/subscribe"
    config.write_text(re.sub(r"endpoint: .*$", endpoint, text, flags=re.M), "utf-8")
    build_all(root, BuildOptions(now=SATURDAY))
    store = SubscriberStore.open(database_url, root)
    app = Service(
        load_site(root), store, Signer(KEY.encode()), MemoryTransport, lambda: SATURDAY,
        RateLimiter(0),
    )  # fmt: skip
    try:
        with serve_directory(root / "site", port):
            if not running_service:
                yield root / "site"
                return
            with running(create_app(app), port=service_port):
                yield root / "site"
    finally:
        store.close()


def test_a_page_that_is_not_live_stops_the_send_before_anyone_gets_mail(mail_project):
    root, url, populate = mail_project
    populate(5)
    with live_site(root, url) as site, smtp_server() as (smtp, server):
        page = site / LATEST_ARTICLE
        kept = page.read_bytes()
        shutil.move(page.parent, site.parent / "unpublished")
        refused = run_press(root, "send", "--transport", smtp, env=send_env(url))
        assert refused.returncode == 1 and "Traceback" not in refused.stderr
        assert "not live: http://127.0.0.1:" in refused.stderr
        assert "/posts/quiet-voices-in-loud-rooms/ (HTTP 404)" in refused.stderr
        assert "nothing was sent" in refused.stderr and server.count() == 0

        shutil.move(site.parent / "unpublished", page.parent)
        page.write_bytes(kept.replace(b"Quiet voices", b"Loud voices"))
        stale = run_press(root, "send", "--transport", smtp, env=send_env(url))
        assert (
            stale.returncode == 1 and "does not show 'Quiet voices in loud rooms'" in stale.stderr
        )

        page.write_bytes(kept)
        sent = run_press(root, "send", "--transport", smtp, env=send_env(url))
    assert sent.returncode == 0, sent.stderr
    assert "All 3 linked pages are live." in sent.stdout and "sent 5, failed 0" in sent.stdout
    assert "The service redirects counted links." in sent.stdout
    assert server.count() == 5


def test_a_service_that_does_not_redirect_counted_links_stops_the_send(mail_project):
    root, url, populate = mail_project
    populate(2)
    with live_site(root, url, running_service=False), smtp_server() as (smtp, server):
        refused = run_press(root, "send", "--transport", smtp, env=send_env(url))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "does not redirect this digest's counted links" in refused.stderr
    assert "not live: http://127.0.0.1:" in refused.stderr and "/r/2026-11-28/" in refused.stderr
    assert server.count() == 0


def test_no_verify_live_says_that_it_did_not_check(mail_project):
    root, url, populate = mail_project
    populate(1)
    with smtp_server() as (smtp, server):
        result = run_press(root, "send", "--no-verify-live", "--transport", smtp, env=send_env(url))
    assert result.returncode == 0, result.stderr
    assert "Not checking that the linked pages are live (--no-verify-live)." in result.stdout
    assert server.count() == 1


def fingerprint_of(output: str) -> str:
    return re.search(r"fingerprint ([0-9a-f]{12})", output)[1]


def test_send_delivers_only_the_fingerprint_that_was_previewed(mail_project, tmp_path: Path):
    root, url, populate = mail_project
    store = populate(6)
    env = send_env(url)
    preview = run_press(root, "digest", "--date", ISSUE, "--out", str(tmp_path / "p"), env=env)
    shown = fingerprint_of(preview.stdout)
    with smtp_server() as (smtp, server):
        args = ("send", "--no-verify-live", "--transport", smtp)
        wrong = run_press(root, *args, "--expect", "0123456789ab", env=env)
        assert wrong.returncode == 1 and f"is {shown}, not 0123456789ab" in wrong.stderr
        assert server.count() == 0
        first = run_press(root, *args, "--expect", shown, "--limit", "2", env=env)
        assert fingerprint_of(first.stdout) == shown and server.count() == 2

        article = next((root / "content/posts").glob("*quiet-voices*.md"))
        article.write_text(
            article.read_text().replace("<!-- more -->", "New line.\n\n<!-- more -->")
        )
        changed = run_press(root, *args, env=env)
        now = fingerprint_of(changed.stdout)
        assert changed.returncode == 1 and now != shown
        assert f"started with digest {shown} and the digest is now {now}" in changed.stderr
        assert server.count() == 2
        rest = run_press(root, *args, "--expect", now, env=env)
    assert rest.returncode == 0, rest.stderr
    assert server.count() == 6
    assert Ledger(store.engine, ISSUE).record_fingerprint("ffffffffffff", SATURDAY) == now


def test_a_missed_send_window_is_reported_with_the_command_to_send_late(mail_project):
    root, url, populate = mail_project
    populate(3)
    late = SATURDAY + timedelta(days=2)
    first_ever = run_press(root, "send", "--no-verify-live", env=send_env(url, late))
    assert first_ever.returncode == 0 and "No digest is due (the 2026-11-28" in first_ever.stdout
    assert f"To send it now: press send --date {ISSUE}" in first_ever.stdout

    week_before = SATURDAY - timedelta(days=7)
    earlier = run_press(root, "send", "--no-verify-live", env=send_env(url, week_before))
    assert earlier.returncode == 0 and "sent 3, failed 0" in earlier.stdout
    missed = run_press(root, "send", "--no-verify-live", env=send_env(url, late))
    assert missed.returncode == 1 and "Traceback" not in missed.stderr
    assert f"the {ISSUE} digest was due 28/11/2026 07:00 GMT" in missed.stderr
    assert "it was never sent" in missed.stderr
    assert f"To send it now: press send --date {ISSUE}" in missed.stderr

    on_time = run_press(root, "send", "--no-verify-live", env=send_env(url))
    assert on_time.returncode == 0, on_time.stderr
    after = run_press(root, "send", "--no-verify-live", env=send_env(url, late))
    assert after.returncode == 0
    assert f"No digest is due: the {ISSUE} digest went out (3 sent)." in after.stdout
