"""`press send` against a real SMTP server (aiosmtpd on 127.0.0.1) and a real store."""

from __future__ import annotations

import email
import email.policy
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from generator.content.site_config import load_site
from generator.delivery.ledger import Ledger
from generator.delivery.lock import exclusive_send
from generator.digest.message import digest_message_ids
from generator.subscribers.store import generation_of
from generator.tokens import Signer

from conftest import ISSUE, KEY, SATURDAY, addresses
from smtp_server import Recorder, smtp_server
from test_check_errors import run_press


def press_send(
    root: Path,
    database_url: str,
    *args: str,
    when: datetime = SATURDAY,
    env: dict[str, str] | None = None,
):
    env = {
        **(env or {}),
        "PRESS_DATABASE_URL": database_url,
        "PRESS_SIGNING_KEY": KEY,
        "SOURCE_DATE_EPOCH": str(int(when.timestamp())),
    }
    return run_press(root, "send", "--no-verify-live", *args, env=env)


def assert_exactly_one_each(root: Path, received, expected: list[str]) -> None:
    site = load_site(root)
    by_recipient = Counter(r.recipient for r in received)
    assert sorted(by_recipient) == sorted(expected)
    ids = {
        r.recipient: {x.message_id for x in received if x.recipient == r.recipient}
        for r in received
    }
    for address in expected:
        assert ids[address] == {digest_message_ids(site, ISSUE).make(address).decode()}, address


def test_full_send_to_1000_subscribers_then_a_rerun_sends_nothing(mail_project):
    root, url, populate = mail_project
    store = populate(1000)
    with smtp_server() as (smtp, server):
        first = press_send(root, url, "--transport", smtp, "--connections", "4")
        assert first.returncode == 0, first.stderr
        assert "sent 1,000, failed 0, skipped 0" in first.stdout
        assert server.count() == 1000
        again = press_send(root, url, "--transport", smtp)
        assert "sent 0, failed 0, skipped 0 (sent by earlier runs: 1,000" in again.stdout
        assert server.count() == 1000
    assert Counter(r.recipient for r in server.received) == Counter(addresses(1000))
    assert len({r.message_id for r in server.received}) == 1000
    assert Ledger(store.engine, ISSUE).counts() == {"sent": 1000}
    sample = email.message_from_bytes(server.received[0].data, policy=email.policy.default)
    token = sample["List-Unsubscribe"].split("/unsubscribe/")[1].split(">")[0]
    generation = generation_of(store.get(sample["To"]).confirmed_at)
    assert Signer(KEY.encode()).verify("unsubscribe", token) == f"{sample['To']}|{generation}"
    assert sample["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_451s_and_dropped_connections_end_with_exactly_one_message_each(mail_project):
    root, url, populate = mail_project
    store = populate(300)
    greylisted = set(addresses(300)[::10])  # 10% of recipients: 451 on the first try

    def rcpt_answer(address: str, tries: int) -> str | None:
        return (
            "451 4.7.1 Greylisted, try again later" if address in greylisted and not tries else None
        )

    recorder = Recorder(rcpt_answer=rcpt_answer, drop=lambda n: n % 37 == 0)
    with smtp_server(recorder) as (smtp, server):
        result = press_send(root, url, "--transport", smtp, "--connections", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sent 300, failed 0" in result.stdout
    assert_exactly_one_each(root, server.received, addresses(300))
    with store.engine.connect() as conn:
        retried = conn.exec_driver_sql(
            "SELECT count(*) FROM deliveries WHERE attempts > 1 AND status = 'sent'"
        ).scalar()
    assert retried >= len(greylisted)


def test_550_is_recorded_never_retried_and_bounces_after_the_limit(mail_project):
    root, url, populate = mail_project
    store = populate(20)
    rejected = {"reader00003@example.com", "reader00011@example.com"}
    recorder = Recorder(
        rcpt_answer=lambda a, t: "550 5.1.1 No such user" if a in rejected else None
    )
    with smtp_server(recorder) as (smtp, _):
        first = press_send(root, url, "--transport", smtp, "--date", "2026-11-21")
        assert first.returncode == 1
        assert "sent 18, failed 2" in first.stdout and "marked bounced: 0" in first.stdout
        assert all(recorder.tries[a] == 1 for a in rejected)  # not retried
        rerun = press_send(root, url, "--transport", smtp, "--date", "2026-11-21")
        assert "sent 0, failed 0" in rerun.stdout and all(recorder.tries[a] == 1 for a in rejected)
        second = press_send(root, url, "--transport", smtp)
        assert "sent 18, failed 2" in second.stdout and "marked bounced: 2" in second.stdout
    with store.engine.connect() as conn:
        errors = conn.exec_driver_sql(
            "SELECT last_error, attempts FROM deliveries WHERE status = 'failed'"
        ).all()
    assert [tuple(e) for e in errors] == [("550 5.1.1 No such user", 1)] * 4
    assert {store.get(a).status for a in rejected} == {"bounced"}
    assert store.count_by_status()["active"] == 18


def test_a_relay_that_refuses_everyone_is_blamed_not_the_readers(mail_project):
    root, url, populate = mail_project
    store = populate(30)
    refusing = Recorder(rcpt_answer=lambda a, t: "554 5.7.1 Service unavailable")
    with smtp_server(refusing) as (smtp, server):
        for _ in range(2):  # two broken sends, as when nobody notices at once
            broken = press_send(root, url, "--transport", smtp)
            assert broken.returncode == 1 and "Traceback" not in broken.stderr
            assert "refusal (554 5.7.1 Service unavailable)" in broken.stderr
            assert "counts against no reader" in broken.stderr
            assert "marked bounced: 0" in broken.stdout
        assert server.count() == 0
    assert store.count_by_status()["active"] == 30 and store.count_by_status()["bounced"] == 0
    assert Ledger(store.engine, ISSUE).counts() == {"queued": 30}
    with smtp_server() as (smtp, server):
        fixed = press_send(root, url, "--transport", smtp)
        assert fixed.returncode == 0, fixed.stderr
        assert "sent 30, failed 0" in fixed.stdout
        assert_exactly_one_each(root, server.received, addresses(30))


def test_a_refused_sender_stops_the_send_and_blames_nobody(mail_project):
    root, url, populate = mail_project
    store = populate(5)

    class RefusingSender(Recorder):
        async def handle_MAIL(self, server, session, envelope, address, mail_options):
            return "530 5.7.0 Authentication required"

    with smtp_server(RefusingSender()) as (smtp, server):
        result = press_send(root, url, "--transport", smtp)
        assert server.count() == 0
    assert result.returncode == 1
    assert "the mail server refused the sender: (530" in result.stderr
    assert store.count_by_status()["bounced"] == 0
    assert Ledger(store.engine, ISSUE).counts() == {"queued": 5}


def test_a_send_pauses_after_repeated_failures_and_says_why(mail_project):
    root, url, populate = mail_project
    store = populate(50)
    recorder = Recorder(rcpt_answer=lambda a, t: "451 4.3.2 System not accepting messages")
    with smtp_server(recorder) as (smtp, server):
        result = press_send(root, url, "--transport", smtp, "--connections", "1")
    assert result.returncode == 1
    assert "Stopped: paused after 8 failures in a row; last: 451 4.3.2" in result.stderr
    assert server.count() == 0
    counts = Ledger(store.engine, ISSUE).counts()
    assert counts.get("queued", 0) + counts.get("retry", 0) == 50  # all still due


def test_a_transport_that_cannot_be_used_stops_the_send_and_blames_nobody(mail_project):
    root, url, populate = mail_project
    store = populate(10)
    with smtp_server() as (smtp, server):
        login = smtp.replace("smtp://", "smtp://digest@")  # this server offers no AUTH
        env = {"PRESS_SMTP_PASSWORD": "s3cret"}
        result = run_press(
            root, "send", "--no-verify-live", "--transport", login,
            env={**env, "PRESS_DATABASE_URL": url, "PRESS_SIGNING_KEY": KEY,
                 "SOURCE_DATE_EPOCH": str(int(SATURDAY.timestamp()))},
        )  # fmt: skip
    assert result.returncode == 1
    assert "Stopped: cannot use the transport: 127.0.0.1: SMTP AUTH extension" in result.stderr
    assert server.count() == 0
    assert Ledger(store.engine, ISSUE).counts() == {"queued": 10}
    assert store.count_by_status()["active"] == 10


def test_two_sends_of_one_digest_cannot_run_at_once(mail_project):
    root, url, populate = mail_project
    store = populate(5)
    with smtp_server() as (smtp, server), exclusive_send(store.engine, ISSUE):
        blocked = press_send(root, url, "--transport", smtp)
        other_issue = press_send(root, url, "--transport", smtp, "--date", "2026-11-21")
    assert blocked.returncode == 1
    assert "another press send of the 2026-11-28 digest is running" in blocked.stderr
    assert server.count() == 5 and other_issue.returncode == 0  # only 2026-11-21 went out


def test_dry_run_test_copy_limit_and_rate(mail_project):
    root, url, populate = mail_project
    store = populate(30)
    with smtp_server() as (smtp, server):
        dry = press_send(root, url, "--transport", smtp, "--dry-run")
        assert (
            "30 active subscriber(s), 0 of them paused or with nothing in their topics this week, "
            "0 already sent; at most 30 would be sent"
        ) in dry.stdout
        test = press_send(root, url, "--transport", smtp, "--test", "Editor@Example.com")
        assert test.returncode == 0 and server.count() == 1
        copy = email.message_from_bytes(server.received[0].data, policy=email.policy.default)
        assert copy["Subject"].startswith("[TEST] The Leadership Press: ")
        assert copy["To"] == "editor@example.com"
        assert Ledger(store.engine, ISSUE).counts() == {}
        limited = press_send(root, url, "--transport", smtp, "--limit", "10", "--rate", "20")
        assert "sent 10, failed 0" in limited.stdout and server.count() == 11
    assert Ledger(store.engine, ISSUE).counts() == {"sent": 10, "queued": 20}


def test_send_refuses_a_digest_that_is_not_due(mail_project):
    root, url, populate = mail_project
    populate(3)
    with smtp_server() as (smtp, server):
        monday = press_send(
            root, url, "--transport", smtp, when=datetime(2026, 11, 23, 12, tzinfo=UTC)
        )
        early = press_send(root, url, "--transport", smtp, "--date", "2026-12-05")
        tuesday = press_send(root, url, "--transport", smtp, "--date", "2026-12-01")
    assert monday.returncode == 0 and "No digest is due" in monday.stdout
    assert early.returncode == 1 and "not due until 05/12/2026 07:00 GMT" in early.stderr
    assert tuesday.returncode == 2 and "is not a digest day" in tuesday.stderr
    assert server.count() == 0


def test_the_default_transport_is_a_maildir(mail_project):
    root, url, populate = mail_project
    populate(4)
    result = press_send(root, url)
    assert result.returncode == 0, result.stderr
    delivered = sorted((root / "var" / "outbox" / "new").iterdir())
    assert len(delivered) == 4
    parsed = email.message_from_bytes(delivered[0].read_bytes(), policy=email.policy.default)
    assert parsed["Subject"].startswith("The Leadership Press: ")


def test_send_without_a_signing_key_is_a_clear_error(mail_project):
    root, url, populate = mail_project
    populate(1)
    env = {"PRESS_DATABASE_URL": url, "SOURCE_DATE_EPOCH": str(int(SATURDAY.timestamp()))}
    result = run_press(root, "send", "--no-verify-live", env={**env, "PRESS_SIGNING_KEY": ""})
    assert result.returncode == 1 and "set PRESS_SIGNING_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_sigkill_at_three_random_points_then_resume_gives_one_message_each(mail_project):
    root, url, populate = mail_project
    populate(400)
    seed = int(os.environ.get("PRESS_KILL_SEED", time.time_ns() % 100_000))
    points = sorted(random.Random(seed).sample(range(20, 380), 3))
    env = {
        **os.environ,
        "PRESS_DATABASE_URL": url,
        "PRESS_SIGNING_KEY": KEY,
        "SOURCE_DATE_EPOCH": str(int(SATURDAY.timestamp())),
        "GITHUB_ACTIONS": "false",
    }
    with smtp_server() as (smtp, server):
        command = [
            sys.executable,
            "-m",
            "generator",
            "send",
            "--no-verify-live",
            "--transport",
            smtp,
            "--connections",
            "1",
        ]
        for point in points:
            child = subprocess.Popen(
                command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            deadline = time.monotonic() + 60
            while server.count() < point and child.poll() is None and time.monotonic() < deadline:
                time.sleep(0.001)
            assert child.poll() is None, f"seed {seed}: the send ended before kill point {point}"
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
            assert point <= server.count() < 400
        received = len({r.recipient for r in server.received})
        dry = subprocess.run(
            [*command, "--dry-run"], cwd=root, env=env, capture_output=True, text=True, timeout=60
        )
        final = subprocess.run(
            command, cwd=root, env=env, capture_output=True, text=True, timeout=120
        )
    assert final.returncode == 0, final.stderr
    # The dry run tells the truth about what was sent: the last kill can leave at most one
    # accepted message unrecorded.
    already = int(re.search(r"([\d,]+) already sent", dry.stdout)[1].replace(",", ""))
    assert received - 1 <= already <= received, f"seed {seed}: {dry.stdout}"
    duplicates = server.count() - 400
    print(f"seed {seed}, kill points {points}, raw duplicates {duplicates}")
    assert 0 <= duplicates <= 3, f"seed {seed}: {duplicates} raw duplicates for 3 kills"
    distinct = {(r.recipient, r.message_id) for r in server.received}
    assert len(distinct) == 400, f"seed {seed}"
    assert_exactly_one_each(root, server.received, addresses(400))
