"""Render a digest once: subject, inlined HTML and plain text, with the unsubscribe URL left
as a placeholder that delivery fills per subscriber."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

import css_inline
from jinja2 import Environment, Template

from generator.content.articles import Article
from generator.content.links import absolute_html, source_urls
from generator.content.rendering import plain_text, shorten
from generator.content.sanitise import safe_html
from generator.content.site_config import SiteConfig
from generator.digest.click_links import site_path
from generator.digest.templates import template_environment

# Per-recipient values, left in the rendered text for delivery to fill; they survive escaping
# and CSS inlining. A counted article link is PRESSLINK<n>X: the service's signed URL of
# `links[n]` followed by the recipient's reader token.
UNSUBSCRIBE_PLACEHOLDER = "PRESSUNSUBSCRIBEURL0"
PREFERENCES_PLACEHOLDER = "PRESSPREFERENCESURL0"
LINK_PLACEHOLDER = re.compile(r"PRESSLINK(\d+)X")
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


@dataclass(frozen=True)
class DigestEntry:
    title: str
    url: str
    authors: str
    date: str
    read_time: int
    excerpt_html: str
    excerpt_text: str


@dataclass(frozen=True)
class RenderedDigest:
    issue: date
    subject: str
    html: str
    text: str
    articles: tuple[Article, ...]
    view_url: str
    links: tuple[str, ...] = ()  # the site paths behind PRESSLINK<n>X, counted by the service


def email_environment(site: SiteConfig) -> Environment:
    return template_environment(site.root / "templates" / "email")


def render_digest(
    site: SiteConfig,
    week: list[Article],
    issue: date,
    everything: list[Article],
    archive: bool = False,
    urls: Mapping[str, str] | None = None,
) -> RenderedDigest:
    """The issue as emailed; with `archive`, as the web archive shows it: a subscribe box in
    place of the subscriber block (between the `press:subscriber` comments). `urls` is
    `source_urls(everything, site)` when the caller has it: the archive renders every issue,
    and working it out for each made the archive's cost grow with the square of the corpus."""
    env = email_environment(site)
    view_url = site.absolute(f"newsletter/{issue.isoformat()}/")
    urls = source_urls(everything, site) if urls is None else urls
    counted = site.email.click_counts and not archive
    paths = [site_path(site, a.url) for a in week] if counted else []
    links = tuple(path for path in paths if path is not None)
    shown = [
        f"PRESSLINK{links.index(path)}X" if path is not None else with_utm(a.url, site, issue)
        for a, path in zip(week, paths or [None] * len(week), strict=True)
    ]
    entries = [_entry(site, a, urls, url) for a, url in zip(week, shown, strict=True)]
    context = {
        "site": site,
        "articles": entries,
        "issue_date": issue.strftime("%d/%m/%Y"),
        "subject": render_subject(site, week, issue),
        "preheader": shorten(" ".join(a.description for a in week), 140),
        "view_url": view_url,
        "site_link": with_utm(site.url, site, issue),
        "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
        "preferences_url": PREFERENCES_PLACEHOLDER,
        "archive": archive,
        "archive_source": f"newsletter/{issue.isoformat()}/",
    }
    html = _INLINER.inline(env.get_template("digest.html.j2").render(context))
    text = env.get_template("digest.txt.j2").render(context)
    return RenderedDigest(issue, context["subject"], html, text, tuple(week), view_url, links)


def render_subject(site: SiteConfig, week: list[Article], issue: date) -> str:
    template = _subject_template(site.root / "templates" / "email", site.digest.subject)
    raw = template.render(site=site, articles=week, issue=issue)
    return " ".join(raw.split())  # CR, LF and runs of spaces can never reach a header


@cache
def _subject_template(folder: Path, source: str) -> Template:
    # Compiled once per subject: the newsletter archive renders one subject per issue.
    return template_environment(folder).from_string(source)


def with_utm(url: str, site: SiteConfig, issue: date) -> str:
    params = [(k, v.replace("{date}", issue.isoformat())) for k, v in site.digest.utm]
    if not params:
        return url
    return url + ("&" if "?" in url else "?") + urlencode(params)


def _entry(site: SiteConfig, article: Article, urls: dict[str, str], url: str) -> DigestEntry:
    excerpt = safe_html(absolute_html(article.excerpt_html, article, site, urls))
    return DigestEntry(
        title=article.title,
        url=url,
        authors=", ".join(a.name for a in article.authors),
        date=article.published.strftime("%d/%m/%Y"),
        read_time=article.read_time,
        excerpt_html=excerpt,
        excerpt_text=html_to_text(excerpt),
    )


def html_to_text(html: str) -> str:
    """Readable text that keeps every link: `label (https://…)`."""
    linked = re.sub(
        r'<a\b[^>]*href="([^"]+)"[^>]*>(.*?)</a>',
        lambda m: f"{plain_text(m[2])} ({unescape(m[1])})",
        html,
        flags=re.S,
    )
    paragraphs = re.split(r"</p>\s*|<br\s*/?>", linked)
    return "\n\n".join(t for t in (plain_text(p) for p in paragraphs) if t)
