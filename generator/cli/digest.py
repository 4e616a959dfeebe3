"""`press digest`: render a Saturday digest's preview files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from generator.cli.support import project_root, reports_problems
from generator.clock import current_time
from generator.content.site_config import SiteConfig


@click.command()
@click.option("--date", "issue", type=click.DateTime(["%Y-%m-%d"]), help="Digest day (YYYY-MM-DD).")
@click.option("--out", type=click.Path(path_type=Path), help="Default: dist/digest/<date>/.")
@reports_problems
def digest(issue: datetime | None, out: Path | None) -> None:
    """Render a Saturday digest: email.html, email.txt and preview.eml, for the whole issue
    and, in a folder each, for every variant the subscribers' topics call for."""
    from generator.content.loader import load_content
    from generator.digest.preview import prepare_digest, write_preview
    from generator.digest.schedule import next_issue_date, past_issues
    from generator.tokens import Signer

    now = current_time()
    site, articles = load_content(project_root())
    day = issue.date() if issue else next_issue_date(site, now)
    selections = reader_selections(site, now)
    try:
        prepared = prepare_digest(site, articles, day, now, selections)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--date") from exc
    window = prepared.window
    if prepared.rendered is None:
        click.echo(
            f"No digest for {day}: nothing was published between "
            f"{window.start:%d/%m/%Y %H:%M} and {window.end:%d/%m/%Y %H:%M %Z}."
        )
        latest = next(iter(past_issues(site, articles, now)), None)
        if latest is not None and latest != day:
            click.echo(
                f"The latest issue with articles was {latest:%d/%m/%Y}: "
                f"press digest --date {latest.isoformat()}"
            )
        return
    target = out or site.root / "dist" / "digest" / day.isoformat()
    signer = Signer.from_environment(allow_preview=True)
    click.echo(f"Digest for {day}: {prepared.rendered.subject}")
    click.echo(f"  fingerprint {prepared.fingerprint} (press send --expect checks it)")
    for one in prepared.variants:
        folder = target / f"variant-{one.variant.key}" if one.variant.key else target
        sizes = write_preview(site, one.rendered, one.template, folder, signer)
        readers = "recipients unknown" if selections is None else f"{one.variant.recipients:,}"
        named = "whole issue" if not one.variant.key else f"variant {one.variant.key}"
        click.echo(
            f"  {named}: {len(one.variant.articles)} article(s), {readers} recipient(s), "
            f"written to {folder}"
        )
        for name, size in sizes.items():
            click.echo(f"    {name:12} {size:>8,} bytes")


def reader_selections(site: SiteConfig, now: datetime) -> dict[str, int] | None:
    """Subscribers by chosen topics, for the variants and their recipient counts: {} when
    there is no subscriber database yet, None (whole issue only) when it cannot be read."""
    from generator.cli.subscribers import open_store
    from generator.subscribers.database import configured_database, no_database_yet

    if no_database_yet(configured_database(site.subscribers.database), site.root):
        return {}
    try:
        store = open_store(site)
    except click.ClickException as exc:
        click.echo(f"Showing the whole issue only: {exc.message}", err=True)
        return None
    try:
        return store.topic_selections(now)
    finally:
        store.close()
