"""`press subscribers import` of the exports people bring from Mailchimp, Substack, Ghost and
Buttondown (fixtures written from each platform's documented columns), into a real store."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from generator.subscribers.platform_exports import recognise
from generator.subscribers.store import SubscriberStore

from conftest import FIXTURES
from test_check_errors import run_press

IMPORTS = FIXTURES / "imports"
MAILCHIMP = [
    "mailchimp_subscribed_members_export.csv",
    "mailchimp_unsubscribed_members_export.csv",
    "mailchimp_cleaned_members_export.csv",
]


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    return {"PRESS_DATABASE_URL": database_url}


def _import(project: Path, env: dict[str, str], *names: str):
    for name in names:
        shutil.copy(IMPORTS / name, project / name)
    return run_press(project, "subscribers", "import", *names, env=env)


def _statuses(project: Path, database_url: str) -> dict[str, str]:
    store = SubscriberStore.open(database_url, project)
    try:
        return {s.email: s.status for s in store.iter_subscribers()}
    finally:
        store.close()


def test_a_mailchimp_audience_export_imports_with_who_left_and_bounced_kept_out(
    project: Path, env, database_url: str
):
    result = _import(project, env, *MAILCHIMP)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "mailchimp_subscribed_members_export.csv (mailchimp): imported 2, unsubscribed 0,"
        " skipped 1 (1 in another file)",
        "mailchimp_unsubscribed_members_export.csv (mailchimp): imported 0, unsubscribed 2,"
        " skipped 0",
        "mailchimp_cleaned_members_export.csv (mailchimp): imported 0, unsubscribed 1, skipped 0",
    ]
    assert _statuses(project, database_url) == {
        "ada@example.com": "active",
        "grace@example.com": "active",
        "left@example.com": "unsubscribed",
        "both@example.com": "unsubscribed",  # unsubscribed in one file: never mailed
        "gone@example.com": "bounced",  # cleaned: Mailchimp found it undeliverable
    }
    store = SubscriberStore.open(database_url, project)
    ada = store.get("ada@example.com")
    assert ada.confirmed_at == datetime(2024, 1, 5, 9, 14, 31, tzinfo=UTC)  # CONFIRM_TIME
    assert store.get("grace@example.com").created_at == datetime(2024, 2, 10, 18, tzinfo=UTC)
    assert ada.source == "import:mailchimp:mailchimp_subscribed_members_export.csv"
    assert [s.email for s in store.iter_subscribers("active")] == [
        "ada@example.com",
        "grace@example.com",
    ]
    store.close()
    again = _import(project, env, MAILCHIMP[0])
    assert again.stdout.strip().endswith("imported 0, unsubscribed 0, skipped 3 (3 already known)")


def test_substack_ghost_and_buttondown_exports_map_their_statuses(
    project: Path, env, database_url: str
):
    result = _import(
        project, env, "substack_subscribers.csv", "ghost_members.csv", "buttondown_subscribers.csv"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "substack_subscribers.csv (substack): imported 2, unsubscribed 2, skipped 0",
        "ghost_members.csv (ghost): imported 2, unsubscribed 1, skipped 0",
        "buttondown_subscribers.csv (buttondown): imported 2, unsubscribed 2,"
        " skipped 1 (1 not confirmed there)",
    ]
    assert _statuses(project, database_url) == {
        "reader@example.com": "active",
        "paid@example.com": "active",
        "lapsed@example.com": "unsubscribed",
        "bouncing@example.com": "bounced",  # Substack stopped mailing it
        "jamie@example.com": "active",
        "quiet@example.com": "unsubscribed",
        "comped@example.com": "active",
        "regular@example.com": "active",
        "premium@example.com": "active",
        "quit@example.com": "unsubscribed",
        "spam@example.com": "unsubscribed",
    }
    store = SubscriberStore.open(database_url, project)
    reader = store.get("reader@example.com")
    assert reader.confirmed_at == datetime(2023, 8, 27, 15, 6, 27, 713000, tzinfo=UTC)
    assert store.get("regular@example.com").source == "https://example.org/blog/post"
    assert store.get("waiting@example.com") is None
    store.close()


def test_a_bad_cell_in_an_export_is_reported_at_its_place_and_nothing_is_imported(
    project: Path, env, database_url: str
):
    text = (IMPORTS / "ghost_members.csv").read_text(encoding="utf-8")
    (project / "ghost.csv").write_text(text.replace(",false,false,", ",maybe,false,"))
    (project / "buttondown.csv").write_text(
        "email_address,creation_date,type\nx@example.com,yesterday,regular\n"
        "y@example.com,2023-01-01T00:00:00Z,vip\n"
    )
    result = run_press(project, "subscribers", "import", "ghost.csv", "buttondown.csv", env=env)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "ghost.csv:3:51: subscribed_to_emails 'maybe' is neither true nor false",
        "buttondown.csv:2:15: 'yesterday' is not a date and time",
        "buttondown.csv:3:36: type 'vip' is not a Buttondown subscriber type",
        "3 invalid row(s); nothing imported",
    ]
    assert _statuses(project, database_url) == {}


def test_exports_are_told_apart_by_their_header_row():
    def named(*columns: str) -> str | None:
        platform = recognise(set(columns))
        return platform.name if platform else None

    assert named("email address", "optin_time") == "mailchimp"
    assert named("email", "active_subscription", "created_at") == "substack"
    assert named("id", "email", "subscribed_to_emails") == "ghost"
    assert named("email_address", "creation_date", "type") == "buttondown"
    assert recognise({"email_address", "creation_date", "type"}).email_column == "email_address"
    assert named("email", "status", "source") == "press"
    assert named("name", "phone") is None
