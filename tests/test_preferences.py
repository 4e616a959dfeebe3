"""The preferences page (topics, a pause, unsubscribe) from the signed link in every email,
and topics chosen on the subscribe form. Runs the real app on uvicorn against a real store."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from datetime import timedelta
from html import unescape

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from test_subscription_service import KEY, Running, path_of, start, subscribe

from generator.content.loader import load_content
from generator.digest.message import personalised_message
from generator.digest.preview import prepare_digest
from generator.digest.schedule import issue_for
from generator.subscribers.store import NewSubscriber, generation_of
from generator.tokens import subscription_subject

from conftest import NOW

CATEGORIES = ["Communication", "Decision Making", "Growth", "Teams"]


@pytest.fixture
def svc(project, store) -> Iterator[Running]:
    server, memory, clock = start(project, store)
    with server as url:
        yield Running(url, store, memory.outbox, clock)


def preferences_path(address: str, generation: int) -> str:
    return "/preferences/" + KEY.sign("unsubscribe", subscription_subject(address, generation))


def generation(svc: Running, address: str) -> int:
    return generation_of(svc.store.get(address).confirmed_at)


def ticked(page: str) -> list[str]:
    return [box.attributes["value"] for box in HTMLParser(page).css("input[name=topics][checked]")]


def save(client: httpx.Client, path: str, topics: list[str], pause: str = "0") -> httpx.Response:
    form = {"topics_offered": "1", "topics": topics, "pause": pause}
    return client.post(path, data=form)


def test_the_form_subscribes_to_the_topics_ticked(svc: Running) -> None:
    with svc.client() as client:
        chosen = subscribe(client, "pick@example.com", topics_offered="1", topics="Teams")
        every = subscribe(client, "all@example.com")
        as_json = client.post(
            "/subscribe", json={"email": "json@example.com", "topics": ["Growth", "Teams"]}
        )
        unknown = subscribe(client, "x@example.com", topics_offered="1", topics="Cooking")
        none = subscribe(client, "y@example.com", topics_offered="1")
    assert chosen.status_code == every.status_code == as_json.status_code == 200
    assert svc.store.get("pick@example.com").topics == ("Teams",)
    assert svc.store.get("all@example.com").topics == ()
    assert svc.store.get("json@example.com").topics == ("Growth", "Teams")
    assert unknown.status_code == 400 and "'Cooking' is not a topic here" in unescape(unknown.text)
    assert none.status_code == 400 and "Choose at least one topic" in none.text
    assert svc.store.get("x@example.com") is None and svc.store.get("y@example.com") is None


def test_the_form_cannot_change_a_subscribers_topics(svc: Running) -> None:
    svc.store.add(NewSubscriber("known@example.com", topics=("Growth",)), NOW)
    with svc.client() as client:
        subscribe(client, "known@example.com", topics_offered="1", topics="Teams")
    assert svc.store.get("known@example.com").topics == ("Growth",)


def test_the_preferences_page_changes_topics_and_pauses(svc: Running) -> None:
    svc.store.add(NewSubscriber("ada@example.com", topics=("Teams",)), NOW)
    path = preferences_path("ada@example.com", generation(svc, "ada@example.com"))
    with svc.client() as client:
        page = client.get(path)
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
        assert "ada@example.com" in page.text and ticked(page.text) == ["Teams"]
        tree = HTMLParser(page.text)
        assert tree.css_first("form").attributes["action"] == path
        assert "/unsubscribe/" in tree.css("form")[1].attributes["action"]

        saved = save(client, path, ["Growth", "Communication"], pause="2")
        assert saved.status_code == 200 and "Your preferences are saved." in saved.text
        ada = svc.store.get("ada@example.com")
        assert ada.topics == ("Communication", "Growth")
        assert ada.paused_until == NOW + timedelta(weeks=2)
        assert svc.store.topic_selections(NOW) == {}  # paused: no issue for two weeks
        assert svc.store.topic_selections(NOW + timedelta(weeks=2)) == {"Communication\nGrowth": 1}
        assert "paused until 07/12/2026" in saved.text

        kept = save(client, path, ["Growth"], pause="keep")
        assert svc.store.get("ada@example.com").paused_until == NOW + timedelta(weeks=2)
        assert ticked(kept.text) == ["Growth"]
        every = save(client, path, CATEGORIES)
        assert svc.store.get("ada@example.com").topics == ()  # all ticked: every topic
        assert svc.store.get("ada@example.com").paused_until is None
        assert ticked(every.text) == CATEGORIES
        as_json = client.get(path, headers={"Accept": "application/json"}).json()
        assert as_json["email"] == "ada@example.com" and as_json["topics"] == CATEGORIES

        unsubscribe = tree.css("form")[1].attributes["action"]
        assert client.post(path_of(unsubscribe)).status_code == 200
    assert svc.store.get("ada@example.com").status == "unsubscribed"


def test_every_email_carries_the_preferences_link(svc: Running, project) -> None:
    site, articles = load_content(project)
    prepared = prepare_digest(site, articles, issue_for(site, articles[0].published), NOW)
    svc.store.add(NewSubscriber("bob@example.com"), NOW)
    raw = personalised_message(
        site, prepared.template, KEY, "bob@example.com", generation(svc, "bob@example.com")
    )
    message = email.message_from_bytes(raw, policy=email.policy.default)
    for part in ("plain", "html"):
        body = message.get_body((part,)).get_content()
        [link] = re.findall(r"https://subscribe\.[^\s\"<]+/preferences/[^\s\"<]+", body)
        with svc.client() as client:
            page = client.get(path_of(link))
        assert page.status_code == 200 and "bob@example.com" in page.text


def page_body(text: str, address: str) -> str:
    """The page but for what names the address (the address and the links' tokens)."""
    text = re.sub(r"/(unsubscribe|preferences)/[^\"]+", r"/\1/TOKEN", text)
    return text.replace(address, "ADDRESS")


def test_the_page_is_the_same_whatever_the_state_and_changes_nothing_it_should_not(
    svc: Running,
) -> None:
    store = svc.store
    store.add(NewSubscriber("active@example.com", topics=("Teams",)), NOW)
    store.add(NewSubscriber("gone@example.com", topics=("Teams",)), NOW)
    store.unsubscribe("gone@example.com", NOW)
    store.add(NewSubscriber("bounced@example.com", status="bounced", topics=("Teams",)), NOW)
    stale = preferences_path("active@example.com", generation(svc, "active@example.com") + 1)
    with svc.client() as client:
        pages = {
            address: client.get(preferences_path(address, 0))
            for address in ("gone@example.com", "bounced@example.com", "nobody@example.com")
        }
        pages["stale"] = client.get(stale)
        bodies = {page_body(p.text, a) for a, p in pages.items() if a != "stale"}
        bodies.add(page_body(pages["stale"].text, "active@example.com"))
        assert {p.status_code for p in pages.values()} == {200}
        assert len(bodies) == 1  # unsubscribed, bounced, unknown, an older subscription: alike
        for address in ("gone@example.com", "bounced@example.com"):
            assert save(client, preferences_path(address, 0), ["Growth"]).status_code == 200
            assert store.get(address).topics == ("Teams",)  # an ended subscription: untouched
        assert save(client, stale, ["Growth"]).status_code == 200
    assert store.get("active@example.com").topics == ("Teams",)
    assert store.get("gone@example.com").status == "unsubscribed"


@pytest.mark.parametrize(
    "path",
    [
        "/preferences/not-a-token",
        "/preferences/" + "A" * 3000,
        "/preferences/" + KEY.sign("confirm", subscription_subject("a@example.com", 0)),
        "/preferences/" + KEY.sign("unsubscribe", "a@example.com"),  # no subscription named
        "/preferences/%00%ff",
    ],
)
def test_a_forged_or_wrong_link_is_refused_and_never_a_server_error(
    svc: Running, path: str
) -> None:
    svc.store.add(NewSubscriber("a@example.com"), NOW)
    with svc.client() as client:
        shown = client.get(path)
        posted = save(client, path, ["Growth"])
    assert shown.status_code in (400, 404) and posted.status_code in (400, 404)
    assert svc.store.get("a@example.com").topics == ()


def test_bad_preferences_are_refused_and_change_nothing(svc: Running) -> None:
    svc.store.add(NewSubscriber("c@example.com", topics=("Teams",)), NOW)
    path = preferences_path("c@example.com", generation(svc, "c@example.com"))
    with svc.client() as client:
        answers = [
            save(client, path, ["Cooking"]),
            save(client, path, []),
            save(client, path, ["Growth"], pause="-1"),
            save(client, path, ["Growth"], pause="53"),
            save(client, path, ["Growth"], pause="1e9"),
        ]
    assert [a.status_code for a in answers] == [400] * 5
    assert svc.store.get("c@example.com").topics == ("Teams",)
    assert svc.store.get("c@example.com").paused_until is None
