"""Digest speed: select and render one digest, then personalise messages for many recipients.

The baseline, run in the same process, is the straightforward way: one `EmailMessage` built and
serialised per recipient. Peak memory is traced (tracemalloc) for the personalisation loop.

    .venv/bin/python bench/digest.py [--articles 1000] [--recipients 100000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
from datetime import date
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from corpus import NOW, make_corpus

from generator.content.loader import load_content
from generator.digest.message import personalised_message
from generator.digest.preview import prepare_digest
from generator.digest.render import UNSUBSCRIBE_PLACEHOLDER
from generator.tokens import Signer

ISSUE = date(2026, 11, 21)
SIGNER = Signer(b"benchmark-signing-key-0123")


def time_prepare(site, articles, repeats: int = 10) -> tuple[float, object]:
    timings, prepared = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        prepared = prepare_digest(site, articles, ISSUE, NOW)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings), prepared


def personalise_all(site, template, count: int) -> tuple[float, int, int]:
    tracemalloc.start()
    start = time.perf_counter()
    total = 0
    for index in range(count):
        total += len(personalised_message(site, template, SIGNER, f"reader{index}@example.com"))
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return count / elapsed, total, peak


def naive_rate(site, rendered, count: int) -> float:
    """One EmailMessage per recipient, as most code does it."""
    start = time.perf_counter()
    for index in range(count):
        address = f"reader{index}@example.com"
        url = site.email.unsubscribe_url + SIGNER.sign("unsubscribe", address)
        msg = EmailMessage(policy=SMTP)
        msg["From"], msg["To"], msg["Subject"] = site.email.from_address, address, rendered.subject
        msg["List-Unsubscribe"] = f"<{url}>"
        msg.set_content(rendered.text.replace(UNSUBSCRIBE_PLACEHOLDER, url))
        msg.add_alternative(rendered.html.replace(UNSUBSCRIBE_PLACEHOLDER, url), subtype="html")
        msg.as_bytes()
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--recipients", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site, articles = load_content(make_corpus(Path(tmp) / "p", args.articles))
        seconds, prepared = time_prepare(site, articles)
        rendered = prepared.rendered
        print(f"articles: {args.articles}; digest of {ISSUE}: {len(rendered.articles)} article(s)")
        print(f"select + render + message template: {seconds * 1000:.1f} ms (median of 10)")
        for count in (10_000, args.recipients):
            rate, size, peak = personalise_all(site, prepared.template, count)
            print(
                f"personalised {count:,} messages: {rate:,.0f} msg/s, "
                f"{size / count / 1024:.1f} KiB each, peak traced memory {peak / 2**20:.2f} MiB"
            )
        baseline = naive_rate(site, rendered, 2_000)
        print(
            f"baseline (EmailMessage per recipient): {baseline:,.0f} msg/s; "
            f"ratio {rate / baseline:.1f}x"
        )


if __name__ == "__main__":
    main()
