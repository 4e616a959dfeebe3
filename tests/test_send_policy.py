"""The send policy in-process: each refusal is a named error raised before anything is sent."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest

from generator.content.loader import load_content
from generator.delivery.ledger import Ledger
from generator.delivery.policy import (
    DigestChanged,
    FingerprintMismatch,
    NotDue,
    Sending,
    SendRequest,
    send_digest,
)
from generator.digest.schedule import NotADigestDay, latest_issue_date, send_moment
from generator.subscribers.store import NewSubscriber, SubscriberStore
from generator.tokens import KEY_VARIABLE

from conftest import NOW, make_project


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(KEY_VARIABLE, "a-test-secret-of-enough-length")
    root = make_project(tmp_path / "project", examples=True)
    site, articles = load_content(root)
    store = SubscriberStore.open(f"sqlite:///{tmp_path / 'store.sqlite3'}", root)
    store.add(NewSubscriber("reader@example.com"), NOW)
    said: list[str] = []
    yield site, articles, store, said
    store.close()


def sending(store: SubscriberStore, said: list[str], now=NOW) -> Sending:
    return Sending(lambda: store, lambda: now, said.append, io.StringIO())


def test_an_issue_before_its_send_moment_is_not_due(example):
    site, articles, store, said = example
    day = latest_issue_date(site, NOW) + timedelta(days=7)
    with pytest.raises(NotDue, match=f"the {day} digest is not due until"):
        send_digest(
            site, articles, SendRequest(issue=day, transport="memory:"), sending(store, said)
        )


def test_a_day_that_is_not_the_digest_weekday_is_named(example):
    site, articles, store, said = example
    day = latest_issue_date(site, NOW) - timedelta(days=1)
    with pytest.raises(NotADigestDay):
        send_digest(site, articles, SendRequest(issue=day), sending(store, said))


def test_a_digest_other_than_the_approved_one_is_refused_before_any_network(example):
    site, articles, store, said = example
    day = latest_issue_date(site, NOW)
    request = SendRequest(issue=day, expect="0" * 16, transport="smtp://127.0.0.1:1")
    with pytest.raises(FingerprintMismatch, match="changed since the preview you approved"):
        send_digest(site, articles, request, sending(store, said, send_moment(site, day)))
    assert said and said[0].startswith(f"Digest {day}: fingerprint ")


def test_a_resumed_send_of_a_changed_digest_is_refused_and_sends_nothing(example):
    site, articles, store, said = example
    day = latest_issue_date(site, NOW)
    Ledger(store.engine, day.isoformat()).record_fingerprint("f" * 16, NOW)
    request = SendRequest(issue=day, transport="memory:", verify_live=False)
    with pytest.raises(DigestChanged, match="started with digest ffff"):
        send_digest(site, articles, request, sending(store, said, send_moment(site, day)))
    assert Ledger(store.engine, day.isoformat()).counts().get("sent", 0) == 0


def test_a_due_issue_is_sent_once(example):
    site, articles, store, said = example
    day = latest_issue_date(site, NOW)
    request = SendRequest(issue=day, transport="memory:", verify_live=False)
    first = send_digest(site, articles, request, sending(store, said, send_moment(site, day)))
    again = send_digest(site, articles, request, sending(store, said, send_moment(site, day)))
    assert first is not None and first.report.sent == 1 and first.report.ok
    assert again is not None and again.report.sent == 0 and again.report.already_sent == 1
