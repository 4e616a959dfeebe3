"""`press subscriptions serve`: the subscription web service."""

from __future__ import annotations

import click

from generator.cli.subscribers import open_store
from generator.cli.support import project_root, reports_problems
from generator.clock import current_time
from generator.content.site_config import SiteConfig, load_site


@click.group()
def subscriptions() -> None:
    """The subscription web service (subscribe box, confirm and unsubscribe links)."""


@subscriptions.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True, type=click.IntRange(1, 65535))
@click.option("--transport", help="Where confirmation emails go (default: email.transport).")
@reports_problems
def serve(host: str, port: int, transport: str | None) -> None:
    """Run the ASGI service (Starlette on uvicorn)."""
    import uvicorn

    from generator.delivery.dkim import DkimKeyError
    from generator.delivery.outgoing import outgoing_transport
    from generator.delivery.transports import TransportConfigError
    from generator.rate_limit import RateLimiter
    from generator.service.app import Service, create_app
    from generator.service.logs import configure_logging, log_event
    from generator.service.server import server_config
    from generator.tokens import Signer, TokenError

    site = load_site(project_root())
    try:
        signer = Signer.from_environment()
        factory = outgoing_transport(site, transport)
    except (TokenError, TransportConfigError, DkimKeyError) as exc:
        raise click.ClickException(str(exc)) from exc
    limiter = RateLimiter(site.subscribers.rate_limit)
    service = Service(site, open_store(site), signer, factory, current_time, limiter)

    configure_logging()
    log_event("service_started", url=f"http://{host}:{port}/", database=store_kind(site))
    config = server_config(create_app(service), host, port, site.subscribers.trusted_proxies)
    uvicorn.Server(config).run()


def store_kind(site: SiteConfig) -> str:
    from generator.subscribers.database import configured_database

    return configured_database(site.subscribers.database).split(":", 1)[0]
