"""The shipped deploy/Caddyfile in front of the built site and the subscription service: a real
Caddy on 127.0.0.1, readers on other loopback addresses (127.0.0.2, 127.0.0.3)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
import pytest
from caddy_proxy import caddy
from nginx_proxy import nginx
from test_subscription_service import (
    KEY,
    Clock,
    confirm_link_in,
    path_of,
    unsubscribe_link,
    wait_until,
)

from generator.content.site_config import load_site
from generator.delivery.transports import MemoryTransport
from generator.rate_limit import RateLimiter
from generator.service.app import Service, create_app
from generator.subscribers.store import SubscriberStore

from asgi_server import running


def reader(base: str, address: str) -> httpx.Client:
    """A client whose connections come from `address`, as a reader's would from elsewhere."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=base, transport=transport, timeout=10)


def test_site_and_service_through_caddy(project: Path, built_example: Path, tmp_path: Path):
    store = SubscriberStore.open(f"sqlite:///{tmp_path / 'subscribers.sqlite3'}", project)
    outbox = MemoryTransport()
    service = Service(
        load_site(project), store, KEY, lambda: outbox, Clock(), RateLimiter(3), retry_delay=0.05
    )
    with (
        running(create_app(service), trusted_proxies=("127.0.0.1",)) as upstream,
        caddy(built_example, [upstream.removeprefix("http://")]) as (site, subscribe),
    ):
        with reader(site, "127.0.0.2") as browser:
            home = browser.get("/")
            assert home.status_code == 200 and "<title>" in home.text
            assert home.headers["x-content-type-options"] == "nosniff"
            assert home.headers["x-frame-options"] == "SAMEORIGIN"
            assert "max-age=" in home.headers["strict-transport-security"]
            assert "server" not in home.headers
            missing = browser.get("/no/such/page/")
            assert missing.status_code == 404 and "404" in missing.text

        with reader(subscribe, "127.0.0.2") as first, reader(subscribe, "127.0.0.3") as second:
            for n in range(3):
                answer = first.post("/subscribe", data={"email": f"a{n}@example.com"})
                assert answer.status_code == 200, answer.text
                assert answer.headers["x-content-type-options"] == "nosniff"
            # The fourth from the same reader is over the limit, whatever it claims to be...
            spoofed = {"X-Forwarded-For": "198.51.100.9"}
            assert first.post("/subscribe", data={"email": "a3@example.com"}).status_code == 429
            limited = first.post("/subscribe", data={"email": "a4@example.com"}, headers=spoofed)
            assert limited.status_code == 429
            # ...while another reader behind the same proxy has a bucket of its own.
            assert second.post("/subscribe", data={"email": "b@example.com"}).status_code == 200

            def outbox_has(count: int) -> bool:
                return len(outbox.outbox) >= count

            wait_until(lambda: outbox_has(4))
            raw = next(m for _, to, m in outbox.outbox if to == "b@example.com")
            assert second.get(path_of(confirm_link_in(raw))).status_code == 200
            assert store.get("b@example.com").status == "active"
            wait_until(lambda: outbox_has(5))  # the welcome, with its unsubscribe link
            welcome = [m for _, to, m in outbox.outbox if to == "b@example.com"][-1]
            gone = second.post(path_of(unsubscribe_link(welcome)))
            assert gone.status_code == 200
            assert store.get("b@example.com").status == "unsubscribed"
            assert second.get("/readyz").json() == {"ok": True}
    store.close()


def test_two_instances_one_postgresql_and_one_is_killed_under_load(
    mail_project, built_example: Path
):
    """Caddy in front, the shipped nginx between it and two processes on one store: killing one
    under load fails no request (nginx sends a request the dead process was answering to the
    survivor again), the survivor serves the rest, and every request is stored and confirmed."""
    stop_signal = "SIGKILL"
    import signal
    import threading
    import time

    from test_service_recovery import ready, serve

    from asgi_server import free_port
    from smtp_server import smtp_server

    root, url, _ = mail_project
    if not url.startswith("postgresql"):
        pytest.skip("two processes share a store only on PostgreSQL")
    config = root / "site_config" / "site.yml"
    text = config.read_text(encoding="utf-8").replace("rate_limit: 10", "rate_limit: 0")
    config.write_text(text.replace("trusted_proxies: []", "trusted_proxies: [127.0.0.1]"))
    store = SubscriberStore.open(url, root)
    statuses: list[tuple[int, str, float]] = []
    with smtp_server() as (smtp, server):
        ports = [free_port(), free_port()]
        children = [serve(root, url, smtp, port) for port in ports]
        try:
            wait_until(lambda: all(ready(port) for port in ports), 30)
            upstreams = [f"127.0.0.1:{port}" for port in ports]
            with nginx(upstreams) as balancer, caddy(built_example, [balancer]) as (_, subscribe):
                stop = threading.Event()

                def load(worker: int) -> None:
                    with reader(subscribe, "127.0.0.2") as client:
                        for n in range(2000):
                            if stop.is_set():
                                break
                            address = f"load{worker}-{n}@example.com"
                            try:
                                answer = client.post("/subscribe", data={"email": address})
                                code = answer.status_code
                            except httpx.TransportError:  # cut off: as failed as a 502
                                code = 0
                            statuses.append((code, address, time.monotonic()))

                threads = [threading.Thread(target=load, args=(i,)) for i in range(4)]
                for thread in threads:
                    thread.start()
                time.sleep(1.5)
                children[0].send_signal(getattr(signal, stop_signal))
                stopped = time.monotonic()
                time.sleep(3.0)
                stop.set()
                for thread in threads:
                    thread.join(30)
            wanted = {address for code, address, _ in statuses if code == 200}
            wait_until(lambda: {r.recipient for r in server.received} >= wanted, 20)
        finally:
            for child in children:
                child.send_signal(signal.SIGKILL)
                child.wait(30)
    failed = [(code, at - stopped) for code, _, at in statuses if code != 200]
    print(stop_signal, Counter(code for code, _, _ in statuses), failed)
    assert sum(1 for code, _, at in statuses if code == 200 and at > stopped + 0.5) > 50
    assert failed == []
    pending = {s.email for s in store.iter_subscribers("pending")}
    assert wanted <= pending
    store.close()
