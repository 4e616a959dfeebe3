"""A real MkDocs + Material build of the example content, checked by structure."""

from __future__ import annotations

import filecmp
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from generator.site.build import build_all
from generator.site.mkdocs_adapter import RenderError
from generator.site.options import BuildOptions

from conftest import NOW, make_project

POST = "posts/one-to-ones-that-matter/index.html"
HIDDEN = ("the-delegation-ladder", "leading-in-the-new-decade", "Delegation ladder", "new decade")


def page(site: Path, path: str) -> HTMLParser:
    return HTMLParser((site / path).read_text(encoding="utf-8"))


def texts(tree: HTMLParser, selector: str) -> list[str]:
    return [n.text(strip=True) for n in tree.css(selector)]


def test_home_lists_excerpts_newest_first_with_pagination(built_example: Path) -> None:
    home = page(built_example, "index.html")
    titles = texts(home, "article.md-post--excerpt h2")
    assert titles[0] == "Quiet voices in loud rooms" and len(titles) == 5
    assert home.css_first("a.md-post__action, .md-post__action a") is not None
    assert "page/2/" in home.html and (built_example / "page/2/index.html").is_file()
    second = texts(page(built_example, "page/2/index.html"), "article.md-post--excerpt h2")
    assert second[-1] == "Say the hard thing early" and len(second) == 5


def test_post_page_carries_everything_a_reader_needs(built_example: Path) -> None:
    post = page(built_example, POST)
    header = post.css_first(".press-post__header")
    assert header.css_first(".press-post__blog").text(strip=True) == "The Leadership Press"
    assert header.css_first("h1").text(strip=True) == "One-to-ones that matter"
    byline = header.css_first(".press-post__byline")
    assert re.sub(r"\s+", " ", byline.text(strip=True)).startswith("Written by")
    assert [a.attributes["href"] for a in byline.css("a")] == [
        "../../author/amara/",
        "../../author/daniel/",
    ]
    time = header.css_first("time")
    assert time.text(strip=True) == "02/11/2026"
    assert time.attributes["datetime"] == "2026-11-02T09:00:00+00:00"
    assert header.css_first(".press-post__readtime").text(strip=True) == "1 min read"
    assert texts(post, ".press-post__body h2") == [
        "Their agenda first",
        "Ask about energy, not only progress",
        "Close with one commitment each",
    ]
    assert post.css_first(".press-cta h2").text(strip=True) == "Lead a little better this week"
    shares = {a.text(strip=True): a.attributes["href"] for a in post.css(".press-share a")}
    assert set(shares) == {"LinkedIn", "X", "Facebook", "Email", "Copy link"}
    assert shares["LinkedIn"].startswith(
        "https://www.linkedin.com/sharing/share-offsite/?url=https"
    )
    assert shares["Email"].startswith("mailto:?subject=One-to-ones")
    form = post.css_first(".press-subscribe form")
    assert texts(post, ".press-subscribe h2") == ["Subscribe by Email"]
    assert form.attributes["action"] == "https://subscribe.leadership-press.example.org/subscribe"
    assert "every Saturday" in post.css_first(".press-subscribe p").text()
    email = form.css_first("input[type=email]")
    assert form.css_first(f"label[for={email.attributes['id']}]") is not None


def test_archive_category_and_author_pages(built_example: Path) -> None:
    archive = texts(page(built_example, "archive/2026/index.html"), "article h2")
    assert len(archive) == 5  # paginated like the home page
    teams = texts(page(built_example, "category/teams/index.html"), "article h2")
    assert teams == [
        "Celebrate the save, not only the launch",
        "Meetings with an exit",
        "Hire for the team you need, not the one you had",
        "One-to-ones that matter",
    ]
    editorial = page(built_example, "author/editorial/index.html")
    assert "Leadership Press Editorial Team" in editorial.text()
    assert len(editorial.css("article.md-post--excerpt")) == 3
    assert (built_example / "404.html").is_file() and (built_example / "search").is_dir()


def test_every_page_has_seo_metadata_and_feed_links(built_example: Path) -> None:
    for path in ["index.html", POST, "category/teams/index.html", "author/amara/index.html"]:
        head = page(built_example, path).css_first("head")
        canonical = head.css_first("link[rel=canonical]").attributes["href"]
        assert canonical.startswith("https://leadership-press.example.org/")
        assert head.css_first("meta[name=description]").attributes["content"]
        assert head.css_first("meta[property='og:title']") is not None
        assert head.css_first("meta[name='twitter:card']") is not None
        feeds = {ln.attributes["type"] for ln in head.css("link[rel=alternate]")}
        assert feeds == {"application/rss+xml", "application/atom+xml", "application/feed+json"}
    teams = page(built_example, "category/teams/index.html").css("link[rel=alternate]")
    assert "feed.xml" in [ln.attributes["href"] for ln in teams]  # the category's own feed
    assert (built_example / "category/teams/feed.xml").is_file()
    head = page(built_example, POST).css_first("head")
    # The share card, not the article's SVG (link previews do not show SVG).
    image = head.css_first("meta[property='og:image']").attributes["content"]
    assert image.endswith("/assets/cards/one-to-ones-that-matter.png")
    assert head.css_first("meta[property='og:image:width']").attributes["content"] == "1200"
    ld = json.loads(head.css_first("script[type='application/ld+json']").text())
    assert ld["@type"] == "BlogPosting" and ld["datePublished"] == "2026-11-02T09:00:00+00:00"
    assert [a["name"] for a in ld["author"]] == ["Amara Okafor", "Daniel Reyes"]


def test_drafts_and_future_articles_appear_nowhere(built_example: Path) -> None:
    for path in built_example.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".xml", ".json"}:
            text = path.read_text(encoding="utf-8")
            assert not any(h in text for h in HIDDEN), path
    assert not (built_example / "archive/2030").exists()


def test_sitemap_lastmod_comes_from_articles(built_example: Path) -> None:
    sitemap = (built_example / "sitemap.xml").read_text()
    entries = dict(re.findall(r"<loc>([^<]+)</loc>\s*<lastmod>([^<]+)</lastmod>", sitemap))
    assert entries["https://leadership-press.example.org/posts/decide-who-decides/"] == "2026-10-22"
    assert entries["https://leadership-press.example.org/"] == "2026-11-23"
    assert set(entries.values()) <= {
        f"2026-{m}"
        for m in (
            "10-19",
            "10-22",
            "10-28",
            "11-02",
            "11-06",
            "11-11",
            "11-16",
            "11-20",
            "11-22",
            "11-23",
        )
    }


def test_no_request_to_third_party_hosts(built_example: Path) -> None:
    loads = re.compile(
        r'<(?:script|link|img|iframe|source)\b[^>]*?(?:src|href)="(https?:)?//([^/"]+)'
    )
    for path in built_example.rglob("*.html"):
        for match in loads.finditer(path.read_text(encoding="utf-8")):
            tag = match.group(0)
            if 'rel="canonical"' in tag or 'rel="alternate"' in tag:
                continue  # links to ourselves, not loaded resources
            assert match.group(2) == "leadership-press.example.org", (path, tag)
    css = "\n".join(p.read_text() for p in built_example.rglob("*.css"))
    assert "fonts.googleapis" not in css and "@import url(http" not in css


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", examples=True)
    build_all(root, BuildOptions(now=NOW), tmp_path / "one")
    build_all(root, BuildOptions(now=NOW), tmp_path / "two")
    comparison = filecmp.dircmp(tmp_path / "one", tmp_path / "two")
    assert _all_same(comparison)


def _all_same(cmp: filecmp.dircmp) -> bool:
    if cmp.left_only or cmp.right_only or cmp.diff_files or cmp.funny_files:
        return False
    for name in cmp.common_files:
        if (Path(cmp.left) / name).read_bytes() != (Path(cmp.right) / name).read_bytes():
            return False
    return all(_all_same(sub) for sub in cmp.subdirs.values())


def test_failed_build_keeps_the_last_good_site(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", examples=True)
    report = build_all(root, BuildOptions(now=NOW))
    before = (report.site_dir / POST).read_bytes()
    template = root / "templates" / "theme" / "blog-post.html"
    template.write_text(template.read_text() + "{% broken %}")
    with pytest.raises(RenderError):
        build_all(root, BuildOptions(now=NOW))
    assert (report.site_dir / POST).read_bytes() == before
    assert not list(root.glob(".site-*")), "staging directories must be cleaned up"


def test_plain_mkdocs_build_strict_works(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", examples=True)
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "SOURCE_DATE_EPOCH": str(int(NOW.timestamp()))},
    )
    assert result.returncode == 0, result.stderr
    assert (root / "site" / POST).is_file()
    assert not (root / "site/posts/the-delegation-ladder").exists()


def test_an_engine_bug_reaches_the_crash_report_and_keeps_the_site(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What an upgrade of MkDocs or Material breaks is not the editor's mistake: one line that
    points at the report, the traceback in the report, the last good site in place."""
    from click.testing import CliRunner

    from generator.cli.main import main
    from generator.site.plugin import PressPlugin

    monkeypatch.chdir(example_project)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795856400")
    assert CliRunner().invoke(main, ["build"]).exit_code == 0
    kept = (example_project / "site" / "index.html").read_bytes()

    def renamed_in_a_new_release(self, nav, config, files):
        raise AttributeError("'BlogPlugin' object has no attribute '_resolve_original'")

    monkeypatch.setattr(PressPlugin, "on_nav", renamed_in_a_new_release)
    result = CliRunner().invoke(main, ["build", "--force"])
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("Error: unexpected error (AttributeError: 'BlogPlugin' object")
    report = Path(line.split("the full report is in ")[1].split(":")[0])
    assert "Traceback" in report.read_text() and "renamed_in_a_new_release" in report.read_text()
    assert (example_project / "site" / "index.html").read_bytes() == kept
