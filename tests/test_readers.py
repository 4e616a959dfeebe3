"""What readers see around the articles: the subscribe box wherever they decide, the
navigation and footer, and copy that reads right. Checked on the built example site by
structure, and on every email the site sends."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from generator.content.loader import load_content
from generator.digest.preview import prepare_digest
from generator.digest.render import render_digest
from generator.service.emails import confirmation_message, welcome_message
from generator.site.build import build_all
from generator.site.options import BuildOptions
from generator.tokens import Signer

from conftest import NOW, make_project

ENDPOINT = "https://subscribe.leadership-press.example.org/subscribe"
ISSUE = date(2026, 11, 21)
# Every page a reader decides on: the home page and each kind of list page (first and
# further pages), the newsletter archive, /subscribe/, the 404 page and a post.
BOXED = [
    "index.html",
    "page/2/index.html",
    "archive/2026/index.html",
    "archive/2026/page/2/index.html",
    "category/teams/index.html",
    "author/amara/index.html",
    "tag/feedback/index.html",
    "newsletter/index.html",
    "subscribe/index.html",
    "404.html",
    "posts/one-to-ones-that-matter/index.html",
]

LISTS = ("index.html", "page/", "archive/", "category/", "author/", "tag/")


def parsed(site: Path, path: str) -> HTMLParser:
    return HTMLParser((site / path).read_text(encoding="utf-8"))


def subscribe_form(tree: HTMLParser):
    """The page's one subscribe form, checked for what makes it usable by anyone."""
    forms = [f for f in tree.css("form") if f.attributes.get("action") == ENDPOINT]
    assert len(forms) == 1, f"{len(forms)} subscribe forms"
    [form] = forms
    assert form.attributes["method"] == "post"
    field = form.css_first("input[type=email]")
    assert field.attributes["name"] == "email" and "required" in field.attributes
    assert field.attributes["autocomplete"] == "email"
    label = form.css_first(f"label[for={field.attributes['id']}]")
    assert label is not None and label.text(strip=True) == "Email address"
    assert form.css_first("button[type=submit]").text(strip=True) == "Subscribe"
    return form


@pytest.mark.parametrize("path", BOXED)
def test_every_page_a_reader_decides_on_has_the_one_subscribe_box(built_example, path):
    tree = parsed(built_example, path)
    form = subscribe_form(tree)
    box = tree.css_first("section.press-subscribe")
    assert box.css_first("h2").text(strip=True) == "Subscribe by Email"
    assert "One email every Saturday morning" in box.text()
    assert "Every Saturday morning" in box.css_first(".press-subscribe__cadence").text()
    status = box.css_first("[role=status]")
    assert status.attributes["aria-live"] == "polite"  # the thank-you and errors, with JS
    described = form.css_first("input[type=email]").attributes["aria-describedby"].split()
    assert status.attributes["id"] in described
    source = form.css_first("input[name=source]").attributes["value"]
    assert source == ("home" if path == "index.html" else path.removesuffix("index.html"))


@pytest.mark.parametrize("path", [p for p in BOXED if p.startswith(LISTS)])
def test_on_list_pages_the_box_comes_after_the_posts(built_example, path):
    html = (built_example / path).read_text(encoding="utf-8")
    last_excerpt = html.rindex('<article class="md-post md-post--excerpt')
    assert html.index('class="press-subscribe"') > last_excerpt


def test_an_issue_page_offers_a_subscribe_box_inside_the_email(built_example):
    frame = parsed(built_example, "newsletter/2026-11-21/index.html")
    assert frame.css_first("iframe.press-digest-frame").attributes["src"] == "email.html"
    archived = parsed(built_example, "newsletter/2026-11-21/email.html")
    form = subscribe_form(archived)
    assert form.attributes["target"] == "_top"  # the service's answer fills the window
    text = archived.body.text()
    assert "You are receiving this email" not in text and "Unsubscribe" not in text


def test_tabs_name_each_section_once(built_example):
    for path in ("index.html", "newsletter/2026-11-21/index.html", "tag/feedback/index.html"):
        tree = parsed(built_example, path)
        tabs = [a.text(strip=True) for a in tree.css(".md-tabs__link")]
        assert tabs == ["Latest", "Newsletter", "Tags", "Archive", "Categories", "Authors"]
    active = {
        "newsletter/2026-11-21/index.html": "Newsletter",
        "tag/feedback/index.html": "Tags",
        "posts/one-to-ones-that-matter/index.html": "Latest",
        "category/teams/index.html": "Categories",
    }
    for path, tab in active.items():
        shown = parsed(built_example, path).css_first(".md-tabs__item--active")
        assert shown.text(strip=True) == tab, path
    home = parsed(built_example, "index.html")
    assert home.css_first("h1").text(strip=True) == "Latest articles"  # not the site name again


@pytest.mark.parametrize("path", ["newsletter/index.html", "tag/index.html", "index.html"])
def test_no_section_label_is_repeated_under_itself(built_example, path):
    """A section in the sidebar holding one page of its own name ("Newsletter / Newsletter")."""
    tree = parsed(built_example, path)
    for item in tree.css("li.md-nav__item--nested"):
        label = next(c for c in item.iter() if c.tag in ("label", "a", "div"))
        entries = item.css("nav > ul > li > a.md-nav__link")
        names = [e.text(strip=True) for e in entries]
        assert names != [label.text(strip=True)], path
    primary = [a.text(strip=True) for a in tree.css("nav.md-nav--primary > ul > li > a")]
    assert len(primary) == len(set(primary)), path


def test_tag_pages_show_excerpts_like_category_pages(built_example):
    tag = parsed(built_example, "tag/feedback/index.html")
    category = parsed(built_example, "category/communication/index.html")
    assert tag.css_first("h1").text(strip=True) == "Articles tagged feedback"
    excerpts = tag.css("article.md-post--excerpt")
    assert [e.css_first("h2").text(strip=True) for e in excerpts] == ["Say the hard thing early"]
    shape = {n.attributes.get("class") for n in excerpts[0].css("*")}
    assert shape == {n.attributes.get("class") for n in category.css_first("article").css("*")}
    assert excerpts[0].css_first(".md-post__content p").text(strip=True).startswith("Most")


def test_the_footer_names_the_publication_and_where_to_follow_it(built_example):
    footer = parsed(built_example, "posts/one-to-ones-that-matter/index.html").css_first(
        ".md-footer-meta"
    )
    text = footer.text(separator=" ", strip=True)
    assert "The Leadership Press" in text
    assert "Practical leadership, one week at a time." in text  # the tagline
    assert "12 Example Street, London EC1A 1AA" in text
    links = {a.text(strip=True): a.attributes["href"] for a in footer.css("a")}
    assert links["Subscribe by email"] == "../../subscribe/"
    assert links["RSS"] == "../../feed.xml" and links["Atom"] == "../../atom.xml"
    assert links["JSON Feed"] == "../../feed.json"
    assert "Material for MkDocs" not in text  # the theme credit is off in the example


def test_the_theme_credit_is_a_setting(tmp_path: Path):
    root = make_project(tmp_path / "p", examples=True)
    config = root / "site_config" / "site.yml"
    config.write_text(config.read_text(encoding="utf-8") + "\ntheme_credit: true\n")
    build_all(root, BuildOptions(now=NOW))
    footer = parsed(root / "site", "index.html").css_first(".md-footer-meta")
    assert "Made with Material for MkDocs" in footer.text(separator=" ", strip=True)


def _emails(root: Path, name: str | None = None) -> dict[str, str]:
    """Every email the site sends, its HTML and text parts: the digest, the confirmation
    and the welcome, for a site called `name`."""
    site, articles = load_content(root)
    if name is not None:
        site = replace(site, name=name)
    signer = Signer(b"r" * 32)
    prepared = prepare_digest(site, articles, ISSUE, NOW)
    digest = render_digest(site, list(prepared.rendered.articles), ISSUE, articles)
    parts = {"digest.html": digest.html, "digest.txt": digest.text}
    sent = {
        "confirm": confirmation_message(site, "a@example.net", "https://s.example/c/x", NOW),
        "welcome": welcome_message(site, "a@example.net", signer, ISSUE, NOW),
    }
    for kind, raw in sent.items():
        message = email.message_from_bytes(raw, policy=email.policy.default)
        parts[f"{kind}.html"] = message.get_body(("html",)).get_content()
        parts[f"{kind}.txt"] = message.get_body(("plain",)).get_content()
    return parts


def _text(part: str, content: str) -> str:
    if part.endswith(".html"):
        return HTMLParser(content).body.text(separator=" ")
    return content


@pytest.mark.parametrize("name", ["The Leadership Press", "Leadership Weekly"])
def test_the_subscription_notice_reads_right_with_or_without_the(example_project, name):
    parts = _emails(example_project, name)
    digest = " ".join(_text("digest.html", parts["digest.html"]).split())
    notice = f"you subscribed to the Saturday digest of {name} at"
    assert notice in digest and notice in parts["digest.txt"]
    assert f"asked to receive the Saturday digest of {name} at" in parts["confirm.txt"]
    for part, content in parts.items():
        assert not re.search(r"\bthe the\b", _text(part, content), re.I), part


TEXT_BLOCKS = "title, h1, h2, h3, h4, h5, h6, p, li, td, th, dt, dd, figcaption, label, button"
REPEATED = re.compile(r"\b(\w+)\s+\1\b", re.I)


def _repeated_words(text: str) -> list[str]:
    return [m.group(0) for m in REPEATED.finditer(text) if not m.group(1).isdigit()]


def test_no_page_or_email_repeats_a_word(built_example, example_project):
    found = {}
    for path in sorted(built_example.rglob("*.html")):
        tree = HTMLParser(path.read_text(encoding="utf-8"))
        # The navigation's labels are checked by the tests above: Material repeats a
        # section's label as its drill-down title on phones, by design.
        for hidden in tree.css("script, style, .md-search, svg, .md-nav"):
            hidden.decompose()
        # Each block of text as a reader reads it, so a tab label and the heading after it
        # are not one phrase; inline markup inside a block does not hide a repeat.
        for node in tree.css(TEXT_BLOCKS):
            if repeats := _repeated_words(node.text(separator=" ")):
                found[f"{path.relative_to(built_example)} <{node.tag}>"] = repeats
    for part, content in _emails(example_project).items():
        if repeats := _repeated_words(_text(part, content)):
            found[part] = repeats
    assert not found, found
