"""`press send`: deliver the Saturday digest to every active subscriber. The policy (which
issue, due or not, approved or not, the order of the steps) is delivery/policy.py's; this
parses the arguments, calls it and prints."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import click

from generator.cli.subscribers import checked_address, open_store
from generator.cli.support import project_root, reports_problems
from generator.clock import current_time


@click.command()
@click.option("--date", "issue", type=click.DateTime(["%Y-%m-%d"]), help="Digest day (YYYY-MM-DD).")
@click.option("--transport", help="Override email.transport, e.g. smtp://user@host:587.")
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send and record nothing.")
@click.option("--limit", type=click.IntRange(min=1), help="Try at most N subscribers this run.")
@click.option("--rate", type=click.FloatRange(min=0.01), help="At most N messages per second.")
@click.option("--connections", type=click.IntRange(1, 64), help="SMTP connections in parallel.")
@click.option("--test", "test_address", metavar="ADDRESS", help="Send one [TEST] copy only.")
@click.option("--expect", metavar="FINGERPRINT", help="Send only the digest `press digest` showed.")
@click.option(
    "--no-verify-live", is_flag=True, help="Skip checking that every linked page is live."
)
@reports_problems
def send(
    issue: datetime | None,
    test_address: str | None,
    no_verify_live: bool,
    **settings: Any,
) -> None:
    """Send the Saturday digest to every active subscriber, exactly once."""
    from generator.content.loader import load_content
    from generator.delivery.policy import PagesNotLive, Sending, SendRequest, send_digest
    from generator.digest.schedule import NotADigestDay

    request = SendRequest(
        issue=issue.date() if issue else None,
        test_address=checked_address(test_address, "--test") if test_address else None,
        verify_live=not no_verify_live,
        **settings,
    )
    site, articles = load_content(project_root())
    sending = Sending(lambda: open_store(site), current_time, click.echo, sys.stderr)
    try:
        sent = send_digest(site, articles, request, sending)
    except NotADigestDay as exc:
        raise click.BadParameter(str(exc), param_hint="--date") from exc
    except PagesNotLive as exc:
        for line in exc.missing:
            click.echo(f"  not live: {line}", err=True)
        raise
    if sent is None:
        return
    report = sent.report
    click.echo(
        f"Digest {sent.day}: sent {report.sent:,}, failed {report.failed:,}, "
        f"skipped {report.skipped:,} (sent by earlier runs: {report.already_sent:,}; "
        f"marked bounced: {report.bounced})"
    )
    if report.paused:
        click.echo(f"Stopped: {report.paused}. Run press send again to resume.", err=True)
    if not report.ok:
        sys.exit(1)
