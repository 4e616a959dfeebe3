"""The subscription service behind the subscribe box and the unsubscribe links (Starlette).

POST /subscribe                 start double opt-in (form or JSON); same answer for any address
GET  /confirm/{token}           activate a pending subscriber
GET  /unsubscribe/{token}       a page with an Unsubscribe button; changes nothing
POST /unsubscribe/{token}       unsubscribe now (also the RFC 8058 one-click POST)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from generator.addresses import InvalidAddress, normalise_address
from generator.config import SiteConfig
from generator.confirmation import confirmation_message, confirmation_url
from generator.rate_limit import RateLimiter
from generator.subscribers import SubscriberStore
from generator.tokens import Signer, TokenError
from generator.transports import DeliveryError, TransportFactory

MAX_BODY = 2048  # bytes: an address, a source and a honeypot fit many times over
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


class BadRequest(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def create_app(service: Service) -> Starlette:
    pages = _page_environment(service.site)

    def answer(request: Request, status: int, title: str, message: str, **extra: Any) -> Response:
        if _wants_json(request):
            body = {"ok": status < 400, "message": message, **extra.get("data", {})}
            return JSONResponse(body, status_code=status, headers=extra.get("headers"))
        html = pages.get_template("page.html.j2").render(
            site=service.site,
            title=title,
            message=message,
            action=extra.get("action"),
            action_label=extra.get("action_label", ""),
        )
        return HTMLResponse(html, status_code=status, headers=extra.get("headers"))

    def guarded(handler: Callable[..., Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request, answer)
            except BadRequest as exc:
                title = "Too many requests" if exc.status == 429 else "That did not work"
                return answer(request, exc.status, title, exc.message, headers=exc.headers)

        return endpoint

    async def subscribe(request: Request, answer: Callable[..., Response]) -> Response:
        _check_rate(service, request)
        fields = _parse_fields(request, await _read_body(request))
        if fields.get(HONEYPOT):
            return answer(request, 200, "Check your inbox", CHECK_INBOX)
        try:
            email = normalise_address(fields.get("email", ""))
        except InvalidAddress as exc:
            raise BadRequest(400, f"That is not an email address we can send to: {exc}") from exc
        source = "form:" + fields.get("source", "")[:190]
        await run_in_threadpool(_start_opt_in, service, email, source)
        return answer(request, 200, "Check your inbox", CHECK_INBOX)

    async def confirm(request: Request, answer: Callable[..., Response]) -> Response:
        now = service.clock()
        email = _verified(service, "confirm", request, now)
        if not await run_in_threadpool(service.store.confirm, email, now):
            raise BadRequest(409, "This link cannot be used any more. Please subscribe again.")
        message = f"{email} will receive {service.site.name} every Saturday morning."
        return answer(request, 200, "You are subscribed", message, data={"status": "active"})

    async def unsubscribe_page(request: Request, answer: Callable[..., Response]) -> Response:
        email = _verified(service, "unsubscribe", request, service.clock())
        message = f"Stop sending {service.site.name} to {email}?"
        return answer(
            request, 200, "Unsubscribe", message,
            action=request.url.path, action_label="Unsubscribe",
            data={"status": "unchanged"},
        )  # fmt: skip

    async def unsubscribe(request: Request, answer: Callable[..., Response]) -> Response:
        await _read_body(request)  # "List-Unsubscribe=One-Click" or an empty form: both mean yes
        now = service.clock()
        email = _verified(service, "unsubscribe", request, now)
        await run_in_threadpool(service.store.unsubscribe, email, now)
        message = f"{email} will not receive {service.site.name} any more."
        return answer(
            request, 200, "You are unsubscribed", message, data={"status": "unsubscribed"}
        )

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    routes = [
        Route("/subscribe", guarded(subscribe), methods=["POST"]),
        Route("/confirm/{token}", guarded(confirm), methods=["GET"]),
        Route("/unsubscribe/{token}", guarded(unsubscribe_page), methods=["GET"]),
        Route("/unsubscribe/{token}", guarded(unsubscribe), methods=["POST"]),
        Route("/healthz", health, methods=["GET"]),
    ]
    cors = Middleware(
        CORSMiddleware,
        allow_origins=[site_origin(service.site.url)],
        allow_methods=["POST"],
        allow_headers=["Content-Type", "Accept"],
    )
    return Starlette(routes=routes, middleware=[cors])


def site_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _start_opt_in(service: Service, email: str, source: str) -> None:
    now = service.clock()
    if not service.store.request_subscription(email, source, now):
        return  # active already, or a confirmation went out minutes ago
    url = confirmation_url(service.site, service.signer, email, now)
    message = confirmation_message(service.site, email, url, now)
    transport = service.transport()
    try:
        transport.send(service.site.email.from_address, email, message)
    except DeliveryError as exc:
        service.store.forget_confirmation_sent(email)
        raise BadRequest(
            503, "We could not send the confirmation email. Please try again later."
        ) from exc
    finally:
        transport.close()


def _verified(service: Service, purpose: str, request: Request, now: datetime) -> str:
    try:
        return service.signer.verify(purpose, request.path_params["token"], int(now.timestamp()))
    except TokenError as exc:
        if "expired" in str(exc):
            raise BadRequest(410, "This link has expired. Please subscribe again.") from exc
        raise BadRequest(400, "This link is not valid. Please copy the whole link.") from exc


def _check_rate(service: Service, request: Request) -> None:
    client = request.client.host if request.client else "unknown"
    wait = service.limiter.retry_after(client, time.monotonic())
    if wait:
        seconds = str(int(wait) + 1)
        message = f"Too many requests from your network. Please try again in {seconds} seconds."
        raise BadRequest(429, message, {"Retry-After": seconds})


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise BadRequest(413, f"The request is larger than {MAX_BODY} bytes.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise BadRequest(413, f"The request is larger than {MAX_BODY} bytes.")
    return body


def _parse_fields(request: Request, body: bytes) -> dict[str, str]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if kind == "application/json":
            data = json.loads(body or b"null")
            if not isinstance(data, dict):
                raise ValueError("not an object")
            return {str(k): v for k, v in data.items() if isinstance(v, str)}
        if kind in ("application/x-www-form-urlencoded", ""):
            text = body.decode("utf-8")
            return {k: v[-1] for k, v in parse_qs(text, max_num_fields=20).items()}
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(400, "The request body could not be read.") from exc
    raise BadRequest(415, "Send a form (application/x-www-form-urlencoded) or JSON.")


def _wants_json(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    accept = request.headers.get("accept", "")
    return kind.startswith("application/json") or (
        "application/json" in accept and "text/html" not in accept
    )


def _page_environment(site: SiteConfig) -> Environment:
    return Environment(
        loader=FileSystemLoader(site.root / "templates" / "service"),
        autoescape=select_autoescape(default=True),
    )
