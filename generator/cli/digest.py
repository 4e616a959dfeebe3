"""`press digest`: render a Saturday digest's preview files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from generator.cli.support import project_root, reports_problems
from generator.clock import current_time


@click.command()
@click.option("--date", "issue", type=click.DateTime(["%Y-%m-%d"]), help="Digest day (YYYY-MM-DD).")
@click.option("--out", type=click.Path(path_type=Path), help="Default: dist/digest/<date>/.")
@reports_problems
def digest(issue: datetime | None, out: Path | None) -> None:
    """Render a Saturday digest: email.html, email.txt and preview.eml."""
    from generator.content.loader import load_content
    from generator.digest.preview import prepare_digest, write_preview
    from generator.digest.schedule import next_issue_date, past_issues
    from generator.tokens import Signer

    now = current_time()
    site, articles = load_content(project_root())
    day = issue.date() if issue else next_issue_date(site, now)
    try:
        prepared = prepare_digest(site, articles, day, now)
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
    sizes = write_preview(site, prepared, target, Signer.from_environment(allow_preview=True))
    click.echo(f"Digest for {day}: {prepared.rendered.subject}")
    click.echo(f"  {len(prepared.rendered.articles)} article(s), written to {target}")
    click.echo(f"  fingerprint {prepared.template.fingerprint} (press send --expect checks it)")
    for name, size in sizes.items():
        click.echo(f"  {name:12} {size:>8,} bytes")
