"""Subscribe requests against `press subscriptions serve` on 127.0.0.1 for a fixed time at fixed
concurrency. Prints requests per second, p50/p99 latency and errors, then checks that every
accepted subscription is in the store and got its confirmation email.

    .venv/bin/python bench/subscriptions.py [--seconds 60] [--concurrency 16]
                                            [--transport smtp|maildir] [--timing 200]
                                            [--redirect-seconds 60]

The service runs as the real command, with the SQLite store. Confirmations go to a counting
SMTP server in its own process on 127.0.0.1 (`--transport maildir`: the Maildir outbox). Its
per-client rate limit is turned off: every request comes from 127.0.0.1.

Then the same load on the counted-link redirect (`GET /r/...`, as readers click the digest's
article links: 10,000 readers, each link of the issue), printing the same figures; every
answer must be a 302 to the article and every click must be counted in the store
(target: >= 500 requests/s, p99 <= 100 ms).

Then the timing check: --timing requests each for an unknown, a known (active) and an
unsubscribed address, one after another, alternating; prints each median and whether the
bodies are identical. The answer must not tell them apart (target: medians within 1 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from corpus import make_corpus
from counting_smtp import counting_server, free_port

from generator.subscribers.store import SubscriberStore

KEY = "benchmark-signing-key-0123456789"


def start_service(root: Path, port: int, transport: str) -> subprocess.Popen:
    config = root / "site_config" / "site.yml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("rate_limit: 10 ", "rate_limit: 0 "),
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "generator", "subscriptions", "serve", "--port", str(port)]
    command += ["--transport", transport]
    env = {**os.environ, "PRESS_SIGNING_KEY": KEY, "PRESS_DATABASE_URL": ""}
    # The service logs a line per request, as it would to journald: into a file here.
    with (root / "service.log").open("wb") as log:
        child = subprocess.Popen(command, cwd=root, env=env, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).raise_for_status()
            return child
        except httpx.HTTPError:
            time.sleep(0.1)
    child.kill()
    raise RuntimeError("the service did not start")


def counted_links(root: Path, readers: int) -> tuple[list[str], dict[str, str]]:
    """Every reader's counted link to each article of the issue, and each link's target."""
    from datetime import UTC, date, datetime

    from generator.content.loader import load_content
    from generator.digest.click_links import link_url, reader_name, reader_token, site_path
    from generator.digest.render import with_utm
    from generator.tokens import Signer

    site, articles = load_content(root)
    signer, issue = Signer(KEY.encode()), date(2026, 11, 21)
    sent_at = int(datetime.now(tz=UTC).timestamp()) - 3600  # read an hour after delivery
    targets = {}
    for article in articles:
        path = site_path(site, article.url)
        targets[link_url(site, signer, issue.isoformat(), path)] = with_utm(
            article.url, site, issue
        )
    links = []
    for n in range(readers):
        name = reader_name(signer, issue.isoformat(), f"reader{n}@example.com", None)
        token = reader_token(signer, issue.isoformat(), name, sent_at).decode()
        links += [f"{base}?r={token}" for base in targets]
    return links, {url.split("?")[0]: target for url, target in targets.items()}


async def load_redirects(
    base: str, links: list[str], targets: dict[str, str], seconds: float, concurrency: int
) -> tuple[list[float], int, int]:
    """GET counted links, each once, in order, until `seconds` pass: (latencies, 302s, errors).

    Plain HTTP/1.1 on keep-alive connections, written and read here: httpx's client costs more
    CPU per request than the service's redirect, so on a small machine it was the bottleneck
    (94% of a core at 500 requests/s) and its queueing was most of the measured p99."""
    latencies: list[float] = []
    redirected = errors = 0
    deadline = time.monotonic() + seconds
    host, _, port = base.removeprefix("http://").partition(":")
    queue = iter(links)

    async def client_loop() -> None:
        nonlocal redirected, errors
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for link in queue:
                if time.monotonic() >= deadline:
                    return
                path = link.split("/", 3)[3]
                started = time.perf_counter()
                writer.write(f"GET /{path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
                status, headers = await read_answer(reader)
                latencies.append(time.perf_counter() - started)
                if status == 302 and headers.get("location") == targets[link.split("?")[0]]:
                    redirected += 1
                else:
                    errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    return latencies, redirected, errors


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    """One HTTP/1.1 answer with a Content-Length body: its status and headers (lower case)."""
    head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)).decode("latin-1")
    status_line, *lines = head.rstrip("\r\n").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    await reader.readexactly(int(headers.get("content-length", "0")))
    return int(status_line.split(" ", 2)[1]), headers


def counted_clicks(store: SubscriberStore) -> int:
    from sqlalchemy import func, select

    from generator.subscribers.schema import clicks

    with store.engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.sum(clicks.c.count), 0))).scalar_one()


def report_load(label: str, latencies: list[float], elapsed: float, errors: int) -> None:
    cuts = statistics.quantiles(latencies, n=100)
    print(label)
    print(f"  requests/s:      {len(latencies) / elapsed:10,.0f}")
    print(f"  latency p50/p99: {cuts[49] * 1000:7.1f} / {cuts[98] * 1000:.1f} ms")
    print(f"  errors:          {errors:10,}")


async def load(url: str, seconds: float, concurrency: int) -> tuple[list[float], set[str], int]:
    """POST /subscribe with new addresses until `seconds` pass: (latencies, accepted, errors).
    Plain HTTP/1.1 on keep-alive connections, as load_redirects, so the client is not the
    bottleneck."""
    latencies: list[float] = []
    accepted: set[str] = set()
    errors = 0
    deadline = time.monotonic() + seconds
    host, _, rest = url.removeprefix("http://").partition(":")
    port, _, path = rest.partition("/")

    async def client_loop(worker: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        sent = 0
        try:
            while time.monotonic() < deadline:
                address = f"w{worker}-{sent}@example.com"
                sent += 1
                body = urlencode({"email": address, "source": "bench"}).encode()
                head = (
                    f"POST /{path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                    "Content-Type: application/x-www-form-urlencoded\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                )
                started = time.perf_counter()
                writer.write(head.encode() + body)
                status, _headers = await read_answer(reader)
                latencies.append(time.perf_counter() - started)
                if status == 200:
                    accepted.add(address)
                else:
                    errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(client_loop(w) for w in range(concurrency)))
    return latencies, accepted, errors


def timing(url: str, rounds: int, store: SubscriberStore) -> None:
    """Medians for unknown, known and unsubscribed addresses, asked in alternation."""
    from datetime import UTC, datetime

    from generator.subscribers.store import NewSubscriber

    now = datetime.now(tz=UTC)
    store.add_many([NewSubscriber(f"known{i}@example.com") for i in range(rounds)], now)
    store.add_many([NewSubscriber(f"left{i}@example.com") for i in range(rounds)], now)
    for i in range(rounds):
        store.unsubscribe(f"left{i}@example.com", now)
    kinds = {
        "unknown": "new{}@example.com",
        "known": "known{}@example.com",
        "unsubscribed": "left{}@example.com",
    }
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    bodies: dict[str, set[bytes]] = {kind: set() for kind in kinds}
    with httpx.Client(timeout=30) as client:
        for i in range(rounds):
            for kind, pattern in kinds.items():
                started = time.perf_counter()
                answer = client.post(url, data={"email": pattern.format(i), "source": "bench"})
                times[kind].append(time.perf_counter() - started)
                bodies[kind].add(answer.content)
    medians = {kind: statistics.median(values) * 1000 for kind, values in times.items()}
    spread = max(medians.values()) - min(medians.values())
    shown = ", ".join(f"{kind} {value:.2f} ms" for kind, value in medians.items())
    print(f"timing, {rounds} each: medians {shown}; spread {spread:.2f} ms (target <= 1 ms)")
    same = len(set().union(*bodies.values())) == 1
    print(f"bodies identical across all {3 * rounds} answers: {same}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--transport", choices=["smtp", "maildir"], default="smtp")
    parser.add_argument("--timing", type=int, default=200, help="Requests per address kind.")
    parser.add_argument("--redirect-seconds", type=float, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, counting_server() as (smtp, count):
        root = make_corpus(Path(tmp), 5)
        port = free_port()
        transport = smtp if args.transport == "smtp" else "maildir:var/outbox"
        service = start_service(root, port, transport)
        store = SubscriberStore.open("sqlite:///var/subscribers.sqlite3", root)
        links, targets = counted_links(root, 10_000)
        try:
            started = time.perf_counter()
            url = f"http://127.0.0.1:{port}/subscribe"
            latencies, accepted, errors = asyncio.run(load(url, args.seconds, args.concurrency))
            elapsed = time.perf_counter() - started
            stored = {s.email for s in store.iter_subscribers("pending")}
            mails = wait_for_mail(root, args.transport, count, len(accepted))
            started = time.perf_counter()
            clicked, redirected, click_errors = asyncio.run(
                load_redirects(
                    f"http://127.0.0.1:{port}", links, targets, args.redirect_seconds,
                    args.concurrency,
                )
            )  # fmt: skip
            click_elapsed = time.perf_counter() - started
            clicks_stored = counted_clicks(store)
            timing(url, args.timing, store)
        finally:
            service.terminate()
            service.wait(timeout=30)
    print(
        f"{args.seconds:.0f} s at concurrency {args.concurrency} against 127.0.0.1, "
        f"confirmations by {args.transport}"
    )
    report_load("POST /subscribe", latencies, elapsed, errors)
    missing = len(accepted - stored)
    print(f"accepted {len(accepted):,}; in the store {len(accepted & stored):,}; missing {missing}")
    print(f"confirmation emails delivered: {mails:,}")
    report_load(
        f"GET /r/... (counted links, {args.redirect_seconds:.0f} s; "
        "target >= 500/s, p99 <= 100 ms)",
        clicked,
        click_elapsed,
        click_errors,
    )
    print(
        f"redirected to the article: {redirected:,}; clicks counted in the store: {clicks_stored:,}"
    )
    if missing or mails != len(accepted):
        raise SystemExit("FAILED: an accepted subscription is missing or got no email")
    if click_errors or clicks_stored != redirected:
        raise SystemExit("FAILED: a counted link did not redirect or its click was not counted")


def wait_for_mail(root: Path, transport: str, count, expected: int) -> int:
    """Confirmations delivered by the service's mail worker (it sends off the request path)."""
    deadline = time.monotonic() + 120
    while True:
        if transport == "smtp":
            delivered = count.value
        else:
            delivered = len(list((root / "var" / "outbox" / "new").iterdir()))
        if delivered >= expected or time.monotonic() > deadline:
            return delivered
        time.sleep(0.2)


if __name__ == "__main__":
    main()
