"""GET|HEAD /r/{issue}/{mac}/{path}: count a reader's click on an article link, then 302 to it.

Only a link press signed for that issue redirects, and only to the site's own page (the target
is the site URL plus the signed path): anything else is 404, so this is never an open redirect.
A HEAD request, a link without its reader part, and a fetch within SCANNER_SECONDS of the
message being made (mail security scanners open every link on arrival) redirect uncounted.
"""

from __future__ import annotations

from datetime import date

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from generator.digest.click_links import link_genuine, read_reader
from generator.digest.render import with_utm
from generator.service.handlers import Service
from generator.service.logs import log_event
from generator.service.requests import RequestRefused
from generator.service.responses import Answer
from generator.subscribers.click_counts import record_click
from generator.tokens import TokenError

SCANNER_SECONDS = 60
NOT_HERE = "There is no such link here."


async def follow_link(service: Service, request: Request) -> Answer:
    issue = request.path_params["issue"]
    mac, path = request.path_params["mac"], request.path_params["path"]
    day = issue_day(issue)
    if day is None or not link_genuine(service.signer, issue, mac, path):
        raise RequestRefused(404, NOT_HERE)
    target = with_utm(service.site.absolute(path), service.site, day)
    token = request.query_params.get("r")
    if token is None:
        return Answer(302, "", "", redirect=target)
    try:
        reader = read_reader(service.signer, issue, token)
    except TokenError as exc:
        raise RequestRefused(404, NOT_HERE) from exc
    now = service.clock()
    if request.method == "HEAD" or now.timestamp() - reader.sent_at < SCANNER_SECONDS:
        log_event("click_not_counted", path=path, method=request.method)
        return Answer(302, "", "", redirect=target)
    await run_in_threadpool(record_click, service.store, issue, path, reader.name, now)
    return Answer(302, "", "", redirect=target)


def issue_day(issue: str) -> date | None:
    try:
        return date.fromisoformat(issue) if len(issue) == 10 else None
    except ValueError:
        return None
