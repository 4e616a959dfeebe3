"""The web archive of past digests: /newsletter/ and /newsletter/<date>/, as Markdown pages
that MkDocs renders in the site's theme (so they are themed, searchable and in the sitemap).

Each issue's page shows the email itself, `email.html` beside it: the very bytes the digest
rendered but for its subscriber block (the receiving notice and unsubscribe link, which belong
to one reader), where a subscribe box stands, so the archive can never drift from what was
sent. press.js sizes the frame to the email."""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from generator.content.articles import Article
from generator.content.front_matter import format_front_matter
from generator.content.links import absolute_html, source_urls
from generator.content.markup import link_values, resolve_source_link
from generator.content.site_config import SiteConfig
from generator.digest.render import render_digest
from generator.digest.schedule import past_issues
from generator.site.session_memo import SessionMemo

INDEX = "newsletter/index.md"
READER_TEMPLATE = "press-page.html"
SUBSCRIBE = "subscribe.md"


def newsletter_pages(
    site: SiteConfig,
    articles: list[Article],
    now: datetime,
    days: Collection[date] | None = None,
    memo: SessionMemo[Any] | None = None,
) -> dict[str, str]:
    """Markdown pages and archived emails keyed by path under content/; the index exists even
    before the first digest. With `days`, only those issues' pages and the index. With a
    `memo` (`press serve`), an issue whose articles and links are as before is not rendered
    again."""
    issues = past_issues(site, articles, now)
    urls = source_urls(articles, site)
    pages = {INDEX: _index(site, issues)}
    for day, week in issues.items():
        if days is not None and day not in days:
            continue

        def make(day: date = day, week: list[Article] = week) -> tuple[Any, str, str]:
            # The week is kept with the result, so the ids in the key stay its articles'.
            email = archived_email(site, week, day, articles, urls)
            return week, _issue(site, day, week, urls), email

        key = (day, tuple(id(a) for a in week), _linked_urls(site, week, urls))
        _week, issue, email = memo.get(key, make) if memo is not None else make()
        pages[f"newsletter/{day.isoformat()}.md"] = issue
        pages[archived_email_path(day)] = email
    return pages


def _linked_urls(
    site: SiteConfig, week: list[Article], urls: Mapping[str, str]
) -> tuple[tuple[str, str | None], ...]:
    """What an issue's pages take from the other articles: the URLs of those its excerpts
    link to. Keyed on these rather than on every URL, a new article elsewhere in the corpus
    renders no issue again."""
    targets = set()
    for article in week:
        folder = posixpath.dirname(article.source.relative_to(site.content_dir).as_posix())
        for value in link_values(article.excerpt_html):
            found = resolve_source_link(value, folder)
            if found is not None and found.target:
                targets.add(found.target)
    return tuple((target, urls.get(target)) for target in sorted(targets))


def subscribe_page(site: SiteConfig) -> dict[str, str]:
    """/subscribe/: the page the footer, emails and other sites link to; the subscribe box
    follows its text (press-page.html)."""
    meta = {
        "title": "Subscribe",
        "description": f"Get {site.digest_name} by email: {site.subscribe_promise}",
        "template": READER_TEMPLATE,
    }
    lines = [
        f"# Subscribe to {markdown_text(site.name)}",
        "",
        f"{markdown_text(site.tagline)} New articles appear here through the week, and "
        f"{site.digest.cadence} one email brings you that week's articles.",
        "",
        "Past issues are in the [newsletter archive](newsletter/index.md); the feeds "
        "([RSS](feed.xml), [Atom](atom.xml), [JSON Feed](feed.json)) carry every article too.",
    ]
    return {SUBSCRIBE: format_front_matter(meta, "\n".join(lines) + "\n")}


def issues_showing(
    site: SiteConfig, articles: list[Article], now: datetime, sources: Collection[Path]
) -> set[date]:
    """The days of the archived issues that list any of the articles read from `sources`."""
    issues = past_issues(site, articles, now)
    return {day for day, week in issues.items() if any(a.source in sources for a in week)}


def archived_email_path(day: date) -> str:
    return f"newsletter/{day.isoformat()}/email.html"


def archived_email(
    site: SiteConfig,
    week: list[Article],
    day: date,
    articles: list[Article],
    urls: Mapping[str, str] | None = None,
) -> str:
    """The issue's HTML as the digest rendered it, but for the block that belongs to each
    subscriber (the receiving notice and the unsubscribe link): a subscribe box instead."""
    return render_digest(site, week, day, articles, archive=True, urls=urls).html


def _index(site: SiteConfig, issues: dict[date, list[Article]]) -> str:
    meta = {
        "title": "Newsletter",
        "description": f"Every issue of {site.digest_name}, newest first.",
        "template": READER_TEMPLATE,  # then the subscribe box
    }
    lines = [
        "# Newsletter archive",
        "",
        f"{site.subscribe_promise}",
        "",
    ]
    if not issues:
        lines.append("The first digest has not gone out yet.")
    for day, week in issues.items():
        titles = "; ".join(a.title for a in week)
        lines.append(f"- [Digest of {day:%d/%m/%Y}]({day.isoformat()}.md): {markdown_text(titles)}")
    return format_front_matter(meta, "\n".join(lines) + "\n")


def _issue(site: SiteConfig, day: date, week: list[Article], urls: dict[str, str]) -> str:
    meta = {
        "title": f"Digest of {day:%d/%m/%Y}",
        "description": f"The {site.digest.day_name} digest of {site.name}, {day:%d/%m/%Y}.",
    }
    lines = [
        f"# The {site.digest.day_name} digest, {day:%d/%m/%Y}",
        "",
        f'<iframe class="press-digest-frame" src="email.html" loading="lazy" '
        f'title="The digest of {day:%d/%m/%Y} as it was emailed"></iframe>',
        "",
        "## In this issue",
        "",
    ]
    for article in week:
        link = f"../{article.source.relative_to(site.content_dir).as_posix()}"
        authors = ", ".join(a.name for a in article.authors)
        # Only the heading is Markdown (the table of contents lists it); the lines around
        # the excerpt are written as the HTML Markdown would make of them: converting each
        # issue's two dozen such lines cost more than all its other work.
        lines += [
            f"### [{markdown_text(article.title)}]({link})",
            "",
            f"<p>{html_text(authors)} · {article.published:%d/%m/%Y} · "
            f"{article.read_time} min read</p>",
            "",
            absolute_html(article.excerpt_html, article, site, urls),
            "",
            # A link's text says where it goes.
            f'<p><a href="{html_attribute(link)}">Read “{html_text(article.title)}”</a></p>',
            "",
        ]
    lines.append("[All digests](index.md)")
    return format_front_matter(meta, "\n".join(lines) + "\n")


def html_text(text: str) -> str:
    """Text as HTML, escaped as Markdown escapes the text it converts."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def html_attribute(value: str) -> str:
    """An attribute's value, escaped as Markdown writes a link's address."""
    return html_text(value).replace('"', "&quot;")


def markdown_text(text: str) -> str:
    # Titles are text, not Markdown: entities for HTML, backslashes for Markdown syntax.
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char in "\\`*_[]#|":
        text = text.replace(char, "\\" + char)
    return text
