"""The blog plan on its own: which pages exist, what each lists and in what order, and which
pages an edit changes. Checked against the site the engine builds today, page by page."""

from __future__ import annotations

import dataclasses
import posixpath
from datetime import timedelta
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from generator.blog.plan import (
    BlogLayout,
    BlogPlan,
    Kind,
    PlannedPage,
    pages_added_and_removed,
    pages_changed,
    plan_blog,
)
from generator.content.articles import Article
from generator.content.loader import load_content

from conftest import NOW, make_project


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    return load_content(make_project(tmp_path_factory.mktemp("plan") / "example", examples=True))


def corpus(articles: list[Article], count: int) -> list[Article]:
    """`count` articles made from the example's, 7 hours apart, newest just before NOW."""
    made = []
    for n in range(count):
        base = articles[n % len(articles)]
        slug = f"{base.slug}-{n}"
        made.append(
            dataclasses.replace(
                base,
                source=base.source.with_name(f"{n:04d}-{slug}.md"),
                slug=slug,
                path=f"posts/{slug}/",
                published=NOW - timedelta(hours=7 * n + 1),
                updated=None,
                draft=False,
                pinned=False,
            )
        )
    return made


def built_urls(site: Path) -> set[str]:
    folders = (p.parent.relative_to(site).as_posix() for p in site.rglob("index.html"))
    return {"" if f == "." else f + "/" for f in folders}


def listed_in_built(site: Path, url: str) -> list[str]:
    """The post URLs a built list page links to from its excerpts, in order."""
    tree = HTMLParser((site / url / "index.html").read_text(encoding="utf-8"))
    hrefs = [a.attributes["href"] for a in tree.css("article.md-post--excerpt .md-post__action a")]
    return [posixpath.normpath(posixpath.join(url, h)) + "/" for h in hrefs]


def test_the_plan_has_exactly_the_pages_the_built_site_has(example, built_example: Path):
    site, articles = example
    plan = plan_blog(articles, site, NOW, BlogLayout(home_title="The Leadership Press"))
    extra = {"newsletter/preview/"}  # only in the live preview
    assert plan.urls - extra == built_urls(built_example)
    assert not plan.urls & extra


def test_each_list_page_lists_what_the_built_site_lists_in_that_order(example, built_example: Path):
    site, articles = example
    plan = plan_blog(articles, site, NOW)
    lists = plan.of_kind(Kind.INDEX, Kind.ARCHIVE, Kind.CATEGORY, Kind.AUTHOR)
    assert {p.kind for p in lists} == {Kind.INDEX, Kind.ARCHIVE, Kind.CATEGORY, Kind.AUTHOR}
    assert any(p.number > 1 for p in lists)
    for page in lists:
        assert [a.path for a in page.articles] == listed_in_built(built_example, page.url), page.url


def test_titles_are_those_readers_see(example, built_example: Path):
    site, articles = example
    plan = plan_blog(articles, site, NOW)
    for url in ("archive/2026/page/2/", "author/amara/", "category/teams/", "tag/"):
        built = HTMLParser((built_example / url / "index.html").read_text(encoding="utf-8"))
        shown = built.css_first("title").text().removesuffix(f" - {site.name}")
        assert plan.page(url).title == shown, url


def test_pages_of_a_list_link_to_their_neighbours(example):
    site, articles = example
    plan = plan_blog(corpus(articles, 12), site, NOW, BlogLayout(per_page=5))
    home = [p for p in plan.of_kind(Kind.INDEX)]
    assert [p.url for p in home] == ["", "page/2/", "page/3/"]
    assert [len(p.articles) for p in home] == [5, 5, 2]
    assert [(p.previous, p.next) for p in home] == [
        (None, "page/2/"),
        ("", "page/3/"),
        ("page/2/", None),
    ]
    assert all(p.view == "" and p.template == "blog.html" for p in home)
    newest_first = [a.published for p in home for a in p.articles]
    assert newest_first == sorted(newest_first, reverse=True)


def test_pinned_articles_come_first_then_the_newest(example):
    site, articles = example
    made = corpus(articles, 8)
    made[6] = dataclasses.replace(made[6], pinned=True)
    home = plan_blog(made, site, NOW).page("")
    assert home.articles[0] is made[6]
    assert list(home.articles[1:]) == made[:4]


def test_drafts_and_future_articles_are_planned_only_when_asked(example):
    site, articles = example
    made = corpus(articles, 3)
    made[0] = dataclasses.replace(made[0], draft=True)
    made[1] = dataclasses.replace(made[1], published=NOW + timedelta(days=1))
    plan = plan_blog(made, site, NOW)
    assert plan.showing(made[0]) == set() and plan.showing(made[1]) == set()
    with_drafts = plan_blog(made, site, NOW, include_drafts=True)
    assert made[0].path in with_drafts.urls and made[1].path not in with_drafts.urls


def test_a_new_article_dated_mid_corpus_changes_exactly_the_list_pages_it_shifts(example):
    site, articles = example
    made = corpus(articles, 41)  # 9 pages of 5, still 9 with one more
    layout = BlogLayout(per_page=5)
    before = plan_blog(made, site, NOW, layout)
    # Between the 22nd and 23rd newest: the home index's page 5 onwards moves by one.
    new = dataclasses.replace(
        made[22],
        source=made[22].source.with_name("new-one.md"),
        slug="new-one",
        path="posts/new-one/",
        published=made[22].published + timedelta(hours=3),
    )
    after = plan_blog([*made, new], site, NOW, layout)
    changed = pages_changed(before, after)

    def shifted(kind: Kind, view: str) -> set[str]:
        """The pages of `view` from the one the new article lands on to the end; all of
        them when the list gained a page (each links to the list's last page)."""
        pages = [p for p in after.of_kind(kind) if p.view == view]
        earlier = [p for p in before.of_kind(kind) if p.view == view]
        landed = next(i for i, p in enumerate(pages) if new in p.articles)
        return {p.url for p in pages[landed if len(pages) == len(earlier) else 0 :]}

    neighbours = {made[22].path, made[21].path}  # its rel=prev and rel=next now point to it
    expected = {new.path} | neighbours | shifted(Kind.INDEX, "")
    expected |= shifted(Kind.ARCHIVE, f"archive/{new.published.year}/")
    for name in new.categories:
        expected |= shifted(
            Kind.CATEGORY, next(p.view for p in after.of_kind(Kind.CATEGORY) if p.title == name)
        )
    for author in new.authors:
        expected |= shifted(Kind.AUTHOR, f"author/{author.slug}/")
    for tag in new.tags:
        expected.add(next(p.url for p in after.of_kind(Kind.TAG) if p.title == f"#{tag}"))
    if new.tags:
        expected.add("tag/")
    issue = [p for p in after.of_kind(Kind.ISSUE) if new in p.articles]
    expected |= {p.url for p in issue} | ({"newsletter/"} if issue else set())
    assert changed == expected
    assert "" not in changed and "page/2/" not in changed  # the newest pages stay
    assert len(changed) < len(after.pages) / 2


def test_a_deleted_article_removes_its_page_and_shifts_the_rest(example):
    site, articles = example
    made = corpus(articles, 11)
    before = plan_blog(made, site, NOW)
    after = plan_blog(made[:5] + made[6:], site, NOW)
    changed = pages_changed(before, after)
    assert made[5].path in changed and made[5].path not in after.urls
    assert {made[4].path, made[6].path} <= changed  # their neighbour went
    assert "page/3/" in before.urls and "page/3/" not in after.urls  # 11 → 10: two pages
    assert {"", "page/2/", "page/3/"} <= changed  # the first links to the last page too


def test_a_re_dated_article_keeps_the_same_pages_and_a_deleted_one_takes_its_page(example):
    """What lets `press serve` plan a re-dated article again in place (live.py)."""
    site, articles = example
    made = corpus(articles, 12)
    before = plan_blog(made, site, NOW)
    moved = list(made)
    moved[7] = dataclasses.replace(made[7], published=made[1].published + timedelta(hours=1))
    after = plan_blog(moved, site, NOW)
    assert pages_added_and_removed(before, after) == ([], []) and pages_changed(before, after)
    fewer = pages_added_and_removed(before, plan_blog(made[:7] + made[8:], site, NOW))
    assert fewer is not None and made[7].path in {p.url for p in fewer[1]}


def test_a_text_edit_changes_the_pages_that_show_the_article_and_no_others(example):
    site, articles = example
    made = corpus(articles, 12)
    before = plan_blog(made, site, NOW)
    edited = list(made)
    edited[7] = dataclasses.replace(made[7], body_md=made[7].body_md + "\n\nOne more line.\n")
    changed = pages_changed(before, plan_blog(edited, site, NOW))
    assert changed == before.showing(made[7])
    assert made[6].path not in changed and made[8].path not in changed


def test_two_articles_at_one_url_are_refused():
    page = PlannedPage("posts/a/", Kind.POST, "A", "blog-post.html", (), "posts/a/")
    with pytest.raises(ValueError, match="two pages at /posts/a/"):
        BlogPlan((page, dataclasses.replace(page, title="B")))


def test_layout_refuses_an_empty_page():
    with pytest.raises(ValueError, match="per_page"):
        BlogLayout(per_page=0)


def test_a_1000_article_site_has_the_files_material_s_blog_made(tmp_path: Path):
    """The golden list is the site the same corpus built to while Material's blog plugin
    planned it (commit 8557795), and /subscribe/ (added for readers since); the plan must give
    readers and search engines the same URLs, and the plan must name every page the build
    wrote."""
    from bench.corpus import NOW as CORPUS_NOW
    from bench.corpus import make_corpus
    from generator.site.build import build_all
    from generator.site.options import BuildOptions

    root = make_corpus(tmp_path / "corpus", 1000)
    config = root / "site_config" / "site.yml"  # share cards: one per post, tested elsewhere
    config.write_text(config.read_text(encoding="utf-8") + "\nshare_cards: false\n")
    build_all(root, BuildOptions(now=CORPUS_NOW), jobs=2)
    site = root / "site"
    made = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    golden = Path(__file__).parent / "golden" / "corpus-1000-files.txt"
    lines = golden.read_text(encoding="utf-8").splitlines()
    assert made == [line for line in lines if not line.startswith("assets/cards/")]
    config, articles = load_content(root)
    assert plan_blog(articles, config, CORPUS_NOW).urls == built_urls(site)
