"""Inputs that used to slip through: titles are text everywhere, any script gets a readable URL,
and every front-matter key the README lists does what it says."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from generator.content.slugs import slugify
from generator.site.build import build_all
from generator.site.options import BuildOptions

from conftest import NOW, make_project

LD_JSON = "application/ld+json"
POST = """---
title: {title}
date: {date}
authors: [amara]
{extra}---

Opening paragraph of {name}.

<!-- more -->

## Section

Body of {name}.
"""


def post(title: str, date: str = "2026-11-10", extra: str = "", name: str = "x") -> str:
    return POST.format(title=title, date=date, extra=extra, name=name)


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    posts = {
        "2026-11-10-script.md": post('"<script>alert(9)</script>"', name="script"),
        "2026-11-11-less.md": post(
            '"When 1 < 2 & 3 > 2"',
            "2026-11-11",
            "tags: ['<img src=x onerror=alert(1)>', 'x\" onload=\"alert(2)']\n",
            name="less",
        ),
        "2026-11-12-ru.md": post("Лидерство и доверие", "2026-11-12", name="ru"),
        "2026-11-13-el.md": post("Ηγεσία και εμπιστοσύνη", "2026-11-13", name="el"),
        "2026-11-14-zh.md": post("领导力与信任", "2026-11-14", name="zh"),
        "2026-11-15-ar.md": post("القيادة والثقة", "2026-11-15", name="ar"),
        "2026-11-01-pinned.md": post(
            "Start here",
            "2026-11-01",
            "pin: true\nreadtime: 12\nlinks:\n  - posts/2026-11-12-ru.md\n"
            "  - {Further reading: 'https://example.org/reading'}\n",
            name="pinned",
        ),
    }
    root = make_project(tmp_path_factory.mktemp("hostile") / "project", posts)
    build_all(root, BuildOptions(now=NOW))
    return root / "site"


def test_titles_are_text_in_every_page_and_the_search_index(hostile_site: Path) -> None:
    for path in hostile_site.rglob("*.html"):
        tree = HTMLParser(path.read_text(encoding="utf-8"))
        code = [s.text() for s in tree.css("script") if s.attributes.get("type") != LD_JSON]
        assert not any("alert(9)" in script for script in code), path
        for data in tree.css(f'script[type="{LD_JSON}"]'):
            assert "<" not in data.text()  # nothing in the data can close or reopen the element
    page = HTMLParser((hostile_site / "posts/script-alert-9-script/index.html").read_text())
    ld = json.loads(page.css_first(f'script[type="{LD_JSON}"]').text())
    assert ld["headline"] == "<script>alert(9)</script>"
    index = json.loads((hostile_site / "search/search_index.json").read_text())
    assert not any("<script>" in doc["title"] for doc in index["docs"])
    page = HTMLParser((hostile_site / "posts/when-1-2-3-2/index.html").read_text())
    assert page.css_first("article h1").text() == "When 1 < 2 & 3 > 2"
    assert page.css_first("title").text().startswith("When 1 < 2 & 3 > 2 - ")
    og = page.css_first('meta[property="og:title"]').attributes["content"]
    assert og == "When 1 < 2 & 3 > 2"
    card_alt = page.css_first('meta[property="og:image:alt"]').attributes["content"]
    assert "When 1 < 2 & 3 > 2" in card_alt  # the share card's alt text, as text
    assert page.css_first('meta[name="twitter:image:alt"]').attributes["content"] == card_alt
    second = HTMLParser((hostile_site / "page/2/index.html").read_text())
    listed = [h.text(strip=True) for h in second.css("article h2")]
    assert "<script>alert(9)</script>" in listed  # shown as the text it is


def test_tags_are_text_in_every_page(hostile_site: Path) -> None:
    for path in hostile_site.rglob("*.html"):
        tree = HTMLParser(path.read_text(encoding="utf-8"))
        assert tree.css("img[onerror], [onload]") == [], path
    page = HTMLParser((hostile_site / "tag/img-src-x-onerror-alert-1/index.html").read_text())
    assert page.css_first("title").text() == "#<img src=x onerror=alert(1)> - The Leadership Press"
    feed = page.css_first('link[rel="alternate"][href$="feed.xml"][title*="#"]')
    assert feed.attributes["title"] == "The Leadership Press: #<img src=x onerror=alert(1)> (RSS)"
    og = page.css_first('meta[property="og:title"]').attributes["content"]
    assert og == "#<img src=x onerror=alert(1)>"
    quoted = HTMLParser((hostile_site / "tag/x-onload-alert-2/index.html").read_text())
    assert quoted.css_first("title").text().startswith('#x" onload="alert(2) - ')


def test_titles_in_any_script_get_their_own_readable_url(hostile_site: Path) -> None:
    for slug in ("лидерство-и-доверие", "ηγεσία-και-εμπιστοσύνη", "领导力与信任", "القيادة-والثقة"):
        assert (hostile_site / "posts" / slug / "index.html").is_file(), slug


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Café & Co", "cafe-co"),
        ("Лидерство и доверие", "лидерство-и-доверие"),
        ("Ёлка, йод", "ёлка-йод"),  # Cyrillic letters keep their marks
        ("领导力 与 信任", "领导力-与-信任"),
        ("???", ""),
    ],
)
def test_slugs(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_pin_links_and_readtime_work_end_to_end(hostile_site: Path) -> None:
    home = HTMLParser((hostile_site / "index.html").read_text())
    assert next(h.text(strip=True) for h in home.css("article h2")) == "Start here"
    page = HTMLParser((hostile_site / "posts/start-here/index.html").read_text())
    assert page.css_first(".press-post__readtime").text().strip() == "12 min read"
    links = {a.text(strip=True): a.attributes["href"] for a in page.css(".press-links a")}
    assert links["Further reading"] == "https://example.org/reading"
    assert unquote(links["Лидерство и доверие"]) == "../лидерство-и-доверие/"


ACTIVE_BODY = """---
title: Active content
date: 2026-11-20T10:00
authors: [amara]
---

Intro <a href="javascript:alert(1)">trap</a> <img src="x.png" alt="x" onerror="alert(2)">.

<!-- more -->

## Section

<script>alert(3)</script>
<iframe src="https://x.example/"></iframe>
<object data="x.swf"></object><embed src="x.swf">
<p onclick="alert(4)">Click</p>

Text with a footnote.[^1]

[^1]: The note.
"""


def test_feeds_and_the_digest_never_carry_active_content(tmp_path: Path) -> None:
    from generator.content.loader import load_content
    from generator.digest.preview import prepare_digest
    from generator.feeds.build import build_feeds

    project = make_project(tmp_path / "p", {"2026-11-20-active.md": ACTIVE_BODY})
    site, articles = load_content(project)
    feeds = build_feeds(site, articles, NOW)
    digest = prepare_digest(site, articles, date(2026, 11, 21), NOW).rendered
    outputs = {name: data.decode() for name, data in feeds.items()}
    outputs["digest.html"] = digest.html
    for name, text in outputs.items():
        lowered = text.lower()
        for bad in ("<script", "<iframe", "<object", "<embed", "onclick", "onerror", "javascript:"):
            assert bad not in lowered, (name, bad)
    item = json.loads(outputs["feed.json"])["items"][0]["content_html"]
    assert 'id="fn:1"' in item and "footnote" in item  # what is not active survives


def test_check_warns_and_strict_refuses_active_content(tmp_path: Path) -> None:
    from test_check_errors import run_press

    project = make_project(tmp_path / "p", {"2026-11-20-active.md": ACTIVE_BODY})
    relaxed = run_press(project, "check")
    assert relaxed.returncode == 0
    assert "2026-11-20-active.md:13:1: warning: <script> in the body" in relaxed.stderr
    strict = run_press(project, "check", "--strict")
    assert strict.returncode == 1 and "13:1: <script> in the body" in strict.stderr


LINKING = """---
title: Linking out
date: 2026-11-10
authors: [amara]
---

Opening, see [the section](#a-real-section) and [home](/).

<!-- more -->

## A real section

Write to [us](/contact/), read [the other](2026-11-11-other.md#nowhere) or [this](#nope).

```
[not a link](/in/code/)
```
"""


def test_build_reports_broken_internal_links_at_their_place(tmp_path: Path) -> None:
    from test_check_errors import run_press

    posts = {"2026-11-10-linking.md": LINKING, "2026-11-11-other.md": post("Other", "2026-11-11")}
    project = make_project(tmp_path / "p", posts)
    env = {"SOURCE_DATE_EPOCH": str(int(NOW.timestamp()))}
    built = run_press(project, "build", env=env)
    assert built.returncode == 0, built.stderr
    where = "content/posts/2026-11-10-linking.md:13:"
    assert [line for line in built.stderr.splitlines() if "link to" in line] == [
        f"{where}15: warning: link to '/contact/': no page at /contact/ "
        "(fix the path, or the heading it points to)",
        f"{where}44: warning: link to '2026-11-11-other.md#nowhere': /posts/other/ has no "
        "heading or element with id 'nowhere' (fix the path, or the heading it points to)",
        f"{where}83: warning: link to '#nope': /posts/linking-out/ has no heading or element "
        "with id 'nope' (fix the path, or the heading it points to)",
    ]
    kept = (project / "site" / "index.html").read_bytes()
    strict = run_press(project, "build", "--strict", env=env)
    assert strict.returncode == 1 and "Traceback" not in strict.stderr
    assert f"{where}15: link to '/contact/'" in strict.stderr
    assert (project / "site" / "index.html").read_bytes() == kept  # the last good site stays


def test_a_token_has_exactly_one_accepted_spelling() -> None:
    from generator.tokens import Signer, TokenError

    signer = Signer(b"one-spelling-signing-key")
    token = signer.sign("unsubscribe", "ada@example.net")
    assert signer.verify("unsubscribe", token) == "ada@example.net"
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=!+/"
    variants = [token + "!!!!", token + "====", token + "=", token + "A", " " + token]
    variants += [
        token[:i] + c + token[i + 1 :] for i in range(len(token)) for c in alphabet if c != token[i]
    ]
    accepted = []
    for variant in variants:
        try:
            signer.verify("unsubscribe", variant)
            accepted.append(variant)
        except TokenError:
            pass
    assert accepted == []


RICH = """---
title: Rich body
date: 2026-11-12T09:00
authors: [amara]
---

Opening with a footnote.[^note]

<!-- more -->

## Parts

!!! tip "Try this"
    Ask one question, then wait.

| Habit | Why |
| --- | --- |
| Pause | Others speak |

```html
<a href="x/y">a sample link</a>
```

Read [the other article](2026-11-11-other.md) next.

[^note]: The note itself.
"""


def test_page_feeds_and_json_feed_render_the_same_fragment(tmp_path: Path) -> None:
    from urllib.parse import urljoin
    from xml.etree import ElementTree

    posts = {"2026-11-12-rich.md": RICH, "2026-11-11-other.md": post("Other", "2026-11-11")}
    project = make_project(tmp_path / "p", posts)
    build_all(project, BuildOptions(now=NOW))
    site = project / "site"
    page_url = "https://leadership-press.example.org/posts/rich-body/"
    body = HTMLParser((site / "posts/rich-body/index.html").read_text()).css_first(
        ".press-post__body"
    )
    page = body.inner_html.strip().replace("<!-- more -->\n\n", "")  # a marker, not content
    for node in body.css("[href], [src]"):  # the page links relatively; feeds absolutely
        for name in ("href", "src"):
            if name in node.attributes:
                absolute = urljoin(page_url, node.attributes[name])
                page = page.replace(f'{name}="{node.attributes[name]}"', f'{name}="{absolute}"')
    rss = ElementTree.parse(site / "feed.xml").getroot()
    encoded = "{http://purl.org/rss/1.0/modules/content/}encoded"
    item = next(i for i in rss.iter("item") if i.findtext("title") == "Rich body")
    from_rss = item.findtext(encoded).strip()
    feed = json.loads((site / "feed.json").read_text())
    from_json = next(i for i in feed["items"] if i["title"] == "Rich body")["content_html"].strip()
    assert from_rss == from_json == page
    assert 'class="admonition tip"' in page and "<table>" in page and 'id="fn:note"' in page
    assert '<span class="s">"x/y"</span>' in page  # the code sample is left exactly as written
    assert 'href="https://leadership-press.example.org/posts/other/"' in from_rss


def test_related_reading_prefers_shared_tags_then_categories_then_recency(tmp_path: Path) -> None:
    from generator.content.loader import load_content
    from generator.content.related import related_articles

    def article(title: str, date: str, tags: str = "[]", categories: str = "[]") -> str:
        return post(title, date, f"tags: {tags}\ncategories: {categories}\n", title)

    posts = {
        "2026-11-01-me.md": article("Me", "2026-11-01", "[feedback]", "[Growth]"),
        "2026-11-02-tag.md": article("Shares a tag", "2026-11-02", "[feedback]"),
        "2026-11-03-cat-old.md": article("Shares a category", "2026-11-03", "[]", "[Growth]"),
        "2026-11-04-cat-new.md": article("Shares a category too", "2026-11-04", "[]", "[Growth]"),
        "2026-11-05-none.md": article("Shares nothing", "2026-11-05"),
        "2026-11-06-draft.md": article("Draft", "2026-11-06", "[feedback]").replace(
            "authors: [amara]", "authors: [amara]\ndraft: true"
        ),
        "2026-12-24-future.md": article("Future", "2026-12-24", "[feedback]", "[Growth]"),
    }
    project = make_project(tmp_path / "p", posts)
    _, articles = load_content(project)
    me = next(a for a in articles if a.title == "Me")
    chosen = [a.title for a in related_articles(me, articles, NOW)]
    assert chosen == ["Shares a tag", "Shares a category too", "Shares a category"]
    assert [a.title for a in related_articles(me, list(reversed(articles)), NOW)] == chosen
    build_all(project, BuildOptions(now=NOW))
    page = HTMLParser((project / "site/posts/me/index.html").read_text())
    links = [(a.text(strip=True), a.attributes["href"]) for a in page.css(".press-related a")]
    assert links == [
        ("Shares a tag", "../shares-a-tag/"),
        ("Shares a category too", "../shares-a-category-too/"),
        ("Shares a category", "../shares-a-category/"),
    ]


def test_tags_have_pages_feeds_and_links_from_posts(built_example: Path) -> None:
    index = HTMLParser((built_example / "tag/index.html").read_text())
    listed = {a.text(strip=True): a.attributes["href"] for a in index.css("article a")}
    assert listed["meetings"] == "meetings/" and listed["new managers"] == "new-managers/"
    page = HTMLParser((built_example / "tag/meetings/index.html").read_text())
    titles = [h.text(strip=True) for h in page.css("article.md-post--excerpt h2")]
    assert titles == ["Quiet voices in loud rooms", "Meetings with an exit", "Decide who decides"]
    feed = page.css_first('link[rel="alternate"][href$="feed.xml"][title*="#meetings"]')
    assert feed is not None and (built_example / "tag/meetings/feed.xml").is_file()
    post_page = HTMLParser(
        (built_example / "posts/quiet-voices-in-loud-rooms/index.html").read_text()
    )
    tags = {a.text(strip=True): a.attributes["href"] for a in post_page.css(".press-post__tags a")}
    assert tags == {"#meetings": "../../tag/meetings/", "#inclusion": "../../tag/inclusion/"}


def test_check_warns_on_a_tag_that_differs_only_in_case_or_spacing(tmp_path: Path) -> None:
    from test_check_errors import run_press

    posts = {
        "2026-11-01-a.md": post("A", "2026-11-01", "tags: [new managers]\n", "a"),
        "2026-11-02-b.md": post("B", "2026-11-02", "tags: [New  Managers]\n", "b"),
    }
    project = make_project(tmp_path / "p", posts)
    result = run_press(project, "check")
    assert result.returncode == 0
    assert (
        "content/posts/2026-11-02-b.md:5:1: warning: tags: 'New  Managers' differs from "
        "'new managers' only in case or spacing (use 'new managers', as "
        "content/posts/2026-11-01-a.md does)"
    ) in result.stderr
    assert run_press(project, "check", "--strict").returncode == 1


def test_long_titles_and_tags_get_bounded_urls_and_still_build(tmp_path: Path) -> None:
    from generator.content.slugs import MAX_SLUG_BYTES

    words = " ".join(f"word{i}" for i in range(400))  # about 2,800 characters
    posts = {
        "2026-11-10-long.md": post(f"'{words} one'", extra=f"tags: ['{'t' * 400}']\n", name="a"),
        "2026-11-11-long.md": post(f"'{words} two'", "2026-11-11", name="b"),
    }
    root = make_project(tmp_path / "project", posts)
    build_all(root, BuildOptions(now=NOW))
    site = root / "site"
    long_posts = [p for p in (site / "posts").iterdir() if p.name.startswith("word0-word1")]
    assert len(long_posts) == 2  # two titles that share their first 2,800 characters: two URLs
    for path in [*long_posts, site / "tag" / slugify("t" * 400)]:
        assert len(path.name.encode()) <= MAX_SLUG_BYTES and (path / "index.html").is_file()
    assert slugify(f"{words} one") == slugify(f"{words} one")  # stable


def test_a_too_long_slug_is_reported_at_its_line(tmp_path: Path) -> None:
    from test_check_errors import run_press

    posts = {"2026-11-10-x.md": post("Fine", extra=f"slug: {'a-' * 60}z\n")}
    project = make_project(tmp_path / "project", posts)
    result = run_press(project, "check")
    assert result.returncode == 1
    assert "content/posts/2026-11-10-x.md:5:7: slug: 'a-a-" in result.stderr
    assert "is too long for a URL (at most 80 bytes" in result.stderr


def test_press_new_takes_a_500_character_title(project: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    from generator.cli.main import main

    monkeypatch.chdir(project)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(NOW.timestamp())))
    title = "Lead " * 100
    result = CliRunner().invoke(main, ["new", title.strip()])
    assert result.exit_code == 0, result.output
    created = project / result.output.split()[1]
    assert created.is_file() and len(created.name.encode()) < 100


EVIL_AUTHOR = '<b class="evil">Eve</b> & "Co"'
EVIL_CATEGORY = "R&D <i class=evil>"


@pytest.fixture(scope="module")
def hostile_names(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An author and a category whose names are markup, on an article with a share card."""
    root = make_project(
        tmp_path_factory.mktemp("names") / "project",
        {
            "2026-11-18-names.md": post(
                "Names", "2026-11-18", f"categories: ['{EVIL_CATEGORY}']\n", name="names"
            ).replace("authors: [amara]", "authors: [eve]")
        },
    )
    authors = root / "site_config" / "authors.yml"
    authors.write_text(
        authors.read_text(encoding="utf-8")
        + f"  eve:\n    name: '{EVIL_AUTHOR}'\n    description: 'A <i class=evil>bio</i>'\n"
        "    avatar: assets/authors/amara.svg\n",
        encoding="utf-8",
    )
    config = root / "site_config" / "site.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("  - Teams\n", f"  - Teams\n  - '{EVIL_CATEGORY}'\n"))
    build_all(root, BuildOptions(now=NOW))
    return root


def test_author_and_category_names_are_text_everywhere(hostile_names: Path) -> None:
    site = hostile_names / "site"
    for path in site.rglob("*.html"):
        tree = HTMLParser(path.read_text(encoding="utf-8"))
        assert tree.css(".evil") == [], path
        for data in tree.css(f'script[type="{LD_JSON}"]'):
            assert "<" not in data.text(), path
    post_page = HTMLParser((site / "posts/names/index.html").read_text(encoding="utf-8"))
    byline = post_page.css_first(".press-post__byline a")
    assert byline.text(strip=True) == EVIL_AUTHOR
    assert EVIL_CATEGORY in [a.text(strip=True) for a in post_page.css(".press-post__meta a")]
    ld = json.loads(post_page.css_first(f'script[type="{LD_JSON}"]').text())
    assert ld["author"][0]["name"] == EVIL_AUTHOR
    author_page = next(site.glob("author/*/index.html"), None)
    titles = {
        HTMLParser(p.read_text(encoding="utf-8")).css_first("title").text()
        for p in site.glob("author/*/index.html")
    }
    assert author_page is not None and f"{EVIL_AUTHOR} - The Leadership Press" in titles
    category = next(site.glob("category/r-d*/index.html"))
    shown = HTMLParser(category.read_text(encoding="utf-8")).css_first("title").text()
    assert shown == f"{EVIL_CATEGORY} - The Leadership Press"
    index = json.loads((site / "search/search_index.json").read_text(encoding="utf-8"))
    assert not any("<b" in doc["title"] or "<i" in doc["title"] for doc in index["docs"])


def test_author_and_category_names_are_text_in_feeds_and_email(hostile_names: Path) -> None:
    from xml.etree import ElementTree

    from generator.content.loader import load_content
    from generator.digest.preview import prepare_digest

    site = hostile_names / "site"
    atom = ElementTree.parse(site / "atom.xml").getroot()
    names = [n.text for n in atom.iter("{http://www.w3.org/2005/Atom}name")]
    assert EVIL_AUTHOR in names
    terms = [c.get("term") for c in atom.iter("{http://www.w3.org/2005/Atom}category")]
    assert EVIL_CATEGORY in terms
    feed = json.loads((site / "feed.json").read_text(encoding="utf-8"))
    assert feed["items"][0]["authors"][0]["name"] == EVIL_AUTHOR
    config, articles = load_content(hostile_names)
    digest = prepare_digest(config, articles, date(2026, 11, 21), NOW).rendered
    email = HTMLParser(digest.html)
    assert email.css(".evil") == []
    meta = next(p.text() for p in email.css("p.meta") if "Eve" in p.text())
    assert meta.startswith(EVIL_AUTHOR)
    assert EVIL_AUTHOR in digest.text
