"""The service's endpoints. Each reads its request, changes the store, and returns an Answer;
refusals are raised as RequestRefused and turned into answers by the app's error handler.

POST /subscribe                 start double opt-in (form or JSON); same answer for any address
GET  /confirm/{token}           activate a pending subscriber
GET  /unsubscribe/{token}       a page with an Unsubscribe button; changes nothing
POST /unsubscribe/{token}       unsubscribe now (also the RFC 8058 one-click POST)

The preferences page is preferences.py's, the counted redirect clicks.py's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from generator.content.site_config import SiteConfig
from generator.content.topics import UnknownTopic, checked_topics
from generator.delivery.transports import TransportFactory
from generator.rate_limit import RateLimiter
from generator.service.requests import (
    RequestRefused,
    client_address,
    parse_field_lists,
    read_body,
)
from generator.service.responses import Answer
from generator.service.webhooks import (
    IGNORED,
    Event,
    Fetch,
    WebhookRefused,
    configured,
    fetch_https,
    mailgun_events,
    postmark_events,
    sendgrid_events,
    ses_events,
)
from generator.subscribers.addresses import InvalidAddress, normalise_address
from generator.subscribers.feedback_store import apply_feedback, claim_signature
from generator.subscribers.store import SubscriberStore
from generator.tokens import ExpiredToken, Signer, TokenError, parse_subscription_subject

HONEYPOT = "website"
CHECK_INBOX = (
    "Check your inbox: if this address can subscribe, we have sent it a link to confirm. "
    "Nothing is sent to you until you click it."
)


@dataclass
class Service:
    site: SiteConfig
    store: SubscriberStore
    signer: Signer
    transport: TransportFactory
    clock: Callable[[], datetime]
    limiter: RateLimiter
    fetch: Fetch = fetch_https  # SNS certificates and subscription confirmations
    retry_delay: float = 30.0  # seconds before a failed email is tried again; doubles each time
    mail_ready: threading.Event = field(default_factory=threading.Event)  # wakes the mail worker


async def subscribe(service: Service, request: Request) -> Answer:
    check_rate(service, request)
    lists = parse_field_lists(request, await read_body(request))
    fields = {name: values[-1] for name, values in lists.items()}
    if fields.get(HONEYPOT):
        return Answer(200, "Check your inbox", CHECK_INBOX)
    try:
        email = normalise_address(fields.get("email", ""))
    except InvalidAddress as exc:
        raise RequestRefused(400, f"That is not an email address we can send to: {exc}") from exc
    topics = form_topics(service, lists)
    source = "form:" + fields.get("source", "")[:190]
    await run_in_threadpool(start_opt_in, service, email, source, topics)
    return Answer(200, "Check your inbox", CHECK_INBOX)


async def confirm(service: Service, request: Request) -> Answer:
    now = service.clock()
    email = verified(service, "confirm", request, now)
    if not await run_in_threadpool(service.store.confirm, email, now):
        raise RequestRefused(409, "This link cannot be used any more. Please subscribe again.")
    await run_in_threadpool(send_welcome, service, email)
    message = f"{email} will receive {service.site.name} {service.site.digest.cadence}."
    return Answer(200, "You are subscribed", message, data={"status": "active"})


async def unsubscribe_page(service: Service, request: Request) -> Answer:
    email, _ = parse_subscription_subject(
        verified(service, "unsubscribe", request, service.clock())
    )
    message = f"Stop sending {service.site.name} to {email}?"
    return Answer(
        200,
        "Unsubscribe",
        message,
        data={"status": "unchanged"},
        action=request.url.path,
        action_label="Unsubscribe",
    )


async def unsubscribe(service: Service, request: Request) -> Answer:
    await read_body(request)  # "List-Unsubscribe=One-Click" or an empty form: both mean yes
    now = service.clock()
    # An older subscription's link answers the same and changes nothing (see store.unsubscribe).
    email, generation = parse_subscription_subject(verified(service, "unsubscribe", request, now))
    await run_in_threadpool(service.store.unsubscribe, email, now, generation)
    message = f"{email} will not receive {service.site.name} any more."
    return Answer(200, "You are unsubscribed", message, data={"status": "unsubscribed"})


WEBHOOK_BODY = 1 << 20  # bytes: relays send events in batches
_PARSERS = {"postmark": postmark_events, "mailgun": mailgun_events, "sendgrid": sendgrid_events}


async def webhook(service: Service, request: Request) -> Answer:
    """POST /webhooks/{relay}: bounce, complaint and unsubscribe events, verified first."""
    relay = request.path_params["relay"]
    if relay not in configured():
        raise RequestRefused(404, "There is no such webhook here.")
    body = await read_body(request, WEBHOOK_BODY)
    headers = {name.lower(): value for name, value in request.headers.items()}
    now = service.clock()
    try:
        if relay == "ses":  # may fetch the signing certificate: not on the event loop
            events = await run_in_threadpool(ses_events, headers, body, now, service.fetch)
        else:
            events = _PARSERS[relay](headers, body, now)
    except WebhookRefused as exc:
        raise RequestRefused(exc.status, str(exc)) from exc
    if not await run_in_threadpool(signatures_unused, service, events, now):
        raise RequestRefused(409, "This signature was already used for another event.")
    applied = await run_in_threadpool(apply_events, service, events, now)
    return Answer(200, "Received", f"{applied} event(s) applied", data={"applied": applied})


def signatures_unused(service: Service, events: list[Event], now: datetime) -> bool:
    claims = {(event.once, event.key) for event in events if event.once}
    return all(claim_signature(service.store, *claim, now) for claim in sorted(claims))


def apply_events(service: Service, events: list[Event], now: datetime) -> int:
    """The same store transitions as `press bounces ingest`; an event seen before counts once."""
    limit = service.site.delivery.bounce_limit
    applied = 0
    for event in events:
        if event.kind == IGNORED:
            continue
        item = [(event.kind, event.email, event.detail)]
        applied += apply_feedback(service.store, event.key, item, limit, now) is not None
    return applied


def form_topics(service: Service, fields: dict[str, list[str]]) -> tuple[str, ...]:
    """The topics ticked on a form (none offered: every topic)."""
    names = fields.get("topics", [])
    if fields.get("topics_offered") and not names:
        raise RequestRefused(400, "Choose at least one topic.")
    try:
        return checked_topics(names, service.site.categories)
    except UnknownTopic as exc:
        raise RequestRefused(400, str(exc)) from exc


def start_opt_in(service: Service, email: str, source: str, topics: tuple[str, ...] = ()) -> None:
    """Store the request and queue the confirmation in one transaction; the mail worker sends
    it. The request does the same work whether or not the address is known, and never waits
    for a mail server."""
    if service.store.request_subscription(email, source, service.clock(), topics):
        service.mail_ready.set()


def send_welcome(service: Service, email: str) -> None:
    """Queue the welcome, once per subscriber ever (a second click or a return queues none)."""
    if service.store.claim_welcome(email, service.clock()):
        service.mail_ready.set()


def verified(service: Service, purpose: str, request: Request, now: datetime) -> str:
    token = request.path_params["token"]
    try:
        return service.signer.verify(purpose, token, int(now.timestamp()))
    except ExpiredToken as exc:
        raise RequestRefused(410, "This link has expired. Please subscribe again.") from exc
    except TokenError as exc:
        raise RequestRefused(400, "This link is not valid. Please copy the whole link.") from exc


def check_rate(service: Service, request: Request) -> None:
    wait = service.limiter.retry_after(client_address(request))
    if wait:
        seconds = str(int(wait) + 1)
        message = f"Too many requests from your network. Please try again in {seconds} seconds."
        raise RequestRefused(429, message, {"Retry-After": seconds})
