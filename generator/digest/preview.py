"""Previews of a digest: the files of `press digest`, and the coming issue while editors write."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from generator.atomic import write_atomically
from generator.content.articles import Article
from generator.content.site_config import SiteConfig
from generator.digest.click_links import link_url, reader_name, reader_token
from generator.digest.message import MessageTemplate, build_message_template, personalised_message
from generator.digest.render import (
    LINK_PLACEHOLDER,
    PREFERENCES_PLACEHOLDER,
    UNSUBSCRIBE_PLACEHOLDER,
    RenderedDigest,
    render_digest,
)
from generator.digest.schedule import (
    DigestWindow,
    digest_window,
    select_week,
    send_moment,
    upcoming_issue_date,
)
from generator.digest.variants import Variant, plan_variants
from generator.tokens import Signer, subscription_subject

SAMPLE_RECIPIENT = "reader@example.com"


@dataclass(frozen=True)
class PreparedVariant:
    variant: Variant
    rendered: RenderedDigest
    template: MessageTemplate


@dataclass(frozen=True)
class PreparedDigest:
    window: DigestWindow
    rendered: RenderedDigest | None  # None: nothing was published that week
    template: MessageTemplate | None  # the whole issue's
    variants: tuple[PreparedVariant, ...] = ()  # the whole issue first

    @property
    def fingerprint(self) -> str:
        """What `press send --expect` checks: the whole issue's fingerprint when it is the only
        variant, else a hash over every variant's."""
        if len(self.variants) <= 1:
            return self.template.fingerprint if self.template else ""
        digest = hashlib.sha256()
        for one in sorted(self.variants, key=lambda v: v.variant.key):
            digest.update(f"{one.variant.key}={one.template.fingerprint}\n".encode())
        return digest.hexdigest()[:12]

    def templates(self) -> dict[str, MessageTemplate]:
        return {one.variant.key: one.template for one in self.variants}


def prepare_digest(
    site: SiteConfig,
    articles: list[Article],
    issue: date,
    now: datetime,
    selections: Mapping[str, int] | None = None,
) -> PreparedDigest:
    """Render the issue once per variant its readers' topics call for (`selections`: stored
    topics -> readers; None: the whole issue only)."""
    window = digest_window(site, issue)
    week = select_week(articles, window, now)
    if not week:
        return PreparedDigest(window, None, None)
    variants = []
    for variant in plan_variants(week, selections or {}):
        rendered = render_digest(site, list(variant.articles), issue, articles)
        variants.append(PreparedVariant(variant, rendered, build_message_template(site, rendered)))
    whole = variants[0]
    return PreparedDigest(window, whole.rendered, whole.template, tuple(variants))


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
    subject = subscription_subject(SAMPLE_RECIPIENT, 0)
    issue = rendered.issue.isoformat()
    reader = reader_name(signer, issue, SAMPLE_RECIPIENT, None)
    token = reader_token(signer, issue, reader, sample_moment(site, rendered)).decode("ascii")
    links = [link_url(site, signer, issue, target) + "?r=" + token for target in rendered.links]
    token = signer.sign("unsubscribe", subject)  # both links carry it (see Personaliser)
    values = {
        UNSUBSCRIBE_PLACEHOLDER: site.email.unsubscribe_url + token,
        PREFERENCES_PLACEHOLDER: site.service_url("preferences/") + token,
    }

    def filled(text: str) -> str:
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        return LINK_PLACEHOLDER.sub(lambda m: links[int(m[1])], text)

    return {"email.html": filled(rendered.html), "email.txt": filled(rendered.text)}


def sample_moment(site: SiteConfig, rendered: RenderedDigest) -> int:
    """When a preview's sample copy counts as made: the issue's send moment (not the clock)."""
    return int(send_moment(site, rendered.issue).timestamp())


def write_preview(
    site: SiteConfig,
    rendered: RenderedDigest,
    template: MessageTemplate,
    out: Path,
    signer: Signer,
) -> dict:
    """email.html, email.txt and preview.eml (for a sample recipient); returns name -> bytes."""
    files = sample_copy(site, rendered, signer)
    data = {name: text.encode("utf-8") for name, text in files.items()}
    data["preview.eml"] = personalised_message(
        site, template, signer, SAMPLE_RECIPIENT, sent_at=sample_moment(site, rendered)
    )
    out.mkdir(parents=True, exist_ok=True)
    for name, content in data.items():
        write_atomically(out / name, content)
    return {name: len(content) for name, content in data.items()}
