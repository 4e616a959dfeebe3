"""`press report`: how an issue did after it was sent, and the issues before it."""

from __future__ import annotations

import json
from datetime import datetime

import click

from generator.cli.subscribers import open_store
from generator.cli.support import project_root, reports_problems
from generator.content.site_config import load_site


@click.command()
@click.option("--date", "issue", type=click.DateTime(["%Y-%m-%d"]), help="Digest day (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@reports_problems
def report(issue: datetime | None, as_json: bool) -> None:
    """Recipients, sent, failed, bounces, complaints, unsubscribes and clicks per issue."""
    from generator.delivery.report import issue_reports

    store = open_store(load_site(project_root()))
    reports = issue_reports(store.engine, issue.date().isoformat() if issue else None)
    if issue and (not reports or reports[0].issue != issue.date().isoformat()):
        raise click.ClickException(f"the {issue.date()} digest has not been sent")
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in reports], indent=2))
        return
    if not reports:
        click.echo("No digest has been sent yet.")
        return
    latest = reports[0]
    click.echo(f"Digest {latest.issue} (send started {latest.started_at})")
    for label, value in (
        ("recipients", latest.recipients),
        ("sent", latest.sent),
        ("failed", latest.failed),
        ("hard bounces", latest.hard_bounces),
        ("soft bounces", latest.soft_bounces),
        ("complaints", latest.complaints),
        ("unsubscribes since", latest.unsubscribes),
        ("readers who clicked", latest.clickers),
    ):
        click.echo(f"  {label:20}{value:>9,}")
    click.echo(f"  {'click-through rate':20}{latest.click_rate:>9.1%}")
    if latest.top_links:
        click.echo("  top links (readers, clicks):")
    for link in latest.top_links:
        click.echo(f"    {link.readers:>6,} {link.clicks:>6,}  {link.link}")
    click.echo("")
    click.echo(
        "issue        recipients      sent    failed  hard  soft  complaints  unsubscribes"
        "  clicked    CTR"
    )
    for r in reports:
        click.echo(
            f"{r.issue}  {r.recipients:>10,}  {r.sent:>8,}  {r.failed:>8,}  {r.hard_bounces:>4}"
            f"  {r.soft_bounces:>4}  {r.complaints:>10}  {r.unsubscribes:>12}"
            f"  {r.clickers:>7,}  {r.click_rate:>5.1%}"
        )
    for warning in latest.warnings():
        click.echo(f"warning: {warning}", err=True)
