"""The send policy of `press send`: which issue goes, whether it is due, whether it is the one
the editor approved, and the order of the steps (settings without network first, then the live
pages, then the mail server). `send_digest` runs them and raises a named error for each refusal;
the command line only parses arguments and prints. Lines for the terminal go through `say`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TextIO

from generator.content.articles import Article
from generator.content.site_config import SiteConfig
from generator.delivery.acceptance import recover_acceptances
from generator.delivery.envelope import Envelope
from generator.delivery.ledger import Ledger
from generator.delivery.live_check import issue_pages, missing_pages, redirect_problem
from generator.delivery.lock import SendInProgress, exclusive_send
from generator.delivery.outgoing import outgoing_transport
from generator.delivery.send import Mailing, SendPlan, SendReport, send_issue
from generator.delivery.transports import DeliveryError, TransportFactory
from generator.digest.click_links import link_url
from generator.digest.message import build_message_template, personalised_message
from generator.digest.preview import PreparedDigest, prepare_digest
from generator.digest.render import RenderedDigest, with_utm
from generator.digest.schedule import latest_issue_date, send_moment
from generator.digest.variants import WHOLE_ISSUE, Variant, variant_of_topics
from generator.errors import PressError
from generator.subscribers.store import SubscriberStore
from generator.tokens import Signer

# Without a date, a digest is sent only within this long after its send moment: a trigger that
# fires on the wrong day (or twice) must not mail last week's issue.
GRACE = timedelta(hours=24)

Say = Callable[[str], None]


class NotDue(PressError):
    """The issue's send moment has not come (a dry run or a test copy may go before it)."""


class WindowMissed(PressError):
    """Without a date, the last issue was due more than GRACE ago and not (fully) sent."""


class FingerprintMismatch(PressError):
    """The digest is not the one the editor approved (`--expect`)."""


class DigestChanged(PressError):
    """The issue's send started with another digest: an article changed since."""


class PagesNotLive(PressError):
    """Linked pages answer 404: the site was not published first."""

    def __init__(self, missing: list[str], message: str) -> None:
        super().__init__(message)
        self.missing = missing


class TestCopyFailed(PressError):
    """The relay refused the one [TEST] copy."""


@dataclass(frozen=True)
class SendRequest:
    issue: date | None = None  # None: the latest issue whose send moment has passed
    transport: str | None = None
    dry_run: bool = False
    test_address: str | None = None  # normalised by the caller
    expect: str | None = None
    verify_live: bool = True
    limit: int | None = None
    rate: float | None = None
    connections: int | None = None


@dataclass(frozen=True)
class SentIssue:
    day: date
    report: SendReport


@dataclass(frozen=True)
class Sending:
    """What `send_digest` needs besides the request: the store, the clock, the terminal."""

    open_store: Callable[[], SubscriberStore]
    clock: Callable[[], datetime]
    say: Say
    progress_to: TextIO


def send_digest(
    site: SiteConfig, articles: list[Article], request: SendRequest, sending: Sending
) -> SentIssue | None:
    """Runs the send the request asks for; what a real send did, None otherwise."""
    now = sending.clock()
    day = request.issue or latest_issue_date(site, now)
    due_at = send_moment(site, day)
    prepared = prepare_digest(site, articles, day, now)
    if request.issue is None and now - due_at > GRACE:
        _explain_missed_window(site, prepared, due_at, now, sending)
        return None
    if due_at > now and not (request.dry_run or request.test_address):
        raise NotDue(f"the {day} digest is not due until {due_at:%d/%m/%Y %H:%M %Z}")
    if prepared.rendered is None or prepared.template is None:
        sending.say(f"No digest for {day}: nothing was published that week.")
        return None
    if not request.test_address:  # readers' topics decide the variants (a test copy: whole)
        selections = sending.open_store().topic_selections(now)
        prepared = prepare_digest(site, articles, day, now, selections)
    fingerprint = prepared.fingerprint
    sending.say(f"Digest {day}: fingerprint {fingerprint}")
    for line in variant_lines(prepared):
        sending.say(line)
    if request.expect and request.expect != fingerprint:
        raise FingerprintMismatch(
            f"the {day} digest is {fingerprint}, not {request.expect}: it changed since the "
            "preview you approved; review it with press digest, then send with its fingerprint"
        )
    if request.dry_run:
        _dry_run(day, sending, sum(one.variant.recipients for one in prepared.variants))
        return None
    signer, factory = Signer.from_environment(), outgoing_transport(site, request.transport)
    _verify_live(prepared.rendered, request.verify_live, sending.say)
    if request.verify_live:
        _verify_redirect(site, signer, prepared.rendered, sending.say)
    if request.test_address:
        _send_test(site, prepared.rendered, signer, factory, request.test_address)
        sending.say(
            f"Sent one [TEST] copy of the {day} digest to {request.test_address}; ledger unchanged."
        )
        return None
    assert prepared.template is not None
    mailing = Mailing(
        site,
        prepared.template,
        signer,
        factory,
        site.delivery,
        sending.clock,
        variants=prepared.templates(),
        topics=variant_of_topics([one.variant for one in prepared.variants]),
    )
    return SentIssue(day, _send_everyone(mailing, prepared, request, sending))


def variant_lines(prepared: PreparedDigest) -> list[str]:
    """One line per variant when readers' topics split the issue; none when they do not."""
    if len(prepared.variants) <= 1:
        return []
    return [
        f"  {describe_variant(one.variant, len(prepared.variants[0].variant.articles))}: "
        f"{one.variant.recipients:,} recipient(s), fingerprint {one.template.fingerprint}"
        for one in prepared.variants
    ]


def describe_variant(variant: Variant, whole: int) -> str:
    if variant.key == WHOLE_ISSUE:
        return f"whole issue ({whole} article(s))"
    return f"variant {variant.key} ({len(variant.articles)} of {whole} article(s))"


def _verify_live(rendered: RenderedDigest, verify: bool, say: Say) -> None:
    """Refuse to mail links that answer 404: every linked page must be live first."""
    if not verify:
        say("Not checking that the linked pages are live (--no-verify-live).")
        return
    pages = issue_pages(rendered)
    missing = missing_pages(pages)
    if missing:
        raise PagesNotLive(
            missing,
            f"{len(missing)} page(s) of this digest are not live yet; nothing was sent. Publish "
            "the site first (press build and deploy), or pass --no-verify-live for a private "
            "site",
        )
    say(f"All {len(pages)} linked pages are live.")


def _verify_redirect(site: SiteConfig, signer: Signer, rendered: RenderedDigest, say: Say) -> None:
    """Counted links go through the service: it must redirect them before anyone gets one."""
    if not rendered.links:
        return
    path = rendered.links[0]
    url = link_url(site, signer, rendered.issue.isoformat(), path)
    problem = redirect_problem(url, with_utm(site.absolute(path), site, rendered.issue))
    if problem:
        raise PagesNotLive(
            [problem],
            "the subscription service does not redirect this digest's counted links; nothing "
            "was sent. Start or upgrade the service (press subscriptions serve), or set "
            "email.click_counts: false to link the articles directly",
        )
    say("The service redirects counted links.")


def _explain_missed_window(
    site: SiteConfig, prepared: PreparedDigest, due_at: datetime, now: datetime, sending: Sending
) -> None:
    """A run after the window sends nothing by itself, but must not hide a missed issue."""
    day = prepared.window.issue
    when = f"{due_at:%d/%m/%Y %H:%M %Z}"
    if prepared.rendered is None:
        sending.say(f"No digest is due: the last one ({day}, due {when}) had no articles.")
        return
    ledger = Ledger(sending.open_store().engine, day.isoformat())
    counts = ledger.counts()
    still_due = counts.get("queued", 0) + counts.get("retry", 0)
    if counts and not still_due:
        sent = counts.get("sent", 0)
        sending.say(f"No digest is due: the {day} digest went out ({sent:,} sent).")
        return
    hours = int((now - due_at).total_seconds() // 3600)
    state = f"{still_due:,} subscriber(s) still wait for it" if counts else "it was never sent"
    missed = (
        f"the {day} digest was due {when}, {hours} hours ago, and {state}. Runs without --date "
        f"send only within 24 hours of the send moment. To send it now: press send --date {day}"
    )
    if not counts and not ledger.earlier_issues_sent():
        sending.say(f"No digest is due ({missed}).")  # none has gone out yet: nothing missed
        return
    raise WindowMissed(missed)


def _send_everyone(
    mailing: Mailing, prepared: PreparedDigest, request: SendRequest, sending: Sending
) -> SendReport:
    day = prepared.window.issue
    ledger = Ledger(sending.open_store().engine, day.isoformat())
    connections = request.connections or mailing.site.delivery.connections
    plan = SendPlan(request.limit, request.rate, connections)
    with exclusive_send(ledger.engine, day.isoformat()):
        _bind_fingerprint(ledger, prepared, request.expect, sending.clock())
        return send_issue(mailing, ledger, plan, sending.progress_to)


def _bind_fingerprint(
    ledger: Ledger, prepared: PreparedDigest, expect: str | None, now: datetime
) -> None:
    """A resumed send must deliver what the first run started with, unless told otherwise.
    Each variant is bound on its own: a resumed run may add a variant (a reader chose new
    topics since), but one already started must not change."""
    fingerprint = prepared.fingerprint
    replace = expect == fingerprint
    variants = {one.variant.key: one.template.fingerprint for one in prepared.variants}
    changed = ledger.record_variants(variants, now, replace=replace)
    if not changed:
        ledger.record_fingerprint(fingerprint, now, replace=True)
    if changed:
        key, stored = sorted(changed.items())[0]
        which = "" if key == WHOLE_ISSUE else f" (variant {key})"
        raise DigestChanged(
            f"this issue's send started with digest {stored} and the digest is now "
            f"{variants[key]}{which} (an article changed). Review it with press digest; to send "
            f"the new version to everyone not yet sent: press send --expect {fingerprint}"
        )


def _dry_run(day: date, sending: Sending, recipients: int) -> None:
    """`recipients`: who the variants reach (active, not paused, something in their topics)."""
    store = sending.open_store()
    ledger = Ledger(store.engine, day.isoformat())
    try:
        with exclusive_send(store.engine, day.isoformat()):
            recover_acceptances(ledger)  # an interrupted send's journal counts as sent
    except SendInProgress:
        sending.say(f"A send of the {day} digest is running: these figures may lag behind it.")
    active = store.count_by_status()["active"]
    sent = ledger.counts().get("sent", 0)
    resting = max(active - recipients, 0)
    sending.say(
        f"Dry run for {day}: {active:,} active subscriber(s), {resting:,} of them paused or "
        f"with nothing in their topics this week, {sent:,} already sent; at most "
        f"{max(recipients - sent, 0):,} would be sent. Nothing was sent."
    )


def _send_test(
    site: SiteConfig,
    rendered: RenderedDigest,
    signer: Signer,
    factory: TransportFactory,
    to: str,
) -> None:
    marked = dataclasses.replace(rendered, subject="[TEST] " + rendered.subject)
    template = build_message_template(site, marked)
    template = dataclasses.replace(template, issue=template.issue + "-test")
    sender = factory()
    try:
        envelope = Envelope(site, signer).plain
        sender.send(envelope, to, personalised_message(site, template, signer, to))
    except DeliveryError as exc:
        raise TestCopyFailed(f"test message to {to} failed: {exc}") from exc
    finally:
        sender.close()
