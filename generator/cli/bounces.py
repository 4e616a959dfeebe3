"""`press bounces ingest PATH`: apply bounce and complaint reports to the subscriber store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from generator.cli.subscribers import open_store
from generator.cli.support import project_root, reports_problems
from generator.clock import current_time
from generator.content.site_config import SiteConfig, load_site

if TYPE_CHECKING:
    from generator.subscribers.store import SubscriberStore


@click.group()
def bounces() -> None:
    """Bounces and complaints that arrive after a send."""


@bounces.command("ingest")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@reports_problems
def ingest(path: Path) -> None:
    """Read a Maildir, an mbox or .eml files; apply each bounce or complaint once."""
    from generator.delivery.feedback import classify, read_messages
    from generator.subscribers.feedback_store import apply_feedback

    site = load_site(project_root())
    store = open_store(site)
    verp = _verp_lookup(site, store) if site.email.verp else None
    tally = {"hard": 0, "soft": 0, "complaint": 0, "unclassified": 0, "seen before": 0}
    for source, raw in read_messages(path):
        incoming = classify(raw, source, verp)
        if not incoming.feedback:
            tally["unclassified"] += 1
            click.echo(f"{source}: not a bounce or complaint press can read; left for a person")
            continue
        items = [(f.kind, f.recipient, f.detail) for f in incoming.feedback]
        changes = apply_feedback(
            store, incoming.key, items, site.delivery.bounce_limit, current_time()
        )
        if changes is None:
            tally["seen before"] += 1
            click.echo(f"{source}: ingested before ({incoming.key}); nothing changed")
            continue
        for feedback in incoming.feedback:
            tally[feedback.kind] += 1
        for line in changes:
            click.echo(f"{source}: {line}")
    click.echo(", ".join(f"{count} {name}" for name, count in tally.items()))


def _verp_lookup(site: SiteConfig, store: SubscriberStore) -> Callable[[str], str | None]:
    """Bounce address → subscriber, for VERP bounces that do not name their reader."""
    from generator.delivery.envelope import Envelope
    from generator.tokens import Signer, TokenError

    try:
        envelope = Envelope(site, Signer.from_environment())
    except TokenError as exc:
        raise click.ClickException(f"{exc} (it checks the tags of VERP bounces)") from exc
    return lambda address: store.email_of(envelope.subscriber_of(address))
