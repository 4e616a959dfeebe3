"""`press doctor`: are the DNS records in place for receivers to trust the mail press sends?"""

from __future__ import annotations

import click

from generator.cli.support import project_root, reports_problems
from generator.content.site_config import load_site

MARKS = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}


@click.command()
@click.option("--dns", "nameserver", help="Ask this DNS server (HOST or HOST:PORT).")
@click.option("--relay", help="The host that hands mail to receivers (default: the SMTP host).")
@click.option("--relay-signs", is_flag=True, help="Your relay adds DKIM: skip press's key check.")
@reports_problems
def doctor(nameserver: str | None, relay: str | None, relay_signs: bool) -> None:
    """Check SPF, DKIM, DMARC and MX for the From and envelope domains; exit 1 if a bulk
    sender's requirement fails."""
    from generator.deliverability.doctor import run_checks
    from generator.deliverability.lookups import DnsUnavailable, Lookups

    site = load_site(project_root())
    try:
        checks = run_checks(site, Lookups.using(nameserver), relay or "", relay_signs)
    except DnsUnavailable as exc:
        raise click.ClickException(f"{exc} (nothing was checked; try --dns HOST)") from exc
    for check in checks:
        click.echo(f"{MARKS[check.status]}  {check.subject}: {check.finding}")
        if check.publish:
            click.echo(f"      publish: {check.publish}")
    failed = sum(check.status == "fail" for check in checks)
    if failed:
        click.echo(f"{failed} requirement(s) of bulk senders not met: mail may go to spam.")
        raise SystemExit(1)
    click.echo("Receivers will find what they look for.")
