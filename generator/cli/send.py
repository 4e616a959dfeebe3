"""`press send`: deliver the Saturday digest to every active subscriber (see delivery.py)."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from generator.cli.subscribers import open_store
from generator.cli.support import project_root, reports_problems
from generator.clock import current_time
from generator.content.site_config import SiteConfig

if TYPE_CHECKING:
    from generator.delivery.ledger import Ledger
    from generator.delivery.send import Mailing
    from generator.delivery.transports import TransportFactory
    from generator.digest.preview import PreparedDigest
    from generator.digest.render import RenderedDigest
    from generator.tokens import Signer

# Without --date, a digest is sent only within this long after its send moment: a trigger that
# fires on the wrong day (or twice) must not mail last week's issue.
GRACE = timedelta(hours=24)


@dataclass(frozen=True)
class SendOptions:
    transport: str | None
    dry_run: bool
    limit: int | None
    rate: float | None
    connections: int | None
    expect: str | None


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
    from generator.delivery.send import Mailing
    from generator.digest.preview import prepare_digest
    from generator.digest.schedule import latest_issue_date, send_moment

    options = SendOptions(**settings)
    now = current_time()
    site, articles = load_content(project_root())
    day = issue.date() if issue else latest_issue_date(site, now)
    due_at = send_moment(site, day)
    try:
        prepared = prepare_digest(site, articles, day, now)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--date") from exc
    if not issue and now - due_at > GRACE:
        _explain_missed_window(site, prepared, due_at, now)
        return
    if due_at > now and not (options.dry_run or test_address):
        raise click.ClickException(f"the {day} digest is not due until {due_at:%d/%m/%Y %H:%M %Z}")
    if prepared.rendered is None or prepared.template is None:
        click.echo(f"No digest for {day}: nothing was published that week.")
        return
    fingerprint = prepared.template.fingerprint
    click.echo(f"Digest {day}: fingerprint {fingerprint}")
    if options.expect and options.expect != fingerprint:
        raise click.ClickException(
            f"the {day} digest is {fingerprint}, not {options.expect}: it changed since the "
            "preview you approved; review it with press digest, then send with its fingerprint"
        )
    if options.dry_run:
        _dry_run(site, day)
        return
    # Settings first (no network), then the live pages, then the mail server.
    signer, factory = _signer_and_transport(site, options.transport)
    _verify_live(prepared.rendered, skip=no_verify_live)
    if test_address:
        _send_test(site, prepared.rendered, signer, factory, test_address)
        return
    mailing = Mailing(site, prepared.template, signer, factory, site.delivery, current_time)
    _send_everyone(mailing, day, options)


def _verify_live(rendered: RenderedDigest, skip: bool) -> None:
    """Refuse to mail links that answer 404: every linked page must be live first."""
    from generator.delivery.live_check import issue_pages, missing_pages

    if skip:
        click.echo("Not checking that the linked pages are live (--no-verify-live).")
        return
    missing = missing_pages(issue_pages(rendered))
    if missing:
        for line in missing:
            click.echo(f"  not live: {line}", err=True)
        raise click.ClickException(
            f"{len(missing)} page(s) of this digest are not live yet; nothing was sent. Publish "
            "the site first (press build and deploy), or pass --no-verify-live for a private site"
        )
    click.echo(f"All {len(issue_pages(rendered))} linked pages are live.")


def _explain_missed_window(
    site: SiteConfig, prepared: PreparedDigest, due_at: datetime, now: datetime
) -> None:
    """A run after the 24-hour window sends nothing by itself, but must not hide a missed issue."""
    day = prepared.window.issue
    when = f"{due_at:%d/%m/%Y %H:%M %Z}"
    if prepared.rendered is None:
        click.echo(f"No digest is due: the last one ({day}, due {when}) had no articles.")
        return
    from generator.delivery.ledger import Ledger

    ledger = Ledger(open_store(site).engine, day.isoformat())
    counts = ledger.counts()
    still_due = counts.get("queued", 0) + counts.get("retry", 0)
    if counts and not still_due:
        click.echo(f"No digest is due: the {day} digest went out ({counts.get('sent', 0):,} sent).")
        return
    hours = int((now - due_at).total_seconds() // 3600)
    state = f"{still_due:,} subscriber(s) still wait for it" if counts else "it was never sent"
    missed = (
        f"the {day} digest was due {when}, {hours} hours ago, and {state}. Runs without --date "
        f"send only within 24 hours of the send moment. To send it now: press send --date {day}"
    )
    if not counts and not ledger.earlier_issues_sent():
        click.echo(f"No digest is due ({missed}).")  # no digest has gone out yet: nothing missed
        return
    raise click.ClickException(missed)


def _send_everyone(mailing: Mailing, day: date, options: SendOptions) -> None:
    from generator.delivery.ledger import Ledger
    from generator.delivery.lock import SendInProgress, exclusive_send
    from generator.delivery.send import SendCrashed, SendPlan, send_issue

    site, template = mailing.site, mailing.template
    store = open_store(site)
    ledger = Ledger(store.engine, day.isoformat())
    connections = options.connections or site.delivery.connections
    plan = SendPlan(options.limit, options.rate, connections)
    try:
        with exclusive_send(store.engine, day.isoformat()):
            _bind_fingerprint(ledger, template.fingerprint, options.expect)
            report = send_issue(mailing, ledger, plan, sys.stderr)
    except SendInProgress as exc:
        raise click.ClickException(str(exc)) from exc
    except SendCrashed as exc:
        raise click.ClickException(f"{exc}; run press send again to resume") from exc
    click.echo(
        f"Digest {day}: sent {report.sent:,}, failed {report.failed:,}, skipped {report.skipped:,}"
        f" (sent by earlier runs: {report.already_sent:,}; marked bounced: {report.bounced})"
    )
    if report.paused:
        click.echo(f"Stopped: {report.paused}. Run press send again to resume.", err=True)
    if not report.ok:
        sys.exit(1)


def _bind_fingerprint(ledger: Ledger, fingerprint: str, expect: str | None) -> None:
    """A resumed send must deliver what the first run started with, unless told otherwise."""
    stored = ledger.record_fingerprint(fingerprint, current_time(), replace=expect == fingerprint)
    if stored != fingerprint:
        raise click.ClickException(
            f"this issue's send started with digest {stored} and the digest is now {fingerprint}"
            " (an article changed). Review it with press digest; to send the new version to "
            f"everyone not yet sent: press send --expect {fingerprint}"
        )


def _dry_run(site: SiteConfig, day: date) -> None:
    from generator.delivery.acceptance import recover_acceptances
    from generator.delivery.ledger import Ledger
    from generator.delivery.lock import SendInProgress, exclusive_send

    store = open_store(site)
    ledger = Ledger(store.engine, day.isoformat())

    try:
        with exclusive_send(store.engine, day.isoformat()):
            recover_acceptances(ledger)  # an interrupted send's journal counts as sent
    except SendInProgress:
        click.echo(f"A send of the {day} digest is running: these figures may lag behind it.")
    active = store.count_by_status()["active"]
    sent = ledger.counts().get("sent", 0)
    click.echo(
        f"Dry run for {day}: {active:,} active subscriber(s), {sent:,} already sent; "
        f"at most {max(active - sent, 0):,} would be sent. Nothing was sent."
    )


def _signer_and_transport(
    site: SiteConfig, transport: str | None
) -> tuple[Signer, TransportFactory]:
    from generator.delivery.dkim import DkimKeyError
    from generator.delivery.outgoing import outgoing_transport
    from generator.delivery.transports import TransportConfigError
    from generator.tokens import Signer, TokenError

    try:
        factory = outgoing_transport(site, transport)
        return Signer.from_environment(), factory
    except (TokenError, TransportConfigError, DkimKeyError) as exc:
        raise click.ClickException(str(exc)) from exc


def _send_test(
    site: SiteConfig,
    rendered: RenderedDigest,
    signer: Signer,
    factory: TransportFactory,
    address: str,
) -> None:
    from generator.cli.subscribers import checked_address
    from generator.delivery.envelope import Envelope
    from generator.delivery.transports import DeliveryError
    from generator.digest.message import build_message_template, personalised_message

    to = checked_address(address, "--test")
    marked = dataclasses.replace(rendered, subject="[TEST] " + rendered.subject)
    template = build_message_template(site, marked)
    template = dataclasses.replace(template, issue=template.issue + "-test")
    sender = factory()
    try:
        envelope = Envelope(site, signer).plain
        sender.send(envelope, to, personalised_message(site, template, signer, to))
    except DeliveryError as exc:
        raise click.ClickException(f"test message to {to} failed: {exc}") from exc
    finally:
        sender.close()
    click.echo(f"Sent one [TEST] copy of the {rendered.issue} digest to {to}; ledger unchanged.")
