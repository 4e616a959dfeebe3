"""One render per article: counted conversions, the persistent cache, parallel builds, reuse."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import markdown
import pytest

from generator.content.articles import Article
from generator.content.loader import load_content
from generator.content.related import COUNT, RelatedReading
from generator.digest.schedule import issue_for, send_moment
from generator.site.build import build_all
from generator.site.options import BuildOptions

from conftest import NOW, make_project


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def conversions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The text of every Markdown conversion made in this process, by anyone."""
    seen: list[str] = []
    convert = markdown.Markdown.convert

    def counting(self: markdown.Markdown, source: str) -> str:
        seen.append(source)
        return convert(self, source)

    monkeypatch.setattr(markdown.Markdown, "convert", counting)
    return seen


def converted_articles(seen: list[str], articles: list[Article]) -> dict[str, int]:
    """How often each article's body text went through a conversion (page, excerpt, feed…)."""
    marks = {a.slug: a.body_md.split("<!-- more -->")[-1].strip()[:80] for a in articles}
    return {slug: sum(mark in text for text in seen) for slug, mark in marks.items()}


def test_each_article_is_converted_once_and_then_never_again(
    example_project: Path, conversions: list[str]
) -> None:
    _, articles = load_content(example_project)
    shutil.rmtree(example_project / ".cache")
    conversions.clear()
    build_all(example_project, BuildOptions(now=NOW), force=True)
    # Once each: for its page, every list page showing its excerpt, feeds, search and digest.
    assert set(converted_articles(conversions, articles).values()) == {1}

    conversions.clear()
    build_all(example_project, BuildOptions(now=NOW), force=True)
    assert set(converted_articles(conversions, articles).values()) == {0}

    edited = articles[3].source
    edited.write_text(
        edited.read_text().replace("<!-- more -->", "One more line.\n\n<!-- more -->")
    )
    conversions.clear()
    build_all(example_project, BuildOptions(now=NOW), force=True)
    counts = converted_articles(conversions, articles)
    assert counts.pop(articles[3].slug) == 1
    assert set(counts.values()) == {0}


def cache_entries(root: Path) -> dict[str, bytes]:
    with closing(sqlite3.connect(root / ".cache/press/render.sqlite")) as db:
        return {key: bytes(entry) for key, entry in db.execute("SELECT key, entry FROM entries")}


def set_cache_entries(root: Path, entries: dict[str, bytes]) -> None:
    with closing(sqlite3.connect(root / ".cache/press/render.sqlite")) as db, db:
        db.executemany(
            "UPDATE entries SET entry = ? WHERE key = ?", [(v, k) for k, v in entries.items()]
        )


def test_corrupt_truncated_or_foreign_cache_entries_are_rebuilt(example_project: Path) -> None:
    first = build_all(example_project, BuildOptions(now=NOW), example_project / "one")
    entries = cache_entries(example_project)
    _, articles = load_content(example_project)
    assert len(entries) == len(articles)  # every article, drafts and scheduled ones included
    (truncated, good), (flipped, _), (foreign, _), (other, theirs) = list(entries.items())[:4]
    flip = bytearray(entries[flipped])
    flip[-30] ^= 0x20  # a changed letter inside the HTML: still valid JSON
    damaged = {truncated: good[:-40], flipped: bytes(flip), foreign: theirs}
    set_cache_entries(example_project, damaged)

    site, _ = load_content(example_project)
    assert site.renders.converted == 3
    second = build_all(example_project, BuildOptions(now=NOW), example_project / "two")
    assert tree(first.site_dir) == tree(second.site_dir)
    again = cache_entries(example_project)
    assert again[truncated] == good and again[foreign] != theirs == again[other]


def test_a_cache_file_that_is_not_a_database_is_replaced(example_project: Path) -> None:
    first = build_all(example_project, BuildOptions(now=NOW), example_project / "one")
    cache = example_project / ".cache/press/render.sqlite"
    for stale in cache.parent.glob("render.sqlite-*"):
        stale.unlink()
    cache.write_bytes(b"not a database, " * 200)
    site, articles = load_content(example_project)
    assert site.renders.converted == len(articles)  # every article converted again
    second = build_all(example_project, BuildOptions(now=NOW), example_project / "two")
    assert tree(first.site_dir) == tree(second.site_dir)
    assert len(cache_entries(example_project)) == len(articles)
    site, _ = load_content(example_project)
    assert site.renders.converted == 0


def test_parallel_build_is_byte_identical_to_one_process(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", examples=True)
    one = build_all(root, BuildOptions(now=NOW), tmp_path / "one", jobs=1)
    shutil.rmtree(root / ".cache")  # both convert every article: in one process, or in three
    three = build_all(root, BuildOptions(now=NOW), tmp_path / "three", jobs=3)
    assert one.pages == three.pages > 30
    assert tree(one.site_dir) == tree(three.site_dir)


HOOK = """
import json, os

def on_page_content(html, page, **kwargs):
    if page.file.src_uri.startswith("newsletter/20"):
        with open(os.environ["SEEN"], "a") as seen:
            seen.write(json.dumps([page.file.src_uri, html]) + "\\n")
    return html
"""


def test_a_page_content_hook_reads_each_issue_page_s_html_under_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under --jobs the issue pages take their HTML after MkDocs has read every page, unless a
    plugin or hook reads it as each page is read: that one gets it then, as with one process."""
    root = make_project(tmp_path / "p", examples=True)
    (root / "hooks.py").write_text(HOOK)
    with (root / "mkdocs.yml").open("a") as config:
        config.write("\nhooks:\n  - hooks.py\n")
    seen = tmp_path / "seen.jsonl"
    monkeypatch.setenv("SEEN", str(seen))
    build_all(root, BuildOptions(now=NOW), jobs=2)
    pages = dict(json.loads(line) for line in seen.read_text().splitlines())
    assert len(pages) >= 2
    assert all("In this issue" in html for html in pages.values())


def test_a_build_with_nothing_changed_leaves_the_site_alone(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", examples=True)
    post = next((root / "content/posts").glob("*quiet-voices*"))
    page = root / "site/posts/quiet-voices-in-loud-rooms/index.html"
    assert not build_all(root, BuildOptions(now=NOW)).reused
    written = page.stat().st_mtime_ns

    again = build_all(root, BuildOptions(now=NOW + timedelta(minutes=5)))
    assert again.reused and again.pages > 30 and page.stat().st_mtime_ns == written

    post.write_text(post.read_text().replace("a third", "a quarter"))
    assert not build_all(root, BuildOptions(now=NOW)).reused
    assert "a quarter" in page.read_text()

    page.unlink()  # a site changed by hand is rebuilt, not trusted
    assert not build_all(root, BuildOptions(now=NOW)).reused
    assert page.is_file()

    assert build_all(root, BuildOptions(now=NOW)).reused
    assert not build_all(root, BuildOptions(now=NOW), force=True).reused


def test_the_clock_passing_a_publish_date_or_a_send_rebuilds(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", examples=True)
    site, articles = load_content(root)
    moments = [a.published for a in articles if not a.draft]
    moments += [send_moment(site, issue_for(site, m)) for m in moments]
    boundary = min(m for m in moments if m > NOW)  # the next article or digest going out
    assert not build_all(root, BuildOptions(now=NOW)).reused
    assert build_all(root, BuildOptions(now=boundary - timedelta(seconds=1))).reused
    assert not build_all(root, BuildOptions(now=boundary)).reused
    assert build_all(root, BuildOptions(now=boundary)).reused


def _brute_force(article: Article, articles: list[Article]) -> list[Article]:
    """The definition: every other article scored, then recency, then slug."""

    def score(other: Article) -> int:
        shared_tags = len(set(article.tags) & set(other.tags))
        return 2 * shared_tags + len(set(article.categories) & set(other.categories))

    others = [a for a in articles if a.source != article.source and a.is_published(NOW)]
    others.sort(key=lambda o: (-score(o), -o.published.timestamp(), o.slug))
    return others[:COUNT]


@pytest.mark.parametrize("seed", range(6))
def test_related_reading_index_matches_the_definition(seed: int, example_project: Path) -> None:
    _, examples = load_content(example_project)
    rng = random.Random(seed)
    tags, categories = ["a", "b", "c", "d", "e"], ["Teams", "Growth", "Communication"]
    articles = [
        Article(
            **{
                **vars(rng.choice(examples)),
                "source": Path(f"/posts/{n}.md"),
                "slug": f"s{rng.randrange(40)}-{n}",
                "published": NOW - timedelta(hours=rng.randrange(-50, 400)),
                "tags": tuple(rng.sample(tags, rng.randrange(3))),
                "categories": tuple(rng.sample(categories, rng.randrange(1, 3))),
                "draft": rng.random() < 0.1,
            }
        )
        for n in range(120)
    ]
    index = RelatedReading(articles, NOW)
    for article in articles:
        assert index.for_article(article) == _brute_force(article, articles)
