"""`press bounces ingest`: delivery status notifications and complaint reports, in the formats
real servers send, change subscribers once per message; what cannot be read is listed."""

from __future__ import annotations

import mailbox
import shutil
from pathlib import Path

import pytest

from generator.delivery.feedback import classify
from generator.subscribers.store import NewSubscriber, SubscriberStore

from conftest import NOW, REPO
from test_check_errors import run_press

FIXTURES = REPO / "tests" / "fixtures" / "feedback"
READERS = [
    "gone@example.com",
    "slow@example.net",
    "left.company@example.org",
    "former.staff@contoso.example",
    "no.such.reader@gmail.example",
    "annoyed@mailbox.example",
    "fine@example.com",
]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("postfix-hard.eml", [("hard", "gone@example.com", "5.1.1")]),
        ("postfix-delayed.eml", [("soft", "slow@example.net", "4.4.1")]),
        ("exim-hard.eml", [("hard", "left.company@example.org", "5.1.1")]),
        ("exchange-hard.eml", [("hard", "former.staff@contoso.example", "5.1.10")]),
        ("gmail-hard.eml", [("hard", "no.such.reader@gmail.example", "5.1.1")]),
        ("arf-abuse.eml", [("complaint", "annoyed@mailbox.example", "abuse")]),
        ("autoreply.eml", []),
    ],
)
def test_each_format_is_classified(name: str, expected: list[tuple[str, str, str]]) -> None:
    incoming = classify((FIXTURES / name).read_bytes(), name)
    assert [(f.kind, f.recipient, f.detail) for f in incoming.feedback] == expected
    assert incoming.key.startswith("<")


@pytest.fixture
def readers(project: Path, database_url: str) -> SubscriberStore:
    store = SubscriberStore.open(database_url, project)
    store.add_many([NewSubscriber(a) for a in READERS], NOW)
    yield store
    store.close()


def maildir_of(folder: Path) -> Path:
    box = mailbox.Maildir(folder, create=True)
    for path in sorted(FIXTURES.glob("*.eml")):
        box.add(path.read_bytes())
    return folder


def test_ingest_applies_each_message_once_and_lists_the_rest(
    project: Path, readers: SubscriberStore, database_url: str
) -> None:
    config = project / "site_config" / "site.yml"
    config.write_text(config.read_text().replace("bounce_limit: 2", "bounce_limit: 1"))
    env = {"PRESS_DATABASE_URL": database_url}
    inbox = maildir_of(project / "bounces")
    first = run_press(project, "bounces", "ingest", str(inbox), env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().splitlines()[-1] == (
        "4 hard, 1 soft, 1 complaint, 1 unclassified, 0 seen before"
    )
    assert "not a bounce or complaint press can read; left for a person" in first.stdout
    status = {a: readers.get(a).status for a in READERS}
    assert status == {
        "gone@example.com": "bounced",
        "slow@example.net": "active",
        "left.company@example.org": "bounced",
        "former.staff@contoso.example": "bounced",
        "no.such.reader@gmail.example": "bounced",
        "annoyed@mailbox.example": "complained",
        "fine@example.com": "active",
    }
    again = run_press(project, "bounces", "ingest", str(inbox), env=env)
    assert again.stdout.strip().splitlines()[-1] == (
        "0 hard, 0 soft, 0 complaint, 1 unclassified, 6 seen before"
    )
    assert [change for _, change, _ in readers.events("slow@example.net")] == ["soft bounce"]


def test_ingest_reads_an_mbox_and_single_files(
    project: Path, readers: SubscriberStore, database_url: str
) -> None:
    env = {"PRESS_DATABASE_URL": database_url}
    box = mailbox.mbox(project / "bounces.mbox")
    box.add((FIXTURES / "gmail-hard.eml").read_bytes())
    box.flush()
    shutil.copy(FIXTURES / "arf-abuse.eml", project / "report.eml")
    from_mbox = run_press(project, "bounces", "ingest", "bounces.mbox", env=env)
    assert "hard bounce 5.1.1 for no.such.reader@gmail.example" in from_mbox.stdout
    single = run_press(project, "bounces", "ingest", "report.eml", env=env)
    assert "complaint (abuse) from annoyed@mailbox.example: complained" in single.stdout
    assert readers.get("annoyed@mailbox.example").status == "complained"
    assert readers.get("no.such.reader@gmail.example").bounce_count == 1


VERP_DSN = """From: MAILER-DAEMON@relay.example.org
To: {to}
Subject: Undelivered Mail Returned to Sender
Message-ID: <verp-dsn-1@relay.example.org>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Delivery failed.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.org

Action: failed
Status: 5.2.1
Diagnostic-Code: smtp; 550 5.2.1 Mailbox disabled

--B--
"""


def test_verp_names_the_reader_of_a_bounce_that_does_not(mail_project) -> None:
    from conftest import KEY, SATURDAY
    from smtp_server import smtp_server

    root, url, populate = mail_project
    store = populate(3)
    config = root / "site_config" / "site.yml"
    text = config.read_text().replace(
        "  # bounce_address: bounces@leadership-press.example.org\n  verp: false",
        "  bounce_address: bounces@leadership-press.example.org\n  verp: true",
    )
    config.write_text(text.replace("bounce_limit: 2", "bounce_limit: 1"))
    env = {
        "PRESS_DATABASE_URL": url,
        "PRESS_SIGNING_KEY": KEY,
        "SOURCE_DATE_EPOCH": str(int(SATURDAY.timestamp())),
    }
    with smtp_server() as (smtp, server):
        sent = run_press(root, "send", "--no-verify-live", "--transport", smtp, env=env)
        assert sent.returncode == 0, sent.stderr
    senders = {r.recipient: r.sender for r in server.received}
    assert len(set(senders.values())) == 3  # one envelope sender per reader
    reader = "reader00001@example.com"
    tagged = senders[reader]
    assert tagged.startswith("bounces+") and tagged.endswith("@leadership-press.example.org")
    (root / "dsn.eml").write_text(VERP_DSN.format(to=tagged))
    forged = tagged.replace("bounces+", "bounces+9")  # another id with this reader's mac
    (root / "forged.eml").write_text(VERP_DSN.format(to=forged).replace("verp-dsn-1", "verp-dsn-2"))
    ingested = run_press(root, "bounces", "ingest", "dsn.eml", env=env)
    assert f"hard bounce 5.2.1 for {reader}: now bounced" in ingested.stdout, ingested.stderr
    refused = run_press(root, "bounces", "ingest", "forged.eml", env=env)
    assert "left for a person" in refused.stdout
    assert {s.email for s in store.iter_subscribers("bounced")} == {reader}


def test_report_counts_what_followed_each_send_and_warns(mail_project) -> None:
    import json

    from conftest import KEY, SATURDAY, addresses
    from smtp_server import Recorder, smtp_server

    root, url, populate = mail_project
    store = populate(40)
    env = {
        "PRESS_DATABASE_URL": url,
        "PRESS_SIGNING_KEY": KEY,
        "SOURCE_DATE_EPOCH": str(int(SATURDAY.timestamp())),
    }
    dead = set(addresses(40)[:2])
    refusing = Recorder(rcpt_answer=lambda a, t: "550 5.1.1 No such user" if a in dead else None)
    with smtp_server(refusing) as (smtp, _):
        sent = run_press(root, "send", "--no-verify-live", "--transport", smtp, env=env)
    assert "sent 38, failed 2" in sent.stdout
    complaint = (
        (FIXTURES / "arf-abuse.eml")
        .read_text()
        .replace("annoyed@mailbox.example", addresses(40)[5])
    )
    (root / "complaint.eml").write_text(complaint)
    assert run_press(root, "bounces", "ingest", "complaint.eml", env=env).returncode == 0
    store.unsubscribe(addresses(40)[6], SATURDAY)
    shown = run_press(root, "report", env=env)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].startswith("Digest 2026-11-28")
    assert "  recipients                 40" in lines and "  complaints                  1" in lines
    assert "warning: complaint rate 2.63% is over 0.1%" in shown.stderr
    assert "warning: hard-bounce rate 5.00% is over 2%" in shown.stderr
    data = json.loads(run_press(root, "report", "--json", env=env).stdout)
    assert {k: data[0][k] for k in ("sent", "failed", "hard_bounces", "complaints")} == {
        "sent": 38,
        "failed": 2,
        "hard_bounces": 2,
        "complaints": 1,
    }
    assert data[0]["unsubscribes"] == 1
    missing = run_press(root, "report", "--date", "2026-11-21", env=env)
    assert missing.returncode == 1 and "has not been sent" in missing.stderr


@pytest.mark.parametrize("where", ["alone", "in a folder", "in a maildir"])
def test_a_named_pipe_is_refused_and_never_opened(
    project: Path, tmp_path: Path, where: str, monkeypatch: pytest.MonkeyPatch
):
    import os

    from click.testing import CliRunner

    from generator.cli.main import main

    if where == "alone":
        target = fifo = tmp_path / "bounces.mbox"
    elif where == "in a folder":
        target = tmp_path / "reports"
        target.mkdir()
        (target / "a.eml").write_bytes(b"Subject: hi\r\n\r\nbody\r\n")
        fifo = target / "b.eml"
    else:
        target = maildir_of(tmp_path / "box")
        fifo = target / "new" / "1800000000.M9P9.host"
    os.mkfifo(fifo)
    monkeypatch.chdir(project)
    # Opening a FIFO for reading blocks until a writer comes: the answer must come first.
    result = CliRunner().invoke(main, ["bounces", "ingest", str(target)])
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: {fifo}: not a regular file (a FIFO, device or socket is never read)"
    )


@pytest.mark.parametrize("command", [["subscribers", "import"], ["restore"]])
def test_a_named_pipe_given_to_import_or_restore_is_refused(
    project: Path, tmp_path: Path, command: list[str], monkeypatch: pytest.MonkeyPatch
):
    import os

    from click.testing import CliRunner

    from generator.cli.main import main

    fifo = tmp_path / "subscribers.csv"
    os.mkfifo(fifo)
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, [*command, str(fifo)])  # blocked forever before
    assert result.exit_code == 1
    assert "not a regular file" in result.output or "is not a file" in result.output
