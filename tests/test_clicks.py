"""Counted clicks: each article link of the email goes through the service's signed /r/
redirect, which counts unique readers per issue and link without storing who clicked, skips
HEAD requests and scanners, and never redirects anywhere but the site's own pages."""

from __future__ import annotations

import email
import email.policy
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from test_subscription_service import KEY, Running, start

from generator.content.loader import load_content
from generator.delivery.ledger import Ledger
from generator.digest.message import Personaliser, personalised_message
from generator.digest.preview import prepare_digest
from generator.digest.render import with_utm
from generator.digest.schedule import issue_for
from generator.service.clicks import SCANNER_SECONDS
from generator.subscribers.click_counts import record_click
from generator.subscribers.schema import clicks, deliveries
from generator.subscribers.store import NewSubscriber, SubscriberStore

from conftest import NOW
from test_check_errors import run_press

COUNTED = re.compile(r"https://subscribe\.[^/]+(/r/[^\s\"<]+)")


@pytest.fixture
def svc(project: Path, store: SubscriberStore) -> Iterator[Running]:
    server, memory, clock = start(project, store)
    with server as url:
        yield Running(url, store, memory.outbox, clock)


def emailed_links(project: Path, address: str, sent_at: int) -> tuple[str, list[str], str]:
    """(issue, the counted links of `address`'s email (text part), the article they lead to)."""
    site, articles = load_content(project)
    day = issue_for(site, articles[0].published)
    template = prepare_digest(site, articles, day, NOW).template
    raw = personalised_message(site, template, KEY, address, sent_at=sent_at)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    links = COUNTED.findall(text)
    assert links and set(COUNTED.findall(html)) == set(links)
    target = with_utm(articles[0].url, site, day)
    return day.isoformat(), links, target


def counted(svc: Running) -> list[tuple[str, str, int]]:
    with svc.store.engine.connect() as conn:
        rows = conn.execute(select(clicks.c.link, clicks.c.reader, clicks.c.count)).all()
    return [tuple(row) for row in rows]


def test_a_click_redirects_to_the_article_and_counts_each_reader_once(svc: Running, project):
    sent = int(NOW.timestamp()) - 3600
    _, [ada], target = emailed_links(project, "ada@example.com", sent)
    _, [bob], _ = emailed_links(project, "bob@example.com", sent)
    with svc.client() as client:
        first = client.get(ada)
        assert first.status_code == 302 and first.headers["location"] == target
        assert first.headers["cache-control"] == "no-store"
        client.get(ada)
        client.get(bob)
    rows = counted(svc)
    assert sorted(count for _, _, count in rows) == [1, 2]  # two readers; Ada twice
    assert {link for link, _, _ in rows} == {"posts/good-article/"}
    # Who clicked is not stored: a per-issue pseudonym, neither address nor subscriber id.
    for _, reader, _ in rows:
        assert "@" not in reader and not reader.startswith("id-") and len(reader) == 16


def test_head_requests_and_scanners_on_arrival_are_not_counted(svc: Running, project) -> None:
    svc.clock.now = NOW
    just_sent = int(NOW.timestamp()) - 2
    _, [link], target = emailed_links(project, "ada@example.com", just_sent)
    with svc.client() as client:
        head = client.head(link)
        scanner = client.get(link)
        assert head.status_code == scanner.status_code == 302
        assert scanner.headers["location"] == target
        assert counted(svc) == []
        svc.clock.now = NOW + timedelta(seconds=SCANNER_SECONDS)
        assert client.get(link).status_code == 302
    assert len(counted(svc)) == 1


def tampered(link: str) -> list[str]:
    path, _, reader = link.partition("?r=")
    _, _, issue, mac, rest = path.split("/", 4)
    name, at, reader_mac = reader.split(".")
    flip = "A" if mac[0] != "A" else "B"
    return [
        f"/r/{issue}/{flip}{mac[1:]}/{rest}?r={reader}",  # the link's signature
        f"/r/{issue}/{mac}/posts/other/?r={reader}",  # another page under the same signature
        f"/r/2026-11-28/{mac}/{rest}?r={reader}",  # another issue
        f"/r/{issue}/{mac}//evil.example.com/?r={reader}",
        f"/r/{issue}/{mac}/https://evil.example.com/?r={reader}",
        f"/r/{issue}/{mac}/{rest}?r={name}.{int(at) - 100}.{reader_mac}",  # the reader's time
        f"/r/{issue}/{mac}/{rest}?r=someone-else.{at}.{reader_mac}",
        f"/r/{issue}/{mac}/{rest}?r=garbage",
        f"/r/not-a-date/{mac}/{rest}?r={reader}",
        f"/r/{issue}/{mac}",
    ]


def test_a_forged_or_tampered_link_is_404_and_never_redirects(svc: Running, project) -> None:
    _, [link], _ = emailed_links(project, "ada@example.com", int(NOW.timestamp()) - 3600)
    with svc.client() as client:
        answers = {bad: client.get(bad) for bad in tampered(link)}
    for bad, answer in answers.items():
        assert answer.status_code == 404, bad
        assert "location" not in answer.headers, bad
    assert counted(svc) == []


def test_per_reader_counts_name_the_subscriber_only_when_turned_on(
    tmp_path: Path, project: Path, store: SubscriberStore
) -> None:
    config = project / "site_config" / "site.yml"
    config.write_text(config.read_text().replace("click_readers: false", "click_readers: true"))
    store.add(NewSubscriber("ada@example.com"), NOW)
    sid = store.get("ada@example.com").id
    site, articles = load_content(project)
    day = issue_for(site, articles[0].published)
    template = prepare_digest(site, articles, day, NOW).template
    raw = Personaliser(site, template, KEY).message("ada@example.com", 0, sid, 0)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    [link] = COUNTED.findall(message.get_body(("plain",)).get_content())
    server, _, _ = start(project, store)
    with server as url, httpx.Client(base_url=url) as client:
        assert client.get(link).status_code == 302
    with store.engine.connect() as conn:
        assert conn.execute(select(clicks.c.reader)).scalar_one() == f"id-{sid}"
    store.erase("ada@example.com")  # erasure takes the per-reader clicks with it
    with store.engine.connect() as conn:
        assert conn.execute(select(clicks.c.reader)).all() == []


def test_links_are_direct_when_click_counts_are_off(project: Path) -> None:
    config = project / "site_config" / "site.yml"
    config.write_text(config.read_text().replace("click_counts: true", "click_counts: false"))
    site, articles = load_content(project)
    day = issue_for(site, articles[0].published)
    template = prepare_digest(site, articles, day, NOW).template
    raw = personalised_message(site, template, KEY, "ada@example.com")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()
    assert "/r/" not in text and with_utm(articles[0].url, site, day) in text


def test_press_report_shows_clicks_and_click_through_rate(project: Path, store) -> None:
    for n in range(4):
        store.add(NewSubscriber(f"r{n}@example.com"), NOW)
    ledger = Ledger(store.engine, "2026-10-03")
    ledger.record_fingerprint("f" * 12, NOW)
    ledger.enqueue(NOW)
    with store.engine.begin() as conn:
        conn.execute(deliveries.update().values(status="sent"))
    for reader, link in (("p1", "posts/a/"), ("p1", "posts/b/"), ("p2", "posts/a/")):
        record_click(store, "2026-10-03", link, reader, NOW)
    record_click(store, "2026-10-03", "posts/a/", "p1", NOW)
    env = {"PRESS_DATABASE_URL": str(store.engine.url.render_as_string(hide_password=False))}
    shown = run_press(project, "report", env=env)
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"readers who clicked\s+2", shown.stdout)
    assert re.search(r"click-through rate\s+50\.0%", shown.stdout)
    assert re.search(r"2\s+3\s+posts/a/", shown.stdout)  # 2 readers, 3 clicks
    data = json.loads(run_press(project, "report", "--json", env=env).stdout)[0]
    assert data["clickers"] == 2 and data["click_rate"] == 0.5
    assert data["top_links"][0] == {"link": "posts/a/", "readers": 2, "clicks": 3}
