"""`press serve` keeps its site built and, after a save, renders again only what depends on it:
after each kind of edit the served tree equals a fresh full build, byte for byte."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from generator.site.live import LiveSite, Update
from generator.site.options import BuildOptions
from tests.conftest import NOW, make_project

URL = "http://127.0.0.1:8000/"
OPTIONS = BuildOptions(now=NOW, include_drafts=True, email_preview=True)


@pytest.fixture
def live(example_project: Path, tmp_path: Path) -> Iterator[LiveSite]:
    site = LiveSite(example_project, OPTIONS, tmp_path / "served", URL)
    site.start(jobs=2)  # as `press serve` starts: its first build in parallel
    try:
        yield site
    finally:
        site.stop()


def post(project: Path, name: str) -> Path:
    return project / "content" / "posts" / name


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def fresh_build(project: Path, dest: Path) -> Path:
    site = LiveSite(project, OPTIONS, dest, URL)
    site.start()
    site.stop()
    return dest


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def assert_same_tree(served: Path, fresh: Path) -> None:
    got, want = tree(served), tree(fresh)
    assert sorted(got) == sorted(want), "the served site has other files than a fresh build"
    differ = [path for path in sorted(want) if got[path] != want[path]]
    if differ:
        first = differ[0]
        lines = difflib.unified_diff(
            want[first].decode(errors="replace").splitlines(),
            got[first].decode(errors="replace").splitlines(),
            "fresh/" + first,
            "served/" + first,
            lineterm="",
            n=1,
        )
        shown = "\n".join(list(lines)[:30])
        pytest.fail(f"{len(differ)} file(s) differ from a fresh build: {differ[:8]}\n{shown}")


def edit_and_check(
    live: LiveSite, project: Path, tmp_path: Path, kind: str, label: str, *change: Any
) -> Update:
    edit(*change)
    return check(live, project, tmp_path, kind, label)


Step = Callable[..., Update]


@pytest.fixture
def step(live: LiveSite, example_project: Path, tmp_path: Path) -> Step:
    """Saves an edit to the example project, then checks the preview as `check` does."""
    return partial(edit_and_check, live, example_project, tmp_path)


def check(live: LiveSite, project: Path, tmp_path: Path, kind: str | None, label: str) -> Update:
    """The preview brought up to date (`kind` of update, unless None) and the same, byte
    for byte, as a fresh build."""
    update = live.update()
    assert kind is None or update.kind == kind, f"{label}: {update}"
    assert_same_tree(live.site_dir, fresh_build(project, tmp_path / f"fresh-{label}"))
    return update


def test_text_edits_render_only_what_shows_the_article(
    live: LiveSite, example_project: Path, tmp_path: Path, step: Step
) -> None:
    pages = len(list(live.site_dir.rglob("index.html")))
    one_to_ones = post(example_project, "2026-11-02-one-to-ones-that-matter.md")
    # The opening paragraph is the excerpt: list pages, newsletter issue and feeds change.
    body = step(
        "pages", "body", one_to_ones, "\n\n", "\n\nA new first sentence for the excerpt.\n\n"
    )
    assert 1 < body.pages < pages / 3
    # A new title keeps the URL when the slug is set: "Read next", tags, cards change too.
    step(
        "pages", "title", one_to_ones, "title: ", "slug: one-to-ones-that-matter\ntitle: Renamed, "
    )
    # Another post lists it under "Related links" by its title: planned, so that one changes.
    reversible = post(example_project, "2026-11-20-make-the-decision-reversible.md")
    step(
        "planned",
        "links-added",
        reversible,
        "\n---\n",
        "\nlinks:\n  - posts/2026-11-02-one-to-ones-that-matter.md\n---\n",
    )
    step(
        "planned",
        "title-in-related-links",
        one_to_ones,
        "title: Renamed, ",
        "title: Renamed again, ",
    )
    edit(reversible, "description: Teams stall", "description: Groups stall")
    step(
        "pages",
        "description-and-read-time",
        reversible,
        "## Build the way back in",
        "## Build the road back in\n\nMore words. " * 40,
    )
    # Two saves at once: a draft the preview shows, and a scheduled article only the coming
    # email would show (it has no page yet).
    edit(
        post(example_project, "2026-11-25-draft-delegation-ladder.md"),
        "\n\n",
        "\n\nDraft edit.\n\n",
    )
    step(
        "pages",
        "draft-and-scheduled",
        post(example_project, "2030-01-07-leading-in-the-new-decade.md"),
        "\n\n",
        "\n\nLater.\n\n",
    )
    assert live.update() == Update("none", 0)
    reversible.write_text(reversible.read_text(encoding="utf-8"), encoding="utf-8")
    (example_project / "content/posts/.make-the-decision-reversible.md.swp").write_bytes(b"vim")
    assert live.update() == Update("none", 0)  # saved unchanged; an editor's swap file


def test_moved_and_drafted_articles_plan_the_site_again_and_write_what_changed(
    live: LiveSite, example_project: Path, tmp_path: Path, step: Step
) -> None:
    decide = post(example_project, "2026-10-22-decide-who-decides.md")
    text = decide.read_text(encoding="utf-8")
    date = re.search(r"^date: .*$", text, re.M)
    assert date is not None
    pages = len(list(live.site_dir.rglob("index.html")))
    edit(decide, date.group(0), "date: 2026-11-21T08:00")  # from the second index page to the first
    # The same pages, listing other articles: planned again without MkDocs' whole build.
    moved = check(live, example_project, tmp_path, "replanned", "date")
    assert moved.pages < pages  # the site is planned again, but not all written again
    step("replanned", "category", decide, "categories: [", "categories: [Growth, ")
    edit(decide, "title: ", "title: Renamed, ")  # no slug set: the URL follows the title
    check(live, example_project, tmp_path, "replanned", "title-moves-url")
    meetings = post(example_project, "2026-11-11-meetings-with-an-exit.md")
    step("planned", "draft-on", meetings, "\n---\n", "\ndraft: true\n---\n")
    step("planned", "draft-off", meetings, "\ndraft: true\n", "\n")
    # Once the structure is rebuilt, text edits are cheap again.
    step("pages", "body-after-rebuilds", meetings, "\n\n", "\n\nAn edit after the rebuilds.\n\n")


def test_new_and_deleted_articles_plan_the_site_again_and_write_what_changed(
    live: LiveSite, example_project: Path, tmp_path: Path
) -> None:
    new = post(example_project, "2026-11-21-a-new-article.md")
    new.write_text(
        "---\ntitle: A new article\ndate: 2026-11-21T10:00\nauthors: [amara]\n"
        "categories: [Teams]\ntags: [decisions]\ndescription: Just written.\n---\n\n"
        "First paragraph.\n\n<!-- more -->\n\n## More\n\nThe rest.\n",
        encoding="utf-8",
    )
    pages = len(list(live.site_dir.rglob("index.html")))
    # A post more and no list page more: planned again in place.
    added = check(live, example_project, tmp_path, "replanned", "new")
    # Its tag's page (hiring, on no other post) goes with it: MkDocs' build.
    post(example_project, "2026-11-06-hire-for-the-team-you-need.md").unlink()
    deleted = check(live, example_project, tmp_path, "planned", "deleted")
    assert added.pages < pages + 1 and deleted.pages < pages


def test_template_and_site_config_edits_rebuild_the_same_site(
    live: LiveSite, example_project: Path, tmp_path: Path, step: Step
) -> None:
    step(
        "full",
        "template",
        example_project / "templates/theme/main.html",
        "{% block",
        "{# edited #}{% block",
    )
    step(
        "full",
        "site-config",
        example_project / "site_config/site.yml",
        "one week at a time",
        "one week after another",
    )


def test_a_bad_save_keeps_the_last_good_site_and_the_fix_is_picked_up(
    live: LiveSite, example_project: Path, tmp_path: Path, step: Step
) -> None:
    from generator.content.problems import ContentError

    before = tree(live.site_dir)
    article = post(example_project, "2026-11-02-one-to-ones-that-matter.md")
    edit(article, "\n\n", "\n\nSee [this](no-such-article.md).\n\n")
    with pytest.raises(ContentError) as raised:
        live.update()
    assert "no such article" in str(raised.value)
    assert tree(live.site_dir) == before
    step("pages", "fixed", article, "See [this](no-such-article.md).", "Fixed.")


def test_two_previews_in_one_process_keep_their_own_plugins(tmp_path: Path) -> None:
    one = make_project(tmp_path / "one", examples=True)
    two = make_project(tmp_path / "two", examples=True)
    first = LiveSite(one, OPTIONS, tmp_path / "served-one", URL)
    second = LiveSite(two, OPTIONS, tmp_path / "served-two", URL)
    first.start()
    second.start()
    try:
        edit(post(one, "2026-11-20-make-the-decision-reversible.md"), "undoing", "reversing")
        assert first.update().kind == "pages"
        assert second.update().kind == "none"
        page = "posts/make-the-decision-reversible/index.html"
        assert "reversing" in (first.site_dir / page).read_text(encoding="utf-8")
        assert "reversing" not in (second.site_dir / page).read_text(encoding="utf-8")
    finally:
        first.stop()
        second.stop()


def test_random_article_edits_on_a_larger_site_match_fresh_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seeded, so the same edits every run: re-dated, recategorised, retagged, drafted,
    renamed (its URL follows the title, and other posts link to it) and new articles. Pages
    written again after a save are rendered by two processes however few they are (on the
    example site, fewer than `MANY_PAGES`, they are rendered in this one)."""
    import random

    import generator.site.live as live_module
    from bench.corpus import make_corpus

    monkeypatch.setattr(live_module, "MANY_PAGES", 0)

    project = make_corpus(tmp_path / "corpus", 30)
    rng = random.Random(16)
    posts = sorted((project / "content/posts").glob("*.md"))
    site = LiveSite(project, OPTIONS, tmp_path / "served", URL)
    site.start(jobs=2)  # 30 articles: read by two processes, compared with a serial build
    edits = [
        lambda text: re.sub(r"^date: .*$", "date: 2026-11-20T06:30:00", text, count=1, flags=re.M),
        lambda text: re.sub(r"^categories: .*$", "categories: [Teams, Growth]", text, flags=re.M),
        lambda text: text.replace("\n---\n", "\ntags: [feedback, hiring]\n---\n", 1),
        lambda text: text.replace("\n---\n", "\ndraft: true\n---\n", 1),
        lambda text: re.sub(r"^title: ", "title: Renamed ", text, count=1, flags=re.M),
    ]
    kinds: list[str] = []
    try:
        for n, change in enumerate(edits):
            target = rng.choice(posts)
            target.write_text(change(target.read_text(encoding="utf-8")), encoding="utf-8")
            kinds.append(check(site, project, tmp_path, None, f"edit-{n}").kind)
        new = project / "content/posts/2026-11-19-new.md"
        new_text = (
            "---\ntitle: New in the middle\ndate: 2026-11-19T12:00:00\nauthors: [amara]\n"
            "categories: [Teams]\ntags: [feedback]\ndescription: Fresh.\n---\n\nHello.\n"
        )
        new.write_text(new_text, encoding="utf-8")
        kinds.append(check(site, project, tmp_path, None, "new").kind)
        new.unlink()
        kinds.append(check(site, project, tmp_path, None, "deleted").kind)
        # One save that adds the newest article and deletes an old one: as many as before.
        newest = project / "content/posts/2026-11-23-newest.md"
        newest.write_text(new_text.replace("2026-11-19T12", "2026-11-23T11"), encoding="utf-8")
        posts[3].unlink()
        kinds.append(check(site, project, tmp_path, None, "new-and-deleted").kind)
    finally:
        site.stop()
    # Both ways of planning again were taken: in place, and through MkDocs' build.
    assert set(kinds) == {"planned", "replanned"}, kinds


def test_a_new_article_after_the_last_issue_leaves_the_archived_issue_pages_as_they_were(
    live: LiveSite, example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first build makes the issues and converts their pages in other processes, and fills
    # the pages in late: the session must remember the issues, and fingerprint the filled
    # pages, or every later plan makes and writes them all again.
    import generator.site.newsletter as newsletter

    made: list[object] = []
    real = newsletter.archived_email
    monkeypatch.setattr(
        newsletter, "archived_email", lambda *args: made.append(args[2]) or real(*args)
    )
    issues = sorted(live.site_dir.glob("newsletter/20*/index.html"))
    assert len(issues) >= 2
    before = {page: page.stat().st_mtime_ns for page in issues}
    post(example_project, "2026-11-22-after-the-issue.md").write_text(
        "---\ntitle: After the issue\ndate: 2026-11-22T10:00\nauthors: [amara]\n"
        "categories: [Teams]\ntags: [a-tag-of-its-own]\ndescription: Just written.\n---\n\n"
        "First paragraph.\n",
        encoding="utf-8",
    )
    update = live.update()  # a tag page more: MkDocs' build, keeping what is unchanged
    assert update.kind == "planned" and update.pages > 0
    assert {page: page.stat().st_mtime_ns for page in issues} == before
    assert made == []  # no issue made again
