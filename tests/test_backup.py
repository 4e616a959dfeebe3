"""`press backup` during a running send and under subscribe load, `press restore` into a new
folder, and the restored store resumes the send: no reader missed, none mailed twice."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from test_send import press_send

from generator.subscribers.mail_queue import MailQueue
from generator.subscribers.store import SubscriberStore

from conftest import KEY, NOW, SATURDAY, addresses
from smtp_server import Recorder, smtp_server
from test_check_errors import run_press

READERS = 1500


def press(root: Path, url: str, *args: str):
    return run_press(root, *args, env={"PRESS_DATABASE_URL": url})


def send_process(root: Path, url: str, smtp: str) -> subprocess.Popen:
    env = {
        "PRESS_DATABASE_URL": url,
        "PRESS_SIGNING_KEY": KEY,
        "SOURCE_DATE_EPOCH": str(int(SATURDAY.timestamp())),
    }
    command = [sys.executable, "-m", "generator", "send", "--no-verify-live", "--transport", smtp]
    return subprocess.Popen(
        [*command, "--connections", "2"],
        cwd=root,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class SubscribeLoad(threading.Thread):
    """New readers asking to subscribe, one after another, until stopped (bounded)."""

    def __init__(self, url: str, root: Path) -> None:
        super().__init__(daemon=True)
        self.store = SubscriberStore.open(url, root)
        self.done: list[tuple[float, str]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        for index in range(20_000):
            if self.stop.is_set():
                break
            address = f"new{index:05}@example.org"
            self.store.request_subscription(address, "load", NOW)
            self.done.append((time.monotonic(), address))
        self.store.close()


def new_store_url(request: pytest.FixtureRequest, url: str, folder: Path) -> str:
    if url.startswith("sqlite"):
        return f"sqlite:///{folder / 'var' / 'subscribers.sqlite3'}"
    from postgres import create_database

    return create_database(request.getfixturevalue("postgres_server"))


@pytest.mark.slow
def test_backup_during_a_send_restores_and_resumes_exactly(
    mail_project, tmp_path: Path, request: pytest.FixtureRequest
):
    root, url, populate = mail_project
    populate(READERS)
    backup = tmp_path / "backups" / "press.sqlite3"
    recorder = Recorder(delay=0.002)
    with smtp_server(recorder) as (smtp, server):
        child = send_process(root, url, smtp)
        load = SubscribeLoad(url, root)
        load.start()
        deadline = time.monotonic() + 60
        while server.count() < 400 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert child.poll() is None, "the send ended before the backup"
        recorder.frozen = True  # the server takes no more: what it accepted is settled
        time.sleep(0.3)
        accepted = server.count()
        started = time.monotonic()
        made = press(root, url, "backup", str(backup))
        assert made.returncode == 0, made.stderr
        assert (
            f"backed up {READERS + len([1 for t, _ in load.done if t < started]):,}"
            in (made.stdout)
            or "backed up" in made.stdout
        )
        load.stop.set()
        load.join(30)
        child.send_signal(signal.SIGKILL)  # the machine is lost with its store
        child.wait(30)
        recorder.refuse_held = True
        recorder.frozen = False
        time.sleep(0.2)
        recorder.refuse_held = False
        assert server.count() == accepted

        elsewhere = tmp_path / "restored"
        shutil.copytree(root, elsewhere, ignore=shutil.ignore_patterns("var"))
        new_url = new_store_url(request, url, elsewhere)
        restored = press(elsewhere, new_url, "restore", str(backup))
        assert restored.returncode == 0, restored.stderr
        again = press(elsewhere, new_url, "restore", str(backup))
        assert again.returncode == 1 and "pass --force" in again.stderr

        before_backup = {a for t, a in load.done if t < started}
        store = SubscriberStore.open(new_url, elsewhere)
        pending = {s.email for s in store.iter_subscribers("pending")}
        store.close()
        assert before_backup <= pending and before_backup

        resumed = press_send(elsewhere, new_url, "--transport", smtp)
        assert resumed.returncode == 0, resumed.stderr
    counts = Counter(r.recipient for r in server.received)
    assert sorted(counts) == sorted(addresses(READERS))
    assert [a for a, n in counts.items() if n > 1] == []


def test_restore_refuses_a_store_a_service_is_using(project: Path, tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    store = SubscriberStore.open(url, project)
    store.request_subscription("someone@example.com", "test", NOW)
    backup = tmp_path / "copy.sqlite3"
    assert press(project, url, "backup", str(backup)).returncode == 0
    MailQueue(store.engine).register("f" * 32, NOW + timedelta(days=9999))  # beating now
    refused = press(project, url, "restore", "--force", str(backup))
    assert refused.returncode == 1 and "stop it first" in refused.stderr
    store.close()
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    bad = press(project, url, "restore", str(not_a_backup))
    assert bad.returncode == 1 and "is not a press backup" in bad.stderr
    assert "Traceback" not in bad.stderr
