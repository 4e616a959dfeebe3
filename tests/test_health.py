"""/healthz says the process answers; /readyz says the database answers and mail goes out."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from test_subscription_service import start

from generator.subscribers.store import SubscriberStore

from conftest import NOW
from postgres import create_database


def test_ready_until_the_database_is_dropped(project: Path, postgres_server: str):
    url = create_database(postgres_server)
    store = SubscriberStore.open(url, project)
    server, _, _ = start(project, store)
    with server as base, httpx.Client(base_url=base) as client:
        assert client.get("/readyz").json() == {"ok": True}
        admin = create_engine(f"{postgres_server}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()
        gone = client.get("/readyz")
        assert gone.status_code == 503
        assert gone.json() == {
            "ok": False,
            "reason": "the database cannot be used (OperationalError)",
        }
        assert client.get("/healthz").json() == {"ok": True}  # the process itself is fine


def test_not_ready_while_due_mail_waits(project: Path, tmp_path: Path):
    store = SubscriberStore.open(f"sqlite:///{tmp_path / 'subscribers.sqlite3'}", project)
    server, _, clock = start(project, store)
    with server as base, httpx.Client(base_url=base) as client:
        assert client.get("/readyz").status_code == 200
        # A row due for three minutes that no worker has taken: the worker is not sending.
        from generator.subscribers.schema import mail_queue

        with store.engine.begin() as conn:
            conn.execute(
                mail_queue.insert().values(
                    kind="confirm", email="x@example.com", created_at=NOW, due_at=NOW,
                    attempts=0, last_error="", locked_until=NOW + timedelta(hours=1),
                )
            )  # fmt: skip
        clock.now = NOW + timedelta(minutes=3)
        stuck = client.get("/readyz")
        assert stuck.status_code == 503
        assert stuck.json()["reason"] == (
            "mail is not going out: the oldest due message has waited 180 s"
        )
    store.close()
