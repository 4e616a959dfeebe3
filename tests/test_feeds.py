"""RSS, Atom and JSON Feed: golden bytes, parsers happy, validators' usual complaints absent."""

from __future__ import annotations

import json
import re
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import pytest

from generator.content.loader import load_content
from generator.feeds.build import build_feeds

from conftest import NOW
from golden import assert_golden


@pytest.fixture
def feeds(example_project: Path) -> dict[str, bytes]:
    site, articles = load_content(example_project)
    return build_feeds(site, articles, NOW)


TAGS = (
    "career",
    "decisions",
    "feedback",
    "hiring",
    "inclusion",
    "meetings",
    "new-managers",
    "one-to-ones",
    "recognition",
)


def test_feeds_match_golden_files(feeds: dict[str, bytes]) -> None:
    assert sorted(feeds) == [
        "atom.xml",
        "category/communication/feed.xml",
        "category/decision-making/feed.xml",
        "category/growth/feed.xml",
        "category/teams/feed.xml",
        "feed.json",
        "feed.xml",
        *(f"tag/{tag}/feed.xml" for tag in TAGS),
    ]
    for path, data in feeds.items():
        assert_golden("feeds/" + path.replace("/", "__"), data)


@pytest.mark.parametrize("path", ["feed.xml", "atom.xml", "category/teams/feed.xml"])
def test_feedparser_reads_without_bozo(feeds: dict[str, bytes], path: str) -> None:
    parsed = feedparser.parse(feeds[path])
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.entries
    dates = [e.published_parsed for e in parsed.entries]
    assert dates == sorted(dates, reverse=True), "newest first"


def test_rss_has_what_validators_ask_for(feeds: dict[str, bytes]) -> None:
    rss = feeds["feed.xml"].decode()
    assert '<atom:link href="https://leadership-press.example.org/feed.xml" rel="self"/>' in rss
    guids = re.findall(r"<guid isPermaLink=\"false\">([^<]+)</guid>", rss)
    items = rss.count("<item>")
    assert items == 10 and len(guids) == items == len(set(guids))
    for date in re.findall(r"<pubDate>([^<]+)</pubDate>", rss):
        assert parsedate_to_datetime(date).tzinfo is not None
        assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}", date)
    assert "<lastBuildDate>Mon, 23 Nov 2026 07:30:00 +0000</lastBuildDate>" in rss
    assert "<dc:creator>Amara Okafor</dc:creator>" in rss and "<ttl>60</ttl>" in rss
    for url in re.findall(r'(?:href|src)="([^"]*)"', rss.replace("&quot;", '"')):
        assert url.startswith(("https://", "mailto:")), f"relative URL {url}"


def test_links_and_enclosure_are_absolute_and_true(feeds: dict[str, bytes], example_project: Path):
    rss = feeds["feed.xml"].decode()
    assert 'href="https://leadership-press.example.org/posts/say-the-hard-thing-early/"' in rss
    size = (example_project / "content/assets/images/one-to-one.svg").stat().st_size
    assert (
        f'<enclosure url="https://leadership-press.example.org/assets/images/one-to-one.svg" '
        f'length="{size}" type="image/svg+xml"/>'
    ) in rss


def test_atom_dates_are_rfc3339_with_zone(feeds: dict[str, bytes]) -> None:
    atom = feeds["atom.xml"].decode()
    assert "<updated>2026-11-23T07:30:00+00:00</updated>" in atom
    for stamp in re.findall(r"<(?:updated|published)>([^<]+)<", atom):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}", stamp)


def test_json_feed_required_fields(feeds: dict[str, bytes]) -> None:
    feed = json.loads(feeds["feed.json"])
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] and feed["feed_url"].endswith("/feed.json")
    for item in feed["items"]:
        assert item["id"] and item["url"].startswith("https://") and item["content_html"]
        assert re.fullmatch(
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}", item["date_published"]
        )


def test_guid_survives_slug_and_title_change(example_project: Path) -> None:
    site, articles = load_content(example_project)
    before = feedparser.parse(build_feeds(site, articles, NOW)["feed.xml"])
    post = example_project / "content/posts/2026-11-06-hire-for-the-team-you-need.md"
    text = post.read_text().replace(
        "title: Hire for the team you need, not the one you had",
        "title: Hiring for next year\nslug: hiring-for-next-year",
    )
    post.write_text(text)
    site, articles = load_content(example_project)
    after = feedparser.parse(build_feeds(site, articles, NOW)["feed.xml"])
    old = {e.id: e.link for e in before.entries}
    new = {e.id: e.link for e in after.entries}
    assert old.keys() == new.keys()
    changed = [guid for guid in old if old[guid] != new[guid]]
    assert len(changed) == 1 and new[changed[0]].endswith("/posts/hiring-for-next-year/")


def test_awkward_titles_round_trip(project: Path) -> None:
    title = 'Fish & Chips <b>"quoted"</b> — café ☕ 🚀'
    post = project / "content/posts/2026-11-20-awkward.md"
    front = f"---\ntitle: '{title}'\ndate: 2026-11-20\nauthors: [amara]\n---\n"
    post.write_text(front + "\nA.\n\n<!-- more -->\n\nB.\n")
    site, articles = load_content(project)
    files = build_feeds(site, articles, NOW)
    for path in ("feed.xml", "atom.xml"):
        parsed = feedparser.parse(files[path])
        assert not parsed.bozo and parsed.entries[0].title == title
    assert json.loads(files["feed.json"])["items"][0]["title"] == title


def test_drafts_and_future_never_appear(feeds: dict[str, bytes]) -> None:
    for data in feeds.values():
        assert b"delegation" not in data.lower() and b"new decade" not in data
