"""`press digest`: select the week, render once, write the preview files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from generator.atomic import write_atomically
from generator.content.articles import Article
from generator.content.site_config import SiteConfig
from generator.digest.message import MessageTemplate, build_message_template, personalised_message
from generator.digest.render import UNSUBSCRIBE_PLACEHOLDER, RenderedDigest, render_digest
from generator.digest.schedule import DigestWindow, digest_window, select_week
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


def write_preview(site: SiteConfig, prepared: PreparedDigest, out: Path, signer: Signer) -> dict:
    """email.html, email.txt and preview.eml (for a sample recipient); returns name -> bytes."""
    assert prepared.rendered and prepared.template
    sample_url = site.email.unsubscribe_url + signer.sign("unsubscribe", SAMPLE_RECIPIENT)
    files = {
        "email.html": prepared.rendered.html.replace(UNSUBSCRIBE_PLACEHOLDER, sample_url),
        "email.txt": prepared.rendered.text.replace(UNSUBSCRIBE_PLACEHOLDER, sample_url),
    }
    data = {name: text.encode("utf-8") for name, text in files.items()}
    data["preview.eml"] = personalised_message(site, prepared.template, signer, SAMPLE_RECIPIENT)
    out.mkdir(parents=True, exist_ok=True)
    for name, content in data.items():
        write_atomically(out / name, content)
    return {name: len(content) for name, content in data.items()}
