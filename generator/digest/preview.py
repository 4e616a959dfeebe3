"""Previews of a digest: the files of `press digest`, and the coming issue while editors write."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from generator.atomic import write_atomically
from generator.content.articles import Article
from generator.content.site_config import SiteConfig
from generator.digest.message import MessageTemplate, build_message_template, personalised_message
from generator.digest.render import UNSUBSCRIBE_PLACEHOLDER, RenderedDigest, render_digest
from generator.digest.schedule import (
    DigestWindow,
    digest_window,
    select_week,
    upcoming_issue_date,
)
from generator.tokens import Signer

SAMPLE_RECIPIENT = "reader@example.com"


@dataclass(frozen=True)
class PreparedDigest:
    window: DigestWindow
    rendered: RenderedDigest | None  # None: nothing was published that week
    template: MessageTemplate | None


def prepare_digest(
    site: SiteConfig, articles: list[Article], issue: date, now: datetime
) -> PreparedDigest:
    window = digest_window(site, issue)
    week = select_week(articles, window, now)
    if not week:
        return PreparedDigest(window, None, None)
    rendered = render_digest(site, week, issue, articles)
    return PreparedDigest(window, rendered, build_message_template(site, rendered))


def prepare_upcoming(
    site: SiteConfig, articles: list[Article], now: datetime, drafts: bool
) -> tuple[date, RenderedDigest | None]:
    """The coming issue as it stands: every article dated in its week, scheduled ones too
    (they will be published by the send), and drafts marked as such when `drafts`."""
    issue = upcoming_issue_date(site, now)
    window = digest_window(site, issue)
    chosen = [a for a in articles if window.holds(a.published) and (drafts or not a.draft)]
    if not chosen:
        return issue, None
    chosen.sort(key=lambda a: (a.published, a.slug), reverse=True)
    week = [replace(a, title=f"[Draft] {a.title}") if a.draft else a for a in chosen]
    return issue, render_digest(site, week, issue, articles)


def sample_copy(site: SiteConfig, rendered: RenderedDigest, signer: Signer) -> dict[str, str]:
    """The HTML and text parts as a sample subscriber gets them."""
    sample_url = site.email.unsubscribe_url + signer.sign("unsubscribe", SAMPLE_RECIPIENT)
    return {
        "email.html": rendered.html.replace(UNSUBSCRIBE_PLACEHOLDER, sample_url),
        "email.txt": rendered.text.replace(UNSUBSCRIBE_PLACEHOLDER, sample_url),
    }


def write_preview(site: SiteConfig, prepared: PreparedDigest, out: Path, signer: Signer) -> dict:
    """email.html, email.txt and preview.eml (for a sample recipient); returns name -> bytes."""
    assert prepared.rendered and prepared.template
    files = sample_copy(site, prepared.rendered, signer)
    data = {name: text.encode("utf-8") for name, text in files.items()}
    data["preview.eml"] = personalised_message(site, prepared.template, signer, SAMPLE_RECIPIENT)
    out.mkdir(parents=True, exist_ok=True)
    for name, content in data.items():
        write_atomically(out / name, content)
    return {name: len(content) for name, content in data.items()}
