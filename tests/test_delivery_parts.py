"""The pieces of `press send` that need no server: transport URLs and the progress line."""

from __future__ import annotations

import io

import pytest

from generator.delivery.progress import Progress
from generator.delivery.transports import TransportConfigError, smtp_settings


def test_smtp_urls_choose_tls_and_take_the_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("PRESS_SMTP_PASSWORD", "s3cret")
    submission = smtp_settings("smtp://digest%40example.org@mail.example.org")
    assert (submission.port, submission.starttls, submission.implicit_tls) == (
        587,
        "required",
        False,
    )
    assert (submission.user, submission.password) == ("digest@example.org", "s3cret")
    implicit = smtp_settings("smtps://digest@mail.example.org")
    assert (implicit.port, implicit.implicit_tls) == (465, True)
    local = smtp_settings("smtp://127.0.0.1:2525?starttls=off")
    assert (local.port, local.starttls, local.user) == (2525, "off", "")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("smtp://user:pw@mail.example.org", "PRESS_SMTP_PASSWORD, not in the transport URL"),
        ("smtp://user@mail.example.org", "set PRESS_SMTP_PASSWORD for SMTP user 'user'"),
        ("smtp://mail.example.org?starttls=off", "only allowed for a server on this machine"),
        ("http://mail.example.org", "is not a transport"),
    ],
)
def test_unusable_smtp_urls_are_explained(monkeypatch, url: str, message: str):
    monkeypatch.delenv("PRESS_SMTP_PASSWORD", raising=False)
    with pytest.raises(TransportConfigError, match=message):
        smtp_settings(url)


def test_progress_shows_sent_of_total_rate_and_time_left():
    ticks = iter([0.0, 1.0, 2.0, 12.0, 13.0])
    stream = io.StringIO()
    progress = Progress(100, stream, clock=lambda: next(ticks), log_every=10.0)
    progress.advance(sent=1)  # at 1 s: not yet time to print
    progress.advance(failed=1)  # at 2 s
    progress.advance(sent=1)  # at 12 s: prints
    assert stream.getvalue() == "sent 2/100  failed 1  0.2 msg/s  0:06:28 left\n"
    assert progress.line(13.0).startswith("sent 2/100  failed 1")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_send_pace_spaces_messages_evenly_across_workers() -> None:
    from generator.delivery.send import send_pace

    clock = FakeClock()
    pace = send_pace(20, clock)
    waits = [pace.reserve() for _ in range(5)]  # five workers asking at the same instant
    assert waits == pytest.approx([0.0, 0.05, 0.10, 0.15, 0.20])
    clock.now += 1.0  # idle for a second: no burst is saved up
    assert [pace.reserve(), pace.reserve()] == pytest.approx([0.0, 0.05])
    assert send_pace(None, clock).reserve() == 0.0


def test_the_subscribe_limit_allows_a_burst_then_one_per_interval() -> None:
    from generator.rate_limit import RateLimiter

    clock = FakeClock()
    limiter = RateLimiter(3, 60.0, clock=clock)
    assert [limiter.retry_after("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.retry_after("a") == pytest.approx(20.0)
    assert limiter.retry_after("b") == 0.0  # each client has its own bucket
    clock.now += 20.0
    assert limiter.retry_after("a") == 0.0
    assert limiter.retry_after("a") == pytest.approx(20.0)


def test_progress_never_shows_negative_time_left() -> None:
    stream = io.StringIO()
    clock = FakeClock()
    progress = Progress(1, stream, clock=clock)
    clock.now += 2.0
    progress.advance(sent=1, failed=1)  # more outcomes than the total (a retried message)
    assert progress.line().endswith("0:00:00 left")
