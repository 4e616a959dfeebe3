"""`press subscriptions serve`: double opt-in, one-click unsubscribe, and every bad input.

The app runs on uvicorn on 127.0.0.1 against a real store (SQLite and PostgreSQL); the
confirmation emails go to an in-memory transport, which is not what is under test here.
"""

from __future__ import annotations

import email
import email.policy
import re
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from generator.content.site_config import load_site
from generator.delivery.transports import MemoryTransport, TransientError
from generator.rate_limit import RateLimiter
from generator.service.app import Service, create_app
from generator.subscribers.mail_queue import MailQueue
from generator.subscribers.schema import mail_queue
from generator.subscribers.schema import subscribers as subscribers_table
from generator.subscribers.store import NewSubscriber, SubscriberStore, generation_of
from generator.tokens import Signer

from asgi_server import running
from conftest import NOW

KEY = Signer(b"service-test-key-0123456789")
SITE_ORIGIN = "https://leadership-press.example.org"


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Running:
    url: str
    store: SubscriberStore
    outbox: list = field(default_factory=list)
    clock: Clock = field(default_factory=Clock)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)

    def settle(self) -> None:
        """Wait until the mail worker has sent everything queued (bounded)."""
        wait_until(lambda: MailQueue(self.store.engine).pending() == 0)

    def confirm_link(self, index: int = -1) -> str:
        self.settle()
        message = email.message_from_bytes(self.outbox[index][2], policy=email.policy.default)
        text = message.get_body(("plain",)).get_content()
        return re.search(r"https://\S+/confirm/\S+", text)[0]


def wait_until(condition, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def start(project: Path, store: SubscriberStore, rate_limit: int = 0, transport=None):
    memory = MemoryTransport()
    clock = Clock()
    service = Service(
        load_site(project),
        store,
        KEY,
        transport or (lambda: memory),
        clock,
        RateLimiter(rate_limit),
        retry_delay=0.05,
    )
    return running(create_app(service)), memory, clock


@pytest.fixture
def svc(project: Path, store: SubscriberStore) -> Iterator[Running]:
    server, memory, clock = start(project, store)
    with server as url:
        yield Running(url, store, memory.outbox, clock)


def subscribe(client: httpx.Client, address: str, **extra: str) -> httpx.Response:
    return client.post("/subscribe", data={"email": address, "source": "/posts/x/", **extra})


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_double_opt_in_from_form_to_active(svc: Running):
    with svc.client() as client:
        answer = subscribe(client, "Reader@Example.com")
        assert answer.status_code == 200
        assert "text/html" in answer.headers["content-type"]
        assert "<h1>Check your inbox</h1>" in answer.text
        assert svc.store.get("reader@example.com").status == "pending"
        assert svc.store.get("reader@example.com").source == "form:/posts/x/"
        svc.settle()
        assert [(to) for _, to, _ in svc.outbox] == ["reader@example.com"]
        message = email.message_from_bytes(svc.outbox[0][2], policy=email.policy.default)
        assert message["Subject"] == "Please confirm your subscription to The Leadership Press"
        link = svc.confirm_link()
        assert link.startswith("https://subscribe.leadership-press.example.org/confirm/")
        confirmed = client.get(path_of(link))
        assert confirmed.status_code == 200 and "You are subscribed" in confirmed.text
        assert svc.store.get("reader@example.com").status == "active"


def test_the_answer_is_the_same_whether_or_not_the_address_is_known(svc: Running):
    svc.store.add(NewSubscriber("known@example.com"), NOW)
    with svc.client() as client:
        unknown = subscribe(client, "unknown@example.com")
        known = subscribe(client, "known@example.com")
        pending_again = subscribe(client, "unknown@example.com")
    assert unknown.status_code == known.status_code == pending_again.status_code == 200
    assert unknown.text == known.text == pending_again.text
    svc.settle()
    assert [to for _, to, _ in svc.outbox] == ["unknown@example.com"]  # no mail bombing
    assert svc.store.get("known@example.com").status == "active"


def test_json_clients_get_json(svc: Running):
    with svc.client() as client:
        answer = client.post("/subscribe", json={"email": "script@example.com"})
        assert answer.status_code == 200
        assert answer.json()["ok"] is True
        confirmed = client.get(path_of(svc.confirm_link()), headers={"Accept": "application/json"})
    assert confirmed.json() == {
        "ok": True,
        "message": "script@example.com will receive The Leadership Press every Saturday morning.",
        "status": "active",
    }


def test_the_honeypot_answers_like_success_and_stores_nothing(svc: Running):
    with svc.client() as client:
        bot = subscribe(client, "bot@example.com", website="http://spam.example")
        human = subscribe(client, "human@example.com")
    assert bot.status_code == 200 and bot.text == human.text
    assert svc.store.get("bot@example.com") is None
    svc.settle()
    assert [to for _, to, _ in svc.outbox] == ["human@example.com"]


def test_the_rate_limit_stops_a_flood_from_one_client(project: Path, store: SubscriberStore):
    server, memory, _ = start(project, store, rate_limit=3)
    with server as url, httpx.Client(base_url=url) as client:
        answers = [subscribe(client, f"n{i}@example.com") for i in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert int(answers[3].headers["Retry-After"]) > 0
    assert "Too many requests" in answers[3].text
    wait_until(lambda: MailQueue(store.engine).pending() == 0)
    assert store.get("n3@example.com") is None and len(memory.outbox) == 3


@pytest.mark.parametrize(
    "address",
    ["", "plainaddress", "a@b", "two@@example.com", "spaces in@example.com", "ü@example.com",
     "x" * 250 + "@example.com", "a@example.com\r\nBcc: victim@example.com"],
)  # fmt: skip
def test_malformed_addresses_get_400_and_change_nothing(svc: Running, address: str):
    with svc.client() as client:
        answer = subscribe(client, address)
        as_json = client.post("/subscribe", json={"email": address})
    assert answer.status_code == 400 and "not an email address we can send to" in answer.text
    assert as_json.status_code == 400 and as_json.json()["ok"] is False
    assert sum(svc.store.count_by_status().values()) == 0 and svc.outbox == []


def test_oversized_and_unreadable_bodies_are_refused(svc: Running):
    big = "a" * 5000 + "@example.com"
    with svc.client() as client:
        declared = client.post("/subscribe", data={"email": big})
        streamed = client.post(
            "/subscribe",
            content=iter([b"email=" + b"a" * 1500, b"b" * 1500 + b"@example.com"]),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        not_json = client.post(
            "/subscribe", content=b"{nope", headers={"Content-Type": "application/json"}
        )
        wrong_type = client.post(
            "/subscribe", content=b"email", headers={"Content-Type": "text/plain"}
        )
    assert declared.status_code == 413 and streamed.status_code == 413
    assert "larger than 2048 bytes" in declared.text
    assert not_json.status_code == 400 and wrong_type.status_code == 415
    assert sum(svc.store.count_by_status().values()) == 0


def test_forged_tampered_wrong_purpose_and_expired_tokens_change_nothing(svc: Running):
    svc.store.add(NewSubscriber("active@example.com"), NOW)
    forged = Signer(b"another-key-entirely-000").sign("unsubscribe", "active@example.com")
    good = KEY.sign("unsubscribe", "active@example.com")
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    with svc.client() as client:
        for token in (forged, tampered, "garbage", good.split(".")[0]):
            assert client.get(f"/unsubscribe/{token}").status_code == 400
            answer = client.post(f"/unsubscribe/{token}")
            assert answer.status_code == 400 and "not valid" in answer.text
        assert client.get(f"/confirm/{good}").status_code == 400  # wrong purpose
        subscribe(client, "late@example.com")
        link = path_of(svc.confirm_link())
        svc.clock.now = NOW + timedelta(hours=73)
        expired = client.get(link)
    assert expired.status_code == 410 and "expired" in expired.text
    assert svc.store.get("active@example.com").status == "active"
    assert svc.store.get("late@example.com").status == "pending"


def test_unsubscribe_link_shows_a_page_and_changes_nothing(svc: Running):
    svc.store.add(NewSubscriber("keep@example.com"), NOW)
    token = KEY.sign("unsubscribe", "keep@example.com")
    with svc.client() as client:
        page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200
    assert f'<form method="post" action="/unsubscribe/{token}">' in page.text
    assert "keep@example.com" in page.text
    assert svc.store.get("keep@example.com").status == "active"


def test_rfc8058_one_click_post_unsubscribes_without_cookies(svc: Running):
    svc.store.add(NewSubscriber("leave@example.com"), NOW)
    token = KEY.sign("unsubscribe", "leave@example.com")
    with svc.client() as client:
        answer = client.post(
            f"/unsubscribe/{token}",
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        again = client.post(f"/unsubscribe/{token}")
    assert answer.status_code == 200 and "set-cookie" not in answer.headers
    assert "You are unsubscribed" in answer.text
    assert again.status_code == 200  # a second click (or a retrying mail server) is fine
    assert svc.store.get("leave@example.com").status == "unsubscribed"


def test_cors_allows_the_site_origin_only(svc: Running):
    preflight = {"Access-Control-Request-Method": "POST", "Origin": SITE_ORIGIN}
    with svc.client() as client:
        allowed = client.options("/subscribe", headers=preflight)
        other = client.options(
            "/subscribe", headers={**preflight, "Origin": "https://evil.example"}
        )
        simple = client.post(
            "/subscribe", json={"email": "x@example.com"}, headers={"Origin": SITE_ORIGIN}
        )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == SITE_ORIGIN
    assert other.status_code == 400
    assert simple.headers["access-control-allow-origin"] == SITE_ORIGIN


def test_a_failed_confirmation_email_is_retried_off_the_request_path(
    project: Path, store: SubscriberStore
):
    memory = MemoryTransport()

    class FailingTwice:
        failures = 0

        def send(self, sender: str, recipient: str, message: bytes) -> None:
            if FailingTwice.failures < 2:
                FailingTwice.failures += 1
                raise TransientError("451 try later", 451)
            memory.send(sender, recipient, message)

        def close(self) -> None:
            pass

    server, _, clock = start(project, store, transport=FailingTwice)

    def later_and_sent() -> bool:
        clock.now += timedelta(seconds=1)  # the service's clock decides when a retry is due
        return MailQueue(store.engine).pending() == 0

    with server as url, httpx.Client(base_url=url) as client:
        answer = subscribe(client, "unlucky@example.com")
        assert answer.status_code == 200  # the reader never waits for, or sees, the mail server
        wait_until(later_and_sent)
    assert [to for _, to, _ in memory.outbox] == ["unlucky@example.com"]
    with store.engine.connect() as conn:
        row = conn.execute(select(mail_queue)).one()
    assert (row.kind, row.attempts, row.last_error) == ("confirm", 3, "")
    assert row.sent_at is not None


def test_queued_mail_survives_a_crash_and_is_sent_by_the_next_process(
    project: Path, store: SubscriberStore
):
    assert store.request_subscription("queued@example.com", "form", NOW)  # the request's commit
    server, memory, _ = start(project, store)  # a new process: its worker finds the row
    with server:
        wait_until(lambda: MailQueue(store.engine).pending() == 0)
    assert [to for _, to, _ in memory.outbox] == ["queued@example.com"]


def test_service_pages_are_valid_html(svc: Running, tmp_path: Path):
    from test_site_quality import nu_errors

    svc.store.add(NewSubscriber("page@example.com"), NOW)
    token = KEY.sign("unsubscribe", "page@example.com")
    with svc.client() as client:
        pages = {
            "inbox.html": subscribe(client, "x@example.com").text,
            "unsubscribe.html": client.get(f"/unsubscribe/{token}").text,
            "invalid.html": client.get("/unsubscribe/forged").text,
        }
    for name, html in pages.items():
        (tmp_path / name).write_text(html, encoding="utf-8")
    assert nu_errors(sorted(tmp_path.glob("*.html"))) == []


def test_a_confirmed_reader_is_welcomed_once_over_smtp(project: Path, store: SubscriberStore):
    from generator.delivery.journal import Accepted
    from generator.delivery.ledger import Ledger
    from generator.delivery.transports import transport_factory

    from smtp_server import smtp_server

    store.add(NewSubscriber("earlier@example.com"), NOW)
    ledger = Ledger(store.engine, "2026-11-21")
    ledger.enqueue(NOW)
    ledger.record_accepted([Accepted(store.get("earlier@example.com").id, 0, False)])
    with smtp_server() as (smtp, recorder):
        server, _, clock = start(project, store, transport=transport_factory(smtp, project))
        with server as url, httpx.Client(base_url=url) as client:
            assert subscribe(client, "new@example.com").status_code == 200
            wait_until(lambda: recorder.count() == 1)
            link = confirm_link_in(recorder.received[-1].data)
            assert client.get(path_of(link)).status_code == 200
            assert client.get(path_of(link)).status_code == 200  # a second click: no second welcome
            wait_until(lambda: recorder.count() == 2)
            clock.now = NOW + timedelta(days=30)
            client.post(path_of(unsubscribe_link(recorder.received[-1].data)))
            assert subscribe(client, "new@example.com").status_code == 200
            wait_until(lambda: recorder.count() == 3)
            relink = confirm_link_in(recorder.received[-1].data)
            assert client.get(path_of(relink)).status_code == 200  # re-confirmed: still none
            wait_until(lambda: MailQueue(store.engine).pending() == 0)
        kinds = [r.message_id.split(".")[0] for r in recorder.received]
    assert kinds == ["confirm", "welcome", "confirm"]
    welcome = email.message_from_bytes(recorder.received[1].data, policy=email.policy.default)
    assert welcome["To"] == "new@example.com"
    assert welcome["Subject"] == "Welcome to The Leadership Press"
    assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = re.search(r"/unsubscribe/([^>]+)>", welcome["List-Unsubscribe"])[1]
    # Bound to the subscription it welcomed (confirmed at NOW), not the one confirmed later.
    assert KEY.verify("unsubscribe", token) == f"new@example.com|{generation_of(NOW)}"
    text = welcome.get_body(("plain",)).get_content()
    html = welcome.get_body(("html",)).get_content()
    latest = "https://leadership-press.example.org/newsletter/2026-11-21/"
    assert "latest issue, of 21/11/2026" in text and latest in text and f'href="{latest}"' in html
    assert store.get("new@example.com").status == "active"


def confirm_link_in(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    return re.search(r"https://\S+/confirm/\S+", message.get_body(("plain",)).get_content())[0]


def unsubscribe_link(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    return re.search(r"<(https://[^>]+/unsubscribe/[^>]+)>", message["List-Unsubscribe"])[1]


def guarded_service(project: Path, store: SubscriberStore, trusted=(), rate_limit=0):
    """The app behind the product's own uvicorn settings (server_config)."""
    limiter = RateLimiter(rate_limit)
    service = Service(load_site(project), store, KEY, MemoryTransport, Clock(), limiter)
    return running(create_app(service), tuple(trusted))


def test_forwarded_addresses_count_only_from_trusted_proxies(project: Path, store: SubscriberStore):
    spoofed = [{"X-Forwarded-For": f"203.0.113.{i}"} for i in range(6)]
    with guarded_service(project, store, rate_limit=3) as url, httpx.Client(base_url=url) as c:
        codes = [
            c.post("/subscribe", data={"email": f"s{i}@example.com"}, headers=h).status_code
            for i, h in enumerate(spoofed)
        ]
    assert codes == [200, 200, 200, 429, 429, 429]  # one bucket: the connecting address
    with guarded_service(project, store, ("127.0.0.1",), 3) as url, httpx.Client(base_url=url) as c:
        codes = [
            c.post("/subscribe", data={"email": f"t{i}@example.com"}, headers=h).status_code
            for i, h in enumerate(spoofed)
        ]
    assert codes == [200] * 6  # behind a trusted proxy, each reader has their own bucket


def test_no_redirect_is_built_from_the_host_header(svc: Running):
    with svc.client() as client:
        answer = client.post(
            "/subscribe/", data={"email": "a@example.com"}, headers={"Host": "evil.example"}
        )
    assert answer.status_code == 404 and "location" not in answer.headers


def test_slow_clients_are_cut_off_and_never_starve_readers(project: Path, store: SubscriberStore):
    import resource
    import socket
    import time

    from generator.service import server as server_module

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 3000:
        pytest.skip(f"needs 3,000 open files, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    original = server_module.HEADER_TIMEOUT
    server_module.HEADER_TIMEOUT = 2.0
    slow: list[socket.socket] = []
    try:
        with guarded_service(project, store) as url, httpx.Client(base_url=url) as client:
            port = int(url.rsplit(":", 1)[1])
            for _ in range(1100):
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                sock.sendall(b"POST /subscribe HTTP/1.1\r\nHost: x\r\n")  # and never finishes
                slow.append(sock)
            started = time.monotonic()
            answers = [subscribe(client, f"reader{i}@example.com") for i in range(20)]
            assert [a.status_code for a in answers] == [200] * 20
            assert time.monotonic() - started < 10
            time.sleep(server_module.HEADER_TIMEOUT + 1.5)
            closed = 0
            for sock in slow:
                sock.settimeout(0.01)
                with suppress(TimeoutError, OSError):
                    closed += sock.recv(1) == b""
            assert closed == len(slow), f"{len(slow) - closed} slow connections still open"
    finally:
        server_module.HEADER_TIMEOUT = original
        for sock in slow:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_body_that_never_arrives_times_out(project: Path, store: SubscriberStore, monkeypatch):
    import socket

    from generator.service import requests as service_requests

    monkeypatch.setattr(service_requests, "BODY_TIMEOUT", 1.0)
    with guarded_service(project, store) as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(
                b"POST /subscribe HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-"
                b"urlencoded\r\nContent-Length: 100\r\n\r\nemail=a"
            )
            answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408")


@pytest.mark.parametrize("suppressed", ["complained", "bounced"])
def test_suppression_is_absolute_until_an_operator_reactivates(
    project: Path, store: SubscriberStore, database_url: str, suppressed: str
):
    from test_check_errors import run_press

    address = "suppressed@example.com"
    store.request_subscription(address, "form", NOW)
    old_link = confirm_link_in(confirmation_message_for(project, address))
    store.add(NewSubscriber("other@example.com"), NOW)
    with store.engine.begin() as conn:  # what a complaint or hard bounce leaves behind
        conn.execute(
            subscribers_table.update()
            .where(subscribers_table.c.email == address)
            .values(status=suppressed)
        )
    env = {"PRESS_DATABASE_URL": database_url}
    (project / "list.csv").write_text(f"email,status\n{address},active\n", encoding="utf-8")
    assert run_press(project, "subscribers", "import", "list.csv", env=env).returncode == 0
    server, memory, _ = start(project, store)
    with server as url, httpx.Client(base_url=url) as client:
        assert subscribe(client, address).status_code == 200  # the same answer as ever
        assert client.get(path_of(old_link)).status_code == 409
        wait_until(lambda: MailQueue(store.engine).pending() == 0)
    assert memory.outbox == []  # no confirmation, no welcome
    assert store.get(address).status == suppressed
    refused = run_press(
        project, "subscribers", "reactivate", "other@example.com", "--reason", "x", env=env
    )
    assert refused.returncode == 1 and "is active; only bounced or complained" in refused.stderr
    no_reason = run_press(project, "subscribers", "reactivate", address, env=env)
    assert no_reason.returncode == 2 and "--reason" in no_reason.stderr
    done = run_press(
        project, "subscribers", "reactivate", address, "--reason", "asked by phone, 24/11", env=env
    )
    assert done.returncode == 0 and f"was {suppressed}" in done.stdout
    assert store.get(address).status == "active"
    [(_, change, reason)] = store.events(address)
    assert (change, reason) == (f"{suppressed} -> active", "asked by phone, 24/11")


def confirmation_message_for(project: Path, address: str) -> bytes:
    from generator.service.emails import confirmation_message, confirmation_url

    site = load_site(project)
    return confirmation_message(site, address, confirmation_url(site, KEY, address, NOW), NOW)


def test_an_old_unsubscribe_link_does_not_end_a_new_subscription(svc: Running):
    from generator.tokens import subscription_subject

    with svc.client() as client:
        assert subscribe(client, "back@example.com").status_code == 200
        assert client.get(path_of(svc.confirm_link())).status_code == 200
        svc.settle()
        old_link = unsubscribe_link(svc.outbox[-1][2])  # the welcome's
        assert client.post(path_of(old_link)).status_code == 200
        assert svc.store.get("back@example.com").status == "unsubscribed"
        svc.clock.now = NOW + timedelta(days=10)  # the reader comes back
        assert subscribe(client, "back@example.com").status_code == 200
        assert client.get(path_of(svc.confirm_link())).status_code == 200
        again = client.post(path_of(old_link))  # a link from the old subscription
        assert again.status_code == 200 and "You are unsubscribed" in again.text  # same answer
        assert svc.store.get("back@example.com").status == "active"  # ...and nothing changed
        generation = generation_of(svc.store.get("back@example.com").confirmed_at)
        token = KEY.sign("unsubscribe", subscription_subject("back@example.com", generation))
        assert client.post(f"/unsubscribe/{token}").status_code == 200  # this subscription's
        assert svc.store.get("back@example.com").status == "unsubscribed"


def test_a_response_leaves_in_one_piece_head_and_body_together():
    """A process killed between the head and the body of an answer would leave the proxy a
    head without a body, too late to resend the request elsewhere: under the service's server
    settings nothing reaches the client until the body is ready, and "100 Continue" still
    goes at once."""
    import asyncio
    import socket
    import time

    from asgi_server import running

    async def slow_body(scope, receive, send):
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(0.6)  # the moment a SIGKILL would have cut the answer in two
        await send({"type": "http.response.body", "body": b"whole"})

    with running(slow_body, trusted_proxies=()) as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
            )
            sock.settimeout(3)
            assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue")
            sock.sendall(b"ok")
            started = time.monotonic()
            first = sock.recv(4096)
            waited = time.monotonic() - started
            assert first.startswith(b"HTTP/1.1 200 ") and b"\r\nwhole\r\n" in first
            assert waited >= 0.5  # the head waited for its body
