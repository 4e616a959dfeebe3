"""The subscription service as a Starlette app: routes, CORS, the error handler, and the mail
worker that runs for the app's lifetime.

Endpoints live in handlers.py and return an Answer; this module turns answers and refusals
into responses, so no endpoint guards itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from generator.service import clicks, handlers, preferences
from generator.service.handlers import Service
from generator.service.logs import log_event
from generator.service.mailer import MailWorker
from generator.service.requests import RequestRefused
from generator.service.responses import Answer, refusal, respond
from generator.subscribers.mail_queue import MailQueue

__all__ = ["Service", "create_app", "site_origin"]

Handler = Callable[[Service, Request], Awaitable[Answer]]
READY_TIMEOUT = 3.0  # seconds /readyz waits for the database
# Due mail older than this means no worker is sending (a retry is not due until its time).
MAIL_DUE_BOUND = timedelta(minutes=2)


def create_app(service: Service) -> Starlette:
    def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def answer(request: Request) -> Response:
            answered = await handler(service, request)
            log_event(handler.__name__, path=request.url.path, status=answered.status)
            return respond(service.site, request, answered)

        return answer

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestRefused)
        level = logging.WARNING if exc.status >= 500 else logging.INFO
        log_event("request_refused", level, path=request.url.path, status=exc.status)
        return respond(service.site, request, refusal(exc))

    routes = [
        Route("/subscribe", endpoint(handlers.subscribe), methods=["POST"]),
        Route("/confirm/{token}", endpoint(handlers.confirm), methods=["GET"]),
        Route("/unsubscribe/{token}", endpoint(handlers.unsubscribe_page), methods=["GET"]),
        Route("/unsubscribe/{token}", endpoint(handlers.unsubscribe), methods=["POST"]),
        Route("/preferences/{token}", endpoint(preferences.preferences_page), methods=["GET"]),
        Route("/preferences/{token}", endpoint(preferences.save_preferences), methods=["POST"]),
        Route(
            "/r/{issue}/{mac}/{path:path}", endpoint(clicks.follow_link), methods=["GET", "HEAD"]
        ),
        Route("/webhooks/{relay}", endpoint(handlers.webhook), methods=["POST"]),
        Route("/healthz", health, methods=["GET"]),
        Route("/readyz", readiness(service), methods=["GET"]),
    ]
    cors = Middleware(
        CORSMiddleware,
        allow_origins=[site_origin(service.site.url)],
        allow_methods=["POST"],
        allow_headers=["Content-Type", "Accept"],
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        worker = MailWorker(service)
        worker.start()
        try:
            yield
        finally:
            await run_in_threadpool(worker.stop)

    app = Starlette(
        routes=routes,
        middleware=[cors],
        exception_handlers={RequestRefused: refused},
        lifespan=lifespan,
    )
    # Starlette would redirect /subscribe/ to a URL built from the Host header: no redirects.
    app.router.redirect_slashes = False
    return app


async def health(request: Request) -> Response:
    """The process answers: for a supervisor deciding whether to restart it."""
    return JSONResponse({"ok": True})


def readiness(service: Service) -> Callable[[Request], Awaitable[Response]]:
    """The database answers and the mail worker keeps up: for a proxy deciding whether to
    send traffic here, and for monitoring. 503 with the reason otherwise."""

    async def ready(request: Request) -> Response:
        try:
            reason = await asyncio.wait_for(
                run_in_threadpool(not_ready_because, service), READY_TIMEOUT
            )
        except TimeoutError:
            reason = f"the database did not answer within {READY_TIMEOUT:.0f} s"
        if reason:
            return JSONResponse({"ok": False, "reason": reason}, status_code=503)
        return JSONResponse({"ok": True})

    return ready


def not_ready_because(service: Service) -> str:
    now = service.clock()
    try:
        oldest = MailQueue(service.store.engine).oldest_due(now)
    except Exception as exc:  # whatever the driver raises, the answer is the same: not ready
        return f"the database cannot be used ({type(exc).__name__})"
    if oldest is not None and now - oldest > MAIL_DUE_BOUND:
        waited = (now - oldest).total_seconds()
        return f"mail is not going out: the oldest due message has waited {waited:.0f} s"
    return ""


def site_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
