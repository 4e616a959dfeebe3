"""The subscription service as a Starlette app: routes, CORS, the error handler, and the mail
worker that runs for the app's lifetime.

Endpoints live in handlers.py and return an Answer; this module turns answers and refusals
into responses, so no endpoint guards itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from generator.service import handlers
from generator.service.handlers import Service
from generator.service.mailer import MailWorker
from generator.service.requests import RequestRefused
from generator.service.responses import Answer, refusal, respond

__all__ = ["Service", "create_app", "site_origin"]

Handler = Callable[[Service, Request], Awaitable[Answer]]


def create_app(service: Service) -> Starlette:
    def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def answer(request: Request) -> Response:
            return respond(service.site, request, await handler(service, request))

        return answer

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestRefused)
        return respond(service.site, request, refusal(exc))

    routes = [
        Route("/subscribe", endpoint(handlers.subscribe), methods=["POST"]),
        Route("/confirm/{token}", endpoint(handlers.confirm), methods=["GET"]),
        Route("/unsubscribe/{token}", endpoint(handlers.unsubscribe_page), methods=["GET"]),
        Route("/unsubscribe/{token}", endpoint(handlers.unsubscribe), methods=["POST"]),
        Route("/webhooks/{relay}", endpoint(handlers.webhook), methods=["POST"]),
        Route("/healthz", health, methods=["GET"]),
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
    return JSONResponse({"ok": True})


def site_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
