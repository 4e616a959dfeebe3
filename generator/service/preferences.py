"""The preferences page: a reader's address, topics and pause, from the signed link in every
email. No login: the link is the key, the same token as the unsubscribe link (the page can do
no more than unsubscribe), naming the subscription (an older subscription's link changes
nothing).

GET  /preferences/{token}   the page (the same whatever the address's state: no enumeration)
POST /preferences/{token}   save topics and a pause; the same answer whatever happened
"""

from __future__ import annotations

from datetime import datetime, timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from generator.service.handlers import Service, form_topics, verified
from generator.service.requests import RequestRefused, parse_field_lists, read_body
from generator.service.responses import NOT_STORED, Answer
from generator.subscribers.store import Subscriber, generation_of
from generator.tokens import parse_subscription_subject, subscription_subject

PAUSES = (1, 2, 4, 8, 12)  # weeks offered on the page
PAUSE_LIMIT = 52


async def preferences_page(service: Service, request: Request) -> Answer:
    now = service.clock()
    email, generation = subscription_of(service, request, now)
    found = await run_in_threadpool(service.store.get, email)
    shown = current(found, generation)
    return page(service, request, (email, generation), shown, now, "")


async def save_preferences(service: Service, request: Request) -> Answer:
    now = service.clock()
    email, generation = subscription_of(service, request, now)
    fields = parse_field_lists(request, await read_body(request))
    topics = form_topics(service, fields)
    weeks = pause_weeks(fields)
    if weeks is None:  # "stay paused": as it is
        before = current(await run_in_threadpool(service.store.get, email), generation)
        until = before.paused_until if before else None
    else:
        until = now + timedelta(weeks=weeks) if weeks else None
    await run_in_threadpool(service.store.set_preferences, email, generation, topics, until, now)
    found = await run_in_threadpool(service.store.get, email)
    shown = current(found, generation)
    notice = "Your preferences are saved."
    return page(service, request, (email, generation), shown, now, notice)


def subscription_of(service: Service, request: Request, now: datetime) -> tuple[str, int]:
    # The link carries the subscription's unsubscribe token: the page can do nothing more.
    email, generation = parse_subscription_subject(verified(service, "unsubscribe", request, now))
    if generation is None:  # every preferences link names its subscription
        raise RequestRefused(400, "This link is not valid. Please copy the whole link.")
    return email, generation


def current(found: Subscriber | None, generation: int) -> Subscriber | None:
    """The subscription the link names, if it is still one that receives the digest."""
    if found is None or found.status not in ("pending", "active"):
        return None
    return found if generation_of(found.confirmed_at) == generation else None


def pause_weeks(fields: dict[str, list[str]]) -> int | None:
    """Weeks to pause from now; None keeps the pause as it is."""
    text = (fields.get("pause") or ["0"])[-1].strip() or "0"
    if text == "keep":
        return None
    if not text.isdigit() or int(text) > PAUSE_LIMIT:
        raise RequestRefused(400, f"A pause is 0 to {PAUSE_LIMIT} weeks.")
    return int(text)


def page(
    service: Service,
    request: Request,
    subscription: tuple[str, int],
    shown: Subscriber | None,
    now: datetime,
    notice: str,
) -> Answer:
    """The same page for any state: a subscription that ended shows the defaults."""
    site = service.site
    email, generation = subscription
    followed = shown.topics if shown and shown.topics else site.categories
    paused = shown.paused_until if shown else None
    paused = paused if paused and paused > now else None
    unsubscribe = site.email.unsubscribe_url + service.signer.sign(
        "unsubscribe", subscription_subject(email, generation)
    )
    until = f"{paused.astimezone(site.timezone):%d/%m/%Y}" if paused else ""
    return Answer(
        200,
        "Your preferences",
        notice or f"What {site.name} sends to {email}.",
        data={
            "email": email,
            "topics": list(followed),
            "paused_until": paused.isoformat() if paused else None,
        },
        headers=NOT_STORED,
        template="preferences.html.j2",
        context={
            "email": email,
            "notice": notice,
            "categories": site.categories,
            "followed": set(followed),
            "paused_until": until,
            "pauses": PAUSES,
            "form_action": request.url.path,
            "unsubscribe_action": unsubscribe,
        },
    )
