"""The Article model: dates, excerpt, read time, slug, visibility."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from generator.content.articles import published_only, read_article
from generator.content.dates import DateError, parse_article_date
from generator.content.site_config import load_site
from generator.content.slugs import slugify

from conftest import NOW

LONDON = ZoneInfo("Europe/London")


def write(
    project: Path, name: str, front: str, body: str = "Intro.\n\n<!-- more -->\n\nMore."
) -> Path:
    path = project / "content" / "posts" / name
    path.write_text(f"---\n{front}\n---\n\n{body}\n", encoding="utf-8")
    return path


def load(project: Path, name: str, front: str, body: str | None = None):
    path = write(project, name, front, *(b for b in [body] if b is not None))
    article, problems = read_article(path, load_site(project))
    assert article is not None, problems
    return article


def test_date_only_is_midnight_in_site_time_zone() -> None:
    value, date_only = parse_article_date("2026-07-01", LONDON)
    assert date_only and value == datetime(2026, 6, 30, 23, 0, tzinfo=UTC)


def test_naive_datetime_is_site_wall_clock_not_build_machine() -> None:
    value, date_only = parse_article_date("2026-01-10T09:30", LONDON)
    assert not date_only and value.utcoffset() == timedelta(0) and value.hour == 9
    summer, _ = parse_article_date("2026-07-10 09:30", LONDON)
    assert summer.astimezone(UTC).hour == 8


def test_aware_datetime_is_converted_to_site_time_zone() -> None:
    value, _ = parse_article_date("2026-11-20T23:30:00-05:00", LONDON)
    assert value.tzinfo == LONDON and (value.day, value.hour) == (21, 4)


@pytest.mark.parametrize("raw", ["2026-13-01", "yesterday", "2026/11/01", "", 20261101])
def test_bad_dates_raise(raw: object) -> None:
    with pytest.raises(DateError):
        parse_article_date(raw, LONDON)


def test_article_fields(project: Path) -> None:
    front = (
        "title: Ça va? Leading in 2026\ndate: 2026-11-02T09:00\nauthors: [amara, daniel]\n"
        "categories: [Teams]\ntags: [x]"
    )
    article = load(
        project, "a.md", front, "First **bold** words.\n\n<!-- more -->\n\n## Rest\n\nMore."
    )
    assert article.slug == "ca-va-leading-in-2026"
    assert article.url == "https://leadership-press.example.org/posts/ca-va-leading-in-2026/"
    assert [a.name for a in article.authors] == ["Amara Okafor", "Daniel Reyes"]
    assert article.excerpt_md == "First **bold** words."
    assert article.description == "First bold words."  # falls back to the excerpt's text
    assert ">Rest</h2>" in article.body_html and "more -->" not in article.body_html
    assert article.read_time == 1 and article.uid == "a"
    assert article.cta.title == "Lead a little better this week"


def test_read_time_grows_with_length(project: Path) -> None:
    body = "Intro.\n\n<!-- more -->\n\n" + ("word " * 1000)
    article = load(project, "long.md", "title: Long\ndate: 2026-11-01\nauthors: [amara]", body)
    assert article.read_time == 4  # 1002 words at 265 words a minute


def test_call_to_action_can_be_replaced_per_article(project: Path) -> None:
    front = "title: T\ndate: 2026-11-01\nauthors: [amara]\ncall_to_action:\n  title: Book a call"
    article = load(project, "cta.md", front)
    assert article.cta.title == "Book a call"
    assert article.cta.url.startswith("mailto:")  # the rest comes from the site default


def test_drafts_and_future_articles_are_not_published(project: Path) -> None:
    site = load_site(project)
    base = "authors: [amara]\n"
    paths = [
        write(project, "now.md", base + "title: Now\ndate: 2026-11-23T11:59"),
        write(project, "draft.md", base + "title: Draft\ndate: 2026-11-01\ndraft: true"),
        write(project, "future.md", base + "title: Future\ndate: 2026-11-23T12:01"),
    ]
    articles = [read_article(p, site)[0] for p in paths]
    assert [a.title for a in published_only(articles, NOW)] == ["Now"]


def test_slugify_is_ascii_and_stable() -> None:
    assert slugify("Growth is a conversation, not a form") == "growth-is-a-conversation-not-a-form"
    assert slugify("🚀 Café & Co") == "cafe-co"
