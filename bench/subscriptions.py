"""Subscribe requests against `press subscriptions serve` on 127.0.0.1 for a fixed time at fixed
concurrency. Prints requests per second, p50/p99 latency and errors, then checks that every
accepted subscription is in the store (and has its confirmation email in the Maildir outbox).

    .venv/bin/python bench/subscriptions.py [--seconds 60] [--concurrency 16]

The service runs as the real command, with the SQLite store and the Maildir transport. Its
per-client rate limit is turned off: every request comes from 127.0.0.1.
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

import httpx
from corpus import make_corpus
from counting_smtp import free_port

from generator.subscribers.store import SubscriberStore

KEY = "benchmark-signing-key-0123456789"


def start_service(root: Path, port: int) -> subprocess.Popen:
    config = root / "site_config" / "site.yml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("rate_limit: 10 ", "rate_limit: 0 "),
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "generator", "subscriptions", "serve", "--port", str(port)]
    env = {**os.environ, "PRESS_SIGNING_KEY": KEY, "PRESS_DATABASE_URL": ""}
    child = subprocess.Popen(command, cwd=root, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).raise_for_status()
            return child
        except httpx.HTTPError:
            time.sleep(0.1)
    child.kill()
    raise RuntimeError("the service did not start")


async def load(url: str, seconds: float, concurrency: int) -> tuple[list[float], set[str], int]:
    latencies: list[float] = []
    accepted: set[str] = set()
    errors = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def client_loop(client: httpx.AsyncClient, worker: int) -> None:
        nonlocal errors
        sent = 0
        while time.monotonic() < deadline:
            address = f"w{worker}-{sent}@example.com"
            sent += 1
            started = time.perf_counter()
            try:
                answer = await client.post(url, data={"email": address, "source": "bench"})
            except httpx.HTTPError:
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)
            if answer.status_code == 200:
                accepted.add(address)
            else:
                errors += 1

    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await asyncio.gather(*(client_loop(client, w) for w in range(concurrency)))
    return latencies, accepted, errors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = make_corpus(Path(tmp), 5)
        port = free_port()
        service = start_service(root, port)
        try:
            started = time.perf_counter()
            url = f"http://127.0.0.1:{port}/subscribe"
            latencies, accepted, errors = asyncio.run(load(url, args.seconds, args.concurrency))
            elapsed = time.perf_counter() - started
        finally:
            service.terminate()
            service.wait(timeout=30)
        store = SubscriberStore.open("sqlite:///var/subscribers.sqlite3", root)
        stored = {s.email for s in store.iter_subscribers("pending")}
        mails = len(list((root / "var" / "outbox" / "new").iterdir()))
    cuts = statistics.quantiles(latencies, n=100)
    print(f"{args.seconds:.0f} s at concurrency {args.concurrency} against 127.0.0.1")
    print(f"requests/s:      {len(latencies) / elapsed:10,.0f}")
    print(f"latency p50/p99: {cuts[49] * 1000:7.1f} / {cuts[98] * 1000:.1f} ms")
    print(f"errors:          {errors:10,}")
    missing = len(accepted - stored)
    print(f"accepted {len(accepted):,}; in the store {len(accepted & stored):,}; missing {missing}")
    print(f"confirmation emails in the outbox: {mails:,}")
    if missing or mails != len(accepted):
        raise SystemExit("FAILED: an accepted subscription is missing")


if __name__ == "__main__":
    main()
