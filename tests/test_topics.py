"""Topics: each subscriber's Saturday email lists that week's articles in the categories they
follow; one rendering per distinct set of articles; a subscriber with nothing that week, or
paused, gets nothing; the ledger, resume and fingerprint work per issue with its variants."""

from __future__ import annotations

import csv
import email
import email.policy
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import MetaData, Table, inspect, select
from test_send import press_send

from generator.content.loader import load_content
from generator.content.topics import UnknownTopic, checked_topics, stored_topics
from generator.delivery.ledger import Ledger
from generator.digest.schedule import digest_window, select_week
from generator.digest.variants import WHOLE_ISSUE, plan_variants, variant_of_topics
from generator.subscribers.csv_files import export_csv, read_import
from generator.subscribers.database import open_engine
from generator.subscribers.migrations import LATEST, migrate
from generator.subscribers.schema import deliveries, metadata, schema_version
from generator.subscribers.store import NewSubscriber, SubscriberStore, generation_of

from conftest import ISSUE, KEY, NOW, SATURDAY
from smtp_server import smtp_server
from test_check_errors import run_press

# The 2026-11-28 issue: "Celebrate the save" (Teams) and "Quiet voices in loud rooms"
# (Communication).
TEAMS_ONLY = "Celebrate the save, not only the launch"
BOTH = {TEAMS_ONLY, "Quiet voices in loud rooms"}
READERS = {
    "every@example.com": (),
    "teams@example.com": ("Teams",),
    "teams2@example.com": ("Teams", "Growth"),  # Growth has nothing that week
    "growth@example.com": ("Growth",),  # nothing that week: no email
    "both@example.com": ("Communication", "Teams"),  # the whole issue, like "every"
}


def week_of(root: Path):
    site, articles = load_content(root)
    return site, select_week(articles, digest_window(site, SATURDAY.date()), SATURDAY)


def titles_in(data: bytes) -> set[str]:
    message = email.message_from_bytes(data, policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()
    return {title for title in BOTH if title in text}


def test_variants_are_one_per_distinct_set_of_articles(example_project: Path) -> None:
    _, week = week_of(example_project)
    selections = {stored_topics(t): 1 for t in READERS.values()} | {"": 3}
    variants = plan_variants(week, selections)
    whole, teams = variants
    assert whole.key == WHOLE_ISSUE
    assert {a.title for a in whole.articles} == BOTH and whole.recipients == 4
    assert [a.title for a in teams.articles] == [TEAMS_ONLY] and teams.recipients == 2
    mapping = variant_of_topics(variants)
    assert "Growth" not in mapping  # nothing that week: no variant, no row
    assert mapping["Teams"] == mapping["Growth\nTeams"] == teams.key


def test_topics_must_be_site_categories_and_all_of_them_is_every_topic() -> None:
    categories = ("Communication", "Decision Making", "Growth", "Teams")
    assert checked_topics([" Teams", "Growth", "Teams"], categories) == ("Growth", "Teams")
    assert checked_topics(categories, categories) == ()  # a category added later comes too
    with pytest.raises(UnknownTopic, match="'Cooking' is not a topic here"):
        checked_topics(["Cooking"], categories)


def populate_readers(store: SubscriberStore) -> None:
    rows = [NewSubscriber(address, topics=topics) for address, topics in READERS.items()]
    store.add_many(rows, SATURDAY - timedelta(days=3))


def test_each_reader_gets_the_articles_in_their_topics_once(mail_project) -> None:
    root, url, populate = mail_project
    store = populate(0)
    populate_readers(store)
    store.add(NewSubscriber("paused@example.com"), SATURDAY - timedelta(days=3))
    generation = generation_of(store.get("paused@example.com").confirmed_at)
    until = SATURDAY + timedelta(weeks=2)
    assert store.set_preferences("paused@example.com", generation, (), until, NOW)
    with smtp_server() as (smtp, server):
        dry = press_send(root, url, "--transport", smtp, "--dry-run")
        first = press_send(root, url, "--transport", smtp)
        again = press_send(root, url, "--transport", smtp)
    assert dry.returncode == 0, dry.stderr
    assert (
        "6 active subscriber(s), 2 of them paused or with nothing in their topics this week, "
        "0 already sent; at most 4 would be sent"
    ) in dry.stdout
    assert first.returncode == 0, first.stderr
    got = {r.recipient: titles_in(r.data) for r in server.received}
    assert got == {
        "every@example.com": BOTH,
        "both@example.com": BOTH,
        "teams@example.com": {TEAMS_ONLY},
        "teams2@example.com": {TEAMS_ONLY},
    }
    # Rendered once per variant, with its readers: the send says so.
    assert re.search(r"whole issue \(2 article\(s\)\): 2 recipient\(s\)", first.stdout)
    assert re.search(r"variant \w{12} \(1 of 2 article\(s\)\): 2 recipient\(s\)", first.stdout)
    assert "sent 4, failed 0" in first.stdout
    assert again.returncode == 0 and "sent 0" in again.stdout and server.count() == 4


def test_a_resumed_send_keeps_variants_and_adds_a_new_choice(mail_project) -> None:
    root, url, populate = mail_project
    store = populate(0)
    populate_readers(store)
    with smtp_server() as (smtp, server):
        first = press_send(root, url, "--transport", smtp, "--limit", "2")
        assert first.returncode == 0 and server.count() == 2
        # Between runs a reader changes topics and a new reader arrives with a new choice.
        store.add(NewSubscriber("late@example.com", topics=("Communication",)), SATURDAY)
        rest = press_send(root, url, "--transport", smtp)
    assert rest.returncode == 0, rest.stderr
    got = {r.recipient: titles_in(r.data) for r in server.received}
    assert len(server.received) == len(got) == 5  # nobody twice
    assert got["late@example.com"] == {"Quiet voices in loud rooms"}
    ledger = Ledger(store.engine, ISSUE)
    assert ledger.counts() == {"sent": 5}


def test_a_changed_article_stops_a_resumed_send_of_any_variant(mail_project) -> None:
    root, url, populate = mail_project
    store = populate(0)
    populate_readers(store)
    with smtp_server() as (smtp, server):
        assert press_send(root, url, "--transport", smtp, "--limit", "1").returncode == 0
        article = next((root / "content/posts").glob("*celebrate-the-save*.md"))
        article.write_text(article.read_text().replace("<!-- more -->", "Edit.\n\n<!-- more -->"))
        changed = press_send(root, url, "--transport", smtp)
        assert changed.returncode == 1 and "started with digest" in changed.stderr
        assert server.count() == 1
        shown = re.search(r"fingerprint (\w{12})", changed.stdout)[1]
        rest = press_send(root, url, "--transport", smtp, "--expect", shown)
    assert rest.returncode == 0, rest.stderr
    assert server.count() == 4


def test_press_digest_writes_a_preview_per_variant_with_its_recipients(mail_project) -> None:
    root, url, populate = mail_project
    populate_readers(populate(0))
    env = {"PRESS_DATABASE_URL": url, "SOURCE_DATE_EPOCH": str(int(SATURDAY.timestamp()))}
    shown = run_press(root, "digest", "--date", ISSUE, env=env)
    assert shown.returncode == 0, shown.stderr
    out = root / "dist" / "digest" / ISSUE
    [variant] = [p for p in out.iterdir() if p.is_dir()]
    assert sorted(p.name for p in variant.iterdir()) == ["email.html", "email.txt", "preview.eml"]
    assert TEAMS_ONLY in (variant / "email.txt").read_text()
    assert "Quiet voices" not in (variant / "email.txt").read_text()
    assert "whole issue: 2 article(s), 2 recipient(s)" in shown.stdout
    assert f"{variant.name.removeprefix('variant-')}: 1 article(s), 2 recipient(s)" in shown.stdout
    fingerprint = re.search(r"fingerprint (\w{12})", shown.stdout)[1]
    sent_env = {**env, "PRESS_SIGNING_KEY": KEY}
    with smtp_server() as (smtp, server):
        sent = run_press(
            root, "send", "--no-verify-live", "--transport", smtp, "--expect", fingerprint,
            env=sent_env,
        )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    assert server.count() == 4


def test_a_version_8_database_gains_topics_pauses_variants_and_clicks(database_url, tmp_path):
    """The schema the previous release shipped (8): no topics, pause or variant columns, no
    issue_variants or clicks table. Migrating keeps subscribers and deliveries as they were."""
    engine = open_engine(database_url, tmp_path)
    old = MetaData()
    dropped = {"topics", "paused_until", "variant"}
    for table in metadata.sorted_tables:
        if table.name in ("issue_variants", "clicks", schema_version.name):
            continue
        Table(table.name, old, *[c._copy() for c in table.columns if c.name not in dropped])
    with engine.begin() as conn:
        old.create_all(conn)
        schema_version.create(conn)
        conn.execute(schema_version.insert().values(version=8))
        conn.execute(
            old.tables["subscribers"].insert().values(
                id=1, email="old@example.com", status="active", source="cli", created_at=NOW,
                updated_at=NOW, confirmed_at=NOW, bounce_count=0,
            )
        )  # fmt: skip
        conn.execute(
            old.tables["deliveries"].insert().values(
                issue="2026-11-21", subscriber_id=1, status="sent", attempts=1, last_error="",
                updated_at=NOW,
            )
        )  # fmt: skip
    assert migrate(engine) == LATEST == 9
    assert {"issue_variants", "clicks"} <= set(inspect(engine).get_table_names())
    store = SubscriberStore(engine)
    assert store.get("old@example.com").topics == ()  # follows every category
    assert store.topic_selections(NOW) == {"": 1}
    with engine.connect() as conn:
        assert conn.execute(select(deliveries.c.variant)).scalar_one() == WHOLE_ISSUE
    engine.dispose()


def test_topics_survive_an_export_and_an_import(store: SubscriberStore, tmp_path: Path) -> None:
    store.add(NewSubscriber("a@example.com", topics=("Teams", "Growth")), NOW)
    store.add(NewSubscriber("b@example.com"), NOW)
    path = tmp_path / "out.csv"
    export_csv(store.iter_subscribers(), path)
    rows = {row["email"]: row["topics"] for row in csv.DictReader(path.open())}
    assert rows == {"a@example.com": "Growth;Teams", "b@example.com": ""}
    categories = ("Communication", "Growth", "Teams")
    parsed = read_import(path, tmp_path, categories)
    assert not parsed.problems
    assert {row.email: row.topics for row in parsed.rows} == {
        "a@example.com": ("Growth", "Teams"),
        "b@example.com": (),
    }
    bad = tmp_path / "bad.csv"
    bad.write_text("email,topics\nc@example.com,Teams;Cooking\n")
    [problem] = read_import(bad, tmp_path, categories).problems
    assert problem.line == 2 and "'Cooking' is not a topic here" in problem.message
    assert problem.col == len("c@example.com,Teams;") + 1
