"""The Saturday digest: window, rendering, the message, its quality and its web copy."""

from __future__ import annotations

import binascii
import dataclasses
import email
import html
import re
import shutil
import subprocess
from datetime import UTC, date, datetime
from email import policy
from pathlib import Path

import pytest
from jinja2 import UndefinedError
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from generator.content.loader import load_content
from generator.content.site_config import load_site
from generator.digest.message import personalised_message, qp_url
from generator.digest.preview import prepare_digest, write_preview
from generator.digest.render import render_digest, render_subject, with_utm
from generator.digest.schedule import digest_window, issue_for, past_issues, select_week
from generator.site.newsletter import newsletter_pages
from generator.site.session_memo import SessionMemo
from generator.tokens import Signer, TokenError

from conftest import NOW, REPO
from golden import assert_golden
from test_check_errors import run_press
from test_site_quality import nu_errors

KEY = "test-signing-key-0123456789"
ISSUE = date(2026, 11, 21)


@pytest.fixture
def signer() -> Signer:
    return Signer(KEY.encode())


@pytest.fixture
def prepared(example_project: Path):
    site, articles = load_content(example_project)
    return site, prepare_digest(site, articles, ISSUE, NOW)


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


def test_digest_matches_golden_files(prepared, signer: Signer, tmp_path: Path) -> None:
    site, digest = prepared
    write_preview(site, digest.rendered, digest.template, tmp_path, signer)
    for name in ("email.html", "email.txt", "preview.eml"):
        assert_golden(f"digest/{ISSUE}-{name}", (tmp_path / name).read_bytes())


def test_week_holds_its_articles_newest_first(prepared) -> None:
    _, digest = prepared
    titles = [a.title for a in digest.rendered.articles]
    assert titles == ["Make the decision reversible", "Growth is a conversation, not a form"]
    assert digest.rendered.subject == (
        "The Leadership Press: Make the decision reversible and 1 more"
    )


def article_at(project: Path, stamp: str, name: str = "edge"):
    path = project / "content/posts" / f"{name}.md"
    path.write_text(
        f"---\ntitle: {name}\ndate: {stamp}\nauthors: [amara]\n---\n\nA.\n\n<!-- more -->\n\nB.\n"
    )
    site, articles = load_content(project)
    return site, [a for a in articles if a.title == name]


@pytest.mark.parametrize(
    ("stamp", "issue"),
    [
        ("2026-11-28T06:59:59", date(2026, 11, 28)),  # just before the cut-off
        ("2026-11-28T07:00:00", date(2026, 12, 5)),  # exactly at the cut-off: next week
        ("2026-11-21T07:00:00", date(2026, 11, 28)),  # the previous cut-off is inclusive
        ("2026-11-28", date(2026, 11, 28)),  # date-only: midnight, before 07:00
        ("2026-11-27", date(2026, 11, 28)),
        ("2026-03-28T06:30:00", date(2026, 3, 28)),  # spring: clocks go forward on 29/03
        ("2026-04-04T06:30:00", date(2026, 4, 4)),  # 06:30 BST is 05:30 UTC
        ("2026-04-04T07:00:00", date(2026, 4, 11)),
        ("2026-10-31T06:59:00", date(2026, 10, 31)),  # autumn: clocks go back on 25/10
        ("2026-10-31T07:00:00", date(2026, 11, 7)),
        ("2026-10-24T07:00:00+01:00", date(2026, 10, 31)),  # aware, the BST cut-off itself
    ],
)
def test_window_edges(project: Path, stamp: str, issue: date) -> None:
    site, [article] = article_at(project, stamp)
    assert issue_for(site, article.published) == issue
    later = datetime(2027, 1, 1, tzinfo=UTC)
    assert select_week([article], digest_window(site, issue), later) == [article]


def test_daylight_saving_weeks_keep_seven_oclock_local(project: Path) -> None:
    site = load_site(project)
    spring, autumn = digest_window(site, date(2026, 4, 4)), digest_window(site, date(2026, 10, 31))

    def hours(w):
        return (w.end.astimezone(UTC) - w.start.astimezone(UTC)).total_seconds() / 3600

    assert hours(spring) == 167 and hours(autumn) == 169
    assert spring.end.astimezone(UTC).hour == 6 and autumn.end.astimezone(UTC).hour == 7


def test_drafts_and_future_articles_are_left_out(project: Path) -> None:
    site, [future] = article_at(project, "2026-11-23T13:00", "future")
    assert select_week([future], digest_window(site, date(2026, 11, 28)), NOW) == []
    site, articles = load_content(REPO)
    draft = next(a for a in articles if a.draft)
    assert select_week([draft], digest_window(site, date(2026, 11, 28)), NOW) == []


def test_non_saturday_is_refused(project: Path) -> None:
    with pytest.raises(ValueError, match="not a digest day"):
        digest_window(load_site(project), date(2026, 11, 24))


def test_empty_week_gives_no_digest(example_project: Path) -> None:
    result = run_press(
        example_project,
        "digest",
        "--date",
        "2026-10-17",
        env={"SOURCE_DATE_EPOCH": str(int(NOW.timestamp()))},
    )
    assert result.returncode == 0
    assert (
        "No digest for 2026-10-17: nothing was published between 10/10/2026 07:00" in result.stdout
    )
    assert "latest issue with articles was 21/11/2026: press digest --date 2026-11-21" in (
        result.stdout
    )
    assert not (example_project / "dist").exists()


def test_press_digest_writes_files_and_reports(example_project: Path) -> None:
    result = run_press(
        example_project,
        "digest",
        "--date",
        "2026-11-21",
        env={"SOURCE_DATE_EPOCH": str(int(NOW.timestamp()))},
    )
    assert result.returncode == 0, result.stderr
    assert "Make the decision reversible and 1 more" in result.stdout
    assert "2 article(s)" in result.stdout and "preview.eml" in result.stdout
    out = example_project / "dist/digest/2026-11-21"
    assert sorted(p.name for p in out.iterdir()) == ["email.html", "email.txt", "preview.eml"]


def test_message_structure_and_headers(prepared, signer: Signer) -> None:
    site, digest = prepared
    raw = personalised_message(site, digest.template, signer, "ada@example.net")
    msg = parse(raw)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in msg.iter_parts())
    assert msg["From"] == "The Leadership Press <digest@leadership-press.example.org>"
    assert msg["Reply-To"] == "editors@leadership-press.example.org"
    assert msg["To"] == "ada@example.net"
    assert msg["Date"] == "Sat, 21 Nov 2026 07:00:00 +0000"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Id"] == "The Leadership Press <digest.leadership-press.example.org>"
    assert msg["List-Archive"] == "<https://leadership-press.example.org/newsletter/>"
    https, mailto = [u.strip(" <>") for u in msg["List-Unsubscribe"].split(",")]
    assert https.startswith("https://subscribe.leadership-press.example.org/unsubscribe/")
    assert mailto.startswith("mailto:unsubscribe@leadership-press.example.org?subject=")
    token = https.rsplit("/", 1)[1]
    assert signer.verify("unsubscribe", token) == "ada@example.net|0"  # never confirmed here
    text, html = (p.get_content() for p in msg.iter_parts())
    assert https in text and f'href="{https}"' in html
    assert "View in browser: https://leadership-press.example.org/newsletter/2026-11-21/" in text
    head, body = raw.split(b"\r\n\r\n", 1)
    assert all(len(line) <= 76 for line in body.split(b"\r\n")), "quoted-printable line limit"
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))


@pytest.mark.parametrize("alphabet", ["aB3-_./:?&%", "a.=é ~"])
def test_urls_are_quoted_printable_as_the_standard_library_encodes_them(alphabet: str) -> None:
    # qp_url cuts literal URLs itself (a fast path); any length must give b2a_qp's bytes.
    for length in range(0, 320):
        url = "".join(alphabet[(n * 7 + length) % len(alphabet)] for n in range(length))
        raw = url.encode()
        expected = binascii.b2a_qp(raw, istext=True).replace(b"\n", b"\r\n")
        assert qp_url(raw) == expected, length


def test_message_id_is_deterministic_per_digest_and_subscriber(prepared, signer: Signer) -> None:
    site, digest = prepared
    one = parse(personalised_message(site, digest.template, signer, "ada@example.net"))
    again = parse(personalised_message(site, digest.template, signer, "ada@example.net"))
    other = parse(personalised_message(site, digest.template, signer, "bob@example.net"))
    assert one["Message-ID"] == again["Message-ID"] != other["Message-ID"]
    assert one["Message-ID"].endswith("@leadership-press.example.org>")
    assert "2026-11-21" in one["Message-ID"]


def test_tokens_reject_forgery_tampering_and_expiry(signer: Signer) -> None:
    token = signer.sign("unsubscribe", "ada@example.net")
    payload, mac = token.split(".")
    with pytest.raises(TokenError):
        signer.verify("unsubscribe", payload[:-2] + "AA." + mac)
    with pytest.raises(TokenError):
        Signer(b"another-secret-key-123").verify("unsubscribe", token)
    with pytest.raises(TokenError):
        signer.verify("confirm", token)
    with pytest.raises(TokenError):
        signer.verify("unsubscribe", "garbage")
    expiring = signer.sign("confirm", "ada@example.net", expires=100)
    assert signer.verify("confirm", expiring, now=99) == "ada@example.net"
    with pytest.raises(TokenError, match="expired"):
        signer.verify("confirm", expiring, now=101)


def test_markup_in_titles_and_descriptions_is_escaped(project: Path, signer: Signer) -> None:
    post = project / "content/posts/2026-11-20-payload.md"
    post.write_text(
        "---\ntitle: '<script>alert(1)</script> & \"quotes\"'\ndate: 2026-11-20\n"
        "authors: [amara]\ndescription: '<img src=x onerror=alert(2)>'\n---\n\n"
        "Safe <b>inline</b> text.\n\n<!-- more -->\n\nRest.\n"
    )
    site, articles = load_content(project)
    digest = prepare_digest(site, articles, ISSUE, NOW)
    tree = HTMLParser(digest.rendered.html)
    assert tree.css("script") == [] and tree.css("img") == []
    title = '<script>alert(1)</script> & "quotes"'
    assert tree.css_first(".article-title a").text() == title
    assert "<img src=x onerror=alert(2)>" in tree.css_first(".preheader").text()
    msg = parse(personalised_message(site, digest.template, signer, "a@example.net"))
    assert msg["Subject"].startswith("The Leadership Press: <script>alert(1)</script>")


def test_cr_lf_in_a_title_cannot_inject_a_header(prepared, signer: Signer) -> None:
    site, digest = prepared
    evil = dataclasses.replace(digest.rendered.articles[0], title="Hi\r\nBcc: victim@example.com")
    subject = render_subject(site, [evil], ISSUE)
    assert "\r" not in subject and "\n" not in subject
    rendered = render_digest(site, [evil], ISSUE, [evil])
    from generator.digest.message import build_message_template

    raw = personalised_message(site, build_message_template(site, rendered), signer, "a@b.org")
    assert parse(raw)["Bcc"] is None
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"^Bcc:", head, re.M)


def test_misspelt_template_variable_fails_loudly(prepared, tmp_path: Path) -> None:
    site, digest = prepared
    templates = site.root / "templates/email/digest.txt.j2"
    templates.write_text(templates.read_text() + "{{ artcles }}\n")
    from generator.digest.templates import template_environment

    template_environment.cache_clear()
    with pytest.raises(UndefinedError):
        render_digest(site, list(digest.rendered.articles), ISSUE, [])
    template_environment.cache_clear()


def test_past_issues_power_the_web_archive(built_example: Path) -> None:
    index = (built_example / "newsletter/index.html").read_text()
    for day in ("2026-11-21", "2026-11-14", "2026-10-24"):
        assert f'href="{day}/"' in index
    assert index.index("2026-11-21") < index.index("2026-10-24")  # newest first
    web = (built_example / "newsletter/2026-11-21/index.html").read_text()
    assert "Make the decision reversible" in web and "Growth is a conversation" in web
    assert "Quiet voices" not in web  # that article is in next Saturday's digest
    sitemap = (built_example / "sitemap.xml").read_text()
    assert "https://leadership-press.example.org/newsletter/2026-11-21/" in sitemap


SUBSCRIBER_BLOCK = re.compile(r"<!--press:subscriber-->(.*?)<!--/press:subscriber-->", re.S)


def test_the_archive_shows_the_email_as_sent_but_for_the_subscriber_block(
    built_example: Path, prepared
):
    site, digest = prepared
    archived = (built_example / "newsletter/2026-11-21/email.html").read_text()
    sent = email.message_from_bytes(
        personalised_message(site, digest.template, Signer(b"k" * 16), "ada@example.net"),
        policy=policy.default,
    )
    as_sent = sent.get_body(("html",)).get_content().replace("\r\n", "\n")  # CRLF: transfer
    [sent_block] = SUBSCRIBER_BLOCK.findall(as_sent)
    [archived_block] = SUBSCRIBER_BLOCK.findall(archived)
    # Outside the one block, the archive is byte for byte what the subscriber got, but for
    # its article links, which go straight to the articles (the email's are counted first).
    counted = re.compile(
        re.escape(site.service_url("r/2026-11-21/")) + r"[\w-]+/([^?\"]+)\?r=[^\"]+"
    )
    utm = html.escape(with_utm("", site, ISSUE))
    direct = counted.sub(lambda m: site.url + m[1] + utm, as_sent)
    assert direct != as_sent
    assert SUBSCRIBER_BLOCK.sub("", direct) == SUBSCRIBER_BLOCK.sub("", archived)
    # The block: the reader's notice and unsubscribe link in the email, a subscribe box here.
    assert "You are receiving this email" in sent_block and "/unsubscribe/" in sent_block
    box = HTMLParser(archived_block)
    assert "You are receiving" not in box.text() and "unsubscribe" not in archived_block.lower()
    form = box.css_first("form")
    assert form.attributes["action"] == site.subscribe_endpoint
    assert form.attributes["target"] == "_top"
    field = box.css_first("input[type=email]")
    assert field.attributes["autocomplete"] == "email" and "required" in field.attributes
    label = box.css_first(f"label[for={field.attributes['id']}]")
    assert label.text() == "Email address"
    source = box.css_first("input[name=source]").attributes["value"]
    assert source == "newsletter/2026-11-21/"
    page = HTMLParser((built_example / "newsletter/2026-11-21/index.html").read_text())
    frame = page.css_first("iframe.press-digest-frame")
    assert frame.attributes["src"] == "email.html"
    assert frame.attributes["title"] == "The digest of 21/11/2026 as it was emailed"


def test_past_issues_skip_the_unsent_week(example_project: Path) -> None:
    site, articles = load_content(example_project)
    assert next(iter(past_issues(site, articles, NOW))) == date(2026, 11, 21)


@pytest.fixture
def preview_files(prepared, signer: Signer, tmp_path: Path) -> Path:
    site, digest = prepared
    write_preview(site, digest.rendered, digest.template, tmp_path, signer)
    return tmp_path


@pytest.mark.skipif(shutil.which("spamassassin") is None, reason="needs Debian's spamassassin")
def test_spamassassin_scores_at_most_one(preview_files: Path) -> None:
    result = subprocess.run(
        ["spamassassin", "-L", "-t"],
        input=(preview_files / "preview.eml").read_bytes(),
        capture_output=True,
        timeout=120,
    )
    score = float(re.search(rb"X-Spam-Status: \w+, score=(-?[\d.]+)", result.stdout).group(1))
    assert score <= 1.0, result.stdout.decode()[-1500:]


LEGACY = re.compile(
    r"attribute on the “(table|td)” element is obsolete"
    r"|“(cellpadding|cellspacing|border|width|align)”"
)


def test_email_html_has_no_nu_errors_beyond_legacy_tables(preview_files: Path) -> None:
    errors = [m["message"] for m in nu_errors([preview_files / "email.html"])]
    assert [e for e in errors if not LEGACY.search(e)] == []


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 600])
def test_email_has_no_horizontal_overflow(preview_files: Path, browser, width: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto((preview_files / "email.html").as_uri())
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert page.get_by_role("link", name="Unsubscribe").is_visible()
    page.close()


def test_an_issue_page_is_rendered_again_only_when_what_it_links_to_moves(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # press serve keeps each issue's pages from one plan to the next (a SessionMemo): a new
    # article elsewhere must not render every issue again, but a moved link target must.
    import generator.site.newsletter as newsletter

    site, articles = load_content(example_project)
    week = select_week(articles, digest_window(site, ISSUE), NOW)
    linker, target = week[0], next(a for a in articles if a not in week)
    relative = target.source.name  # both live in posts/
    linking = dataclasses.replace(linker, excerpt_html=f'<p>See <a href="{relative}">this</a>.</p>')
    articles = [linking if a is linker else a for a in articles]
    rendered: list[date] = []
    real = newsletter.archived_email
    monkeypatch.setattr(
        newsletter,
        "archived_email",
        lambda site, week, day, everything, urls: (
            rendered.append(day) or real(site, week, day, everything, urls)
        ),
    )
    memo = SessionMemo()
    first = newsletter_pages(site, articles, NOW, memo=memo)
    issues = len(rendered)
    assert issues >= 2 and ISSUE in rendered

    memo.next_build()
    rendered.clear()
    later = dataclasses.replace(
        target,
        source=target.source.with_name("2099-01-01-not-yet.md"),
        published=target.published.replace(year=2099),
        url=site.absolute("posts/not-yet/"),
    )
    again = newsletter_pages(site, [*articles, later], NOW, memo=memo)
    assert rendered == [] and again == first  # nothing it links to moved

    memo.next_build()
    moved = dataclasses.replace(target, url=site.absolute("posts/moved/"))
    third = newsletter_pages(site, [moved if a is target else a for a in articles], NOW, memo=memo)
    own = [day for day, listed in past_issues(site, articles, NOW).items() if target in listed]
    # Only the issue whose excerpt links to it, and the one that lists it.
    assert sorted(rendered) == sorted([ISSUE, *own]) and len(rendered) < issues
    assert site.absolute("posts/moved/") in third[f"newsletter/{ISSUE}.md"]


def test_the_archive_works_out_the_articles_urls_once_for_all_its_issues(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Once per issue made the archive's cost grow with the square of the corpus.
    import generator.digest.render as render
    import generator.site.newsletter as newsletter

    site, articles = load_content(example_project)
    calls: list[int] = []
    for module in (render, newsletter):
        real = module.source_urls
        monkeypatch.setattr(
            module, "source_urls", lambda a, s, real=real: calls.append(1) or real(a, s)
        )
    pages = newsletter_pages(site, articles, NOW)
    assert len(past_issues(site, articles, NOW)) >= 2 and len(pages) >= 5
    assert len(calls) == 1


def test_an_issue_page_shows_a_title_as_text_in_its_heading_and_its_read_link(
    example_project: Path,
) -> None:
    site, articles = load_content(example_project)
    week = select_week(articles, digest_window(site, ISSUE), NOW)
    title = "Fish & *chips* <now> [then] `code` \\ | #1"
    renamed = dataclasses.replace(week[0], title=title)
    articles = [renamed if a is week[0] else a for a in articles]
    page = newsletter_pages(site, articles, NOW)[f"newsletter/{ISSUE}.md"]
    tree = HTMLParser(site.markdown.convert(page.split("---\n", 2)[2]))
    heading = next(h for h in tree.css("h3") if "chips" in h.text())
    read = next(a for a in tree.css("p > a") if a.text().startswith("Read “Fish"))
    assert heading.text() == title and read.text() == f"Read “{title}”"
    assert read.attributes["href"] == heading.css_first("a").attributes["href"]
    byline = heading.next
    while byline is not None and byline.tag != "p":
        byline = byline.next
    assert byline is not None and byline.text().endswith("min read")
