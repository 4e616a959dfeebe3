"""The subscriber store and `press subscribers`, on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from generator.subscribers.migrations import LATEST, SchemaTooNew, current_version, migrate
from generator.subscribers.schema import schema_version
from generator.subscribers.store import NewSubscriber, SubscriberStore, count_permanent_failure

from conftest import NOW
from test_check_errors import run_press


def test_addresses_are_normalised_so_case_never_makes_a_second_subscriber(store):
    from generator.subscribers.addresses import normalise_address

    assert store.add(NewSubscriber(normalise_address(" Ann@Example.COM ")), NOW)
    assert not store.add(NewSubscriber(normalise_address("ann@example.com")), NOW)
    assert store.count_by_status()["active"] == 1
    assert store.get("ann@example.com").email == "ann@example.com"


def test_adding_known_addresses_never_changes_them(store):
    store.add(NewSubscriber("gone@example.com", "active", "form:/posts/x/"), NOW)
    store.unsubscribe("gone@example.com", NOW)
    assert store.add_many([NewSubscriber("gone@example.com", "active", "import")], NOW) == 0
    assert store.get("gone@example.com").status == "unsubscribed"
    assert store.get("gone@example.com").source == "form:/posts/x/"


def test_statuses_carry_timestamps_and_consent_source(store):
    later = NOW + timedelta(hours=2)
    assert store.request_subscription("new@example.com", "form:/posts/a/", NOW)
    pending = store.get("new@example.com")
    assert (pending.status, pending.source, pending.created_at) == (
        "pending",
        "form:/posts/a/",
        NOW,
    )
    assert pending.confirmed_at is None
    assert store.confirm("new@example.com", later)
    active = store.get("new@example.com")
    assert (active.status, active.confirmed_at, active.updated_at) == ("active", later, later)
    bounced_at = later + timedelta(days=7)
    with store.engine.begin() as conn:
        assert not count_permanent_failure(conn, active.id, 2, later)
        assert count_permanent_failure(conn, active.id, 2, bounced_at)
    bounced = store.get("new@example.com")
    assert (bounced.status, bounced.updated_at, bounced.bounce_count) == ("bounced", bounced_at, 2)


def test_confirmation_is_sent_at_most_once_per_interval(store):
    assert store.request_subscription("a@example.com", "form", NOW)
    assert not store.request_subscription("a@example.com", "form", NOW + timedelta(minutes=5))
    assert store.request_subscription("a@example.com", "form", NOW + timedelta(minutes=11))


def test_active_subscribers_are_not_mailed_again_and_the_unsubscribed_can_return(store):
    store.add(NewSubscriber("on@example.com"), NOW)
    assert not store.request_subscription("on@example.com", "form", NOW)
    assert store.get("on@example.com").status == "active"
    store.unsubscribe("on@example.com", NOW)
    assert store.request_subscription("on@example.com", "form", NOW)
    assert store.get("on@example.com").status == "pending"


def test_unsubscribe_keeps_a_complaint(store):
    store.add(NewSubscriber("c@example.com", "complained"), NOW)
    assert store.unsubscribe("c@example.com", NOW)
    assert store.get("c@example.com").status == "complained"
    assert not store.unsubscribe("nobody@example.com", NOW)


def test_iteration_pages_through_every_subscriber_in_order(store):
    rows = [NewSubscriber(f"r{i:04}@example.com") for i in range(2_345)]
    assert store.add_many(rows, NOW) == 2_345
    seen = [s.email for s in store.iter_subscribers("active")]
    assert seen == [r.email for r in rows]
    assert list(store.iter_subscribers("pending")) == []


def test_concurrent_requests_for_one_address_make_one_row_and_one_email(store):
    results: list[bool] = []

    def request() -> None:
        results.append(store.request_subscription("race@example.com", "form", NOW))

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results.count(True) == 1
    assert store.count_by_status()["pending"] == 1


def test_migrations_are_versioned_and_keep_data(database_url: str, tmp_path: Path):
    from generator.subscribers.database import open_engine

    engine = open_engine(database_url, tmp_path)
    assert migrate(engine, target=1) == 1
    SubscriberStore(engine).add(NewSubscriber("kept@example.com"), NOW)
    assert migrate(engine) == LATEST
    assert migrate(engine) == LATEST  # a second run changes nothing
    store = SubscriberStore(engine)
    assert store.get("kept@example.com").status == "active"
    with engine.begin() as conn:
        assert current_version(conn) == LATEST
        conn.execute(schema_version.update().values(version=LATEST + 1))
    with pytest.raises(SchemaTooNew):
        migrate(engine)
    engine.dispose()


def test_a_version_2_database_gains_the_issue_and_welcome_records(database_url: str, tmp_path):
    """A database deployed before version 3 has no welcomed_at column: migrating adds it."""
    from sqlalchemy import MetaData, Table, inspect

    from generator.subscribers.database import open_engine
    from generator.subscribers.schema import deliveries, subscribers

    engine = open_engine(database_url, tmp_path)
    old = MetaData()
    columns = [c._copy() for c in subscribers.columns if c.name != "welcomed_at"]
    Table("subscribers", old, *columns)
    deliveries.to_metadata(old)
    with engine.begin() as conn:
        old.create_all(conn)
        schema_version.create(conn)
        conn.execute(schema_version.insert().values(version=2))
    assert migrate(engine) == LATEST
    assert "welcomed_at" in {c["name"] for c in inspect(engine).get_columns("subscribers")}
    assert inspect(engine).has_table("issues")
    store = SubscriberStore(engine)
    store.add(NewSubscriber("old@example.com"), NOW)
    assert store.claim_welcome("old@example.com", NOW)
    assert not store.claim_welcome("old@example.com", NOW)
    engine.dispose()


def test_a_version_7_database_gains_worker_leases_and_keeps_its_queue(database_url, tmp_path):
    """The schema the previous release shipped (7): the mail queue has no locked_by and there
    is no mail_workers table. Migrating keeps queued mail and the queue leases by worker."""
    from sqlalchemy import MetaData, Table, inspect

    from generator.subscribers.database import open_engine
    from generator.subscribers.mail_queue import MailQueue
    from generator.subscribers.schema import mail_queue, metadata

    engine = open_engine(database_url, tmp_path)
    old = MetaData()
    for table in metadata.sorted_tables:
        if table.name == "mail_queue":
            Table("mail_queue", old, *[c._copy() for c in table.columns if c.name != "locked_by"])
        elif table.name not in ("mail_workers", schema_version.name):
            table.to_metadata(old)
    with engine.begin() as conn:
        old.create_all(conn)
        schema_version.create(conn)
        conn.execute(schema_version.insert().values(version=7))
        conn.execute(
            mail_queue.insert().values(
                kind="confirm", email="queued@example.com", created_at=NOW, due_at=NOW,
                attempts=0, last_error="",
            )
        )  # fmt: skip
    assert migrate(engine) == LATEST
    assert "locked_by" in {c["name"] for c in inspect(engine).get_columns("mail_queue")}
    queue = MailQueue(engine)
    queue.register("w" * 32, NOW)
    assert [m.email for m in queue.claim_due(NOW, "w" * 32)] == ["queued@example.com"]
    assert queue.claim_due(NOW, "x" * 32) == []  # leased to a live worker
    engine.dispose()


@pytest.fixture
def press_env(database_url: str) -> dict[str, str]:
    return {"PRESS_DATABASE_URL": database_url}


def test_cli_add_count_list_remove(project: Path, press_env):
    added = run_press(
        project, "subscribers", "add", "A@example.com", "b@example.com", env=press_env
    )
    assert added.returncode == 0, added.stderr
    assert "added 2, already known 0" in added.stdout
    again = run_press(project, "subscribers", "add", "a@example.com", env=press_env)
    assert "added 0, already known 1" in again.stdout
    bad = run_press(project, "subscribers", "add", "not-an-address", env=press_env)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "'not-an-address'" in bad.stderr
    assert (
        run_press(project, "subscribers", "remove", "B@example.com", env=press_env).returncode == 0
    )
    listed = run_press(project, "subscribers", "list", "--status", "active", env=press_env)
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == ["a@example.com"]
    count = run_press(project, "subscribers", "count", env=press_env).stdout
    assert "active                1" in count and "unsubscribed          1" in count
    erased = run_press(project, "subscribers", "remove", "--erase", "a@example.com", env=press_env)
    assert erased.returncode == 0
    gone = run_press(project, "subscribers", "remove", "a@example.com", env=press_env)
    assert gone.returncode == 1 and "is not a subscriber" in gone.stderr


IMPORT = """email,status,source
ann@example.com,,newsletter-2024
bad-address,active,x
Ben@Example.com,pending,
ann@example.com,active,again
carl@example.com,sleeping,x
dee@example,active,x
"""


def test_import_reports_every_invalid_row_and_imports_nothing(project: Path, press_env):
    (project / "list.csv").write_text(IMPORT, encoding="utf-8")
    result = run_press(project, "subscribers", "import", "list.csv", env=press_env)
    assert result.returncode == 1
    errors = result.stderr.splitlines()
    assert errors[0] == "list.csv:3:1: 'bad-address': An email address must have an @-sign."
    assert errors[1].startswith("list.csv:6:18: status 'sleeping' is not one of")
    assert errors[2].startswith("list.csv:7:1: 'dee@example':")
    assert errors[3] == "3 invalid row(s); nothing imported"
    count = run_press(project, "subscribers", "count", env=press_env).stdout
    assert "total                 0" in count


def test_import_is_idempotent_and_export_round_trips(project: Path, press_env):
    (project / "list.csv").write_text(IMPORT, encoding="utf-8")
    args = ("subscribers", "import", "list.csv", "--skip-invalid")
    first = run_press(project, *args, env=press_env)
    assert first.stdout == (
        "list.csv (press): imported 2, unsubscribed 0, skipped 4 (3 invalid, 1 repeated in"
        " the file)\n"
    )
    second = run_press(project, *args, env=press_env)
    assert "imported 0, unsubscribed 0, skipped 6 (2 already known, 3 invalid" in second.stdout
    assert run_press(project, "subscribers", "export", "out.csv", env=press_env).returncode == 0
    rows = list(csv.DictReader((project / "out.csv").open(encoding="utf-8")))
    assert [(r["email"], r["status"], r["source"]) for r in rows] == [
        ("ann@example.com", "active", "newsletter-2024"),
        ("ben@example.com", "pending", "import:list.csv"),
    ]
    reimport = run_press(project, "subscribers", "import", "out.csv", env=press_env)
    assert "out.csv (press): imported 0, unsubscribed 0, skipped 2 (2 already known)" in (
        reimport.stdout
    )


def test_an_unreachable_database_is_a_clear_error(project: Path):
    env = {"PRESS_DATABASE_URL": "postgresql+psycopg://press@127.0.0.1:9/none"}
    result = run_press(project, "subscribers", "count", env=env)
    assert result.returncode == 1
    assert "cannot open the subscriber database" in result.stderr
    assert "Traceback" not in result.stderr


def test_export_neutralises_formulas_and_imports_back_to_the_same_values(
    project: Path, press_env, database_url: str
):
    sources = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tcmd", "plain"]
    with (project / "in.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "status", "source"])
        writer.writerows([f"r{i}@example.com", "active", s] for i, s in enumerate(sources))
    assert run_press(project, "subscribers", "import", "in.csv", env=press_env).returncode == 0
    assert run_press(project, "subscribers", "export", "out.csv", env=press_env).returncode == 0
    exported = list(csv.DictReader((project / "out.csv").open(encoding="utf-8")))
    cells = [r["source"] for r in exported]
    assert cells == ["'" + s for s in sources[:5]] + ["plain"]
    assert not any(
        cell.startswith(("=", "+", "-", "@", "\t", "\r"))
        for row in exported
        for cell in row.values()
    )
    store = SubscriberStore.open(database_url, project)
    store.erase("r0@example.com")
    assert run_press(project, "subscribers", "import", "out.csv", env=press_env).returncode == 0
    assert store.get("r0@example.com").source == sources[0]  # back to the value it had
    store.close()
