"""`press subscribers …` (manage the store) and `press subscriptions serve` (the web service)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from generator.cli.support import project_root, reports_problems
from generator.clock import current_time
from generator.content.site_config import SiteConfig, load_site
from generator.subscribers.addresses import InvalidAddress, normalise_address
from generator.subscribers.schema import STATUSES
from generator.subscribers.store import NewSubscriber, SubscriberStore

STATUS = click.Choice(STATUSES)


def open_store(site: SiteConfig) -> SubscriberStore:
    from generator.subscribers.database import (
        DatabaseError,
        DatabaseUnavailable,
        configured_database,
    )

    url = configured_database(site.subscribers.database)
    try:
        return SubscriberStore.open(url, site.root)
    except DatabaseError as exc:
        raise click.ClickException(f"{exc} (subscribers.database in site_config/site.yml)") from exc
    except DatabaseUnavailable as exc:
        raise click.ClickException(str(exc)) from exc


def checked_address(text: str, param_hint: str = "EMAIL") -> str:
    try:
        return normalise_address(text)
    except InvalidAddress as exc:
        raise click.BadParameter(f"'{text}': {exc}", param_hint=param_hint) from exc


@click.group()
def subscribers() -> None:
    """Manage the subscriber store (SQLite file or PostgreSQL)."""


@subscribers.command("add")
@click.argument("emails", nargs=-1, required=True, metavar="EMAIL...")
@click.option("--status", type=STATUS, default="active", show_default=True)
@click.option("--source", default="cli", show_default=True, help="Where consent was given.")
@reports_problems
def add(emails: tuple[str, ...], status: str, source: str) -> None:
    """Add subscribers; addresses already known are left unchanged."""
    site = load_site(project_root())
    rows = [NewSubscriber(checked_address(e), status, source) for e in emails]
    added = open_store(site).add_many(rows, current_time())
    click.echo(f"added {added}, already known {len(rows) - added}")


@subscribers.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--skip-invalid", is_flag=True, help="Import the valid rows even if some are bad.")
@reports_problems
def import_(files: tuple[Path, ...], skip_invalid: bool) -> None:
    """Import FILES: press's CSV (email, and optionally status, source, created_at,
    confirmed_at and topics, separated by ";") or the subscriber exports of Mailchimp,
    Substack, Ghost and Buttondown, recognised by their header row. Nothing is imported
    while any row is invalid."""
    from generator.subscribers.csv_files import read_import
    from generator.subscribers.imports import import_files

    site = load_site(project_root())
    parsed = [(file.name, read_import(file, project_root(), site.categories)) for file in files]
    problems = [problem for _, one in parsed for problem in one.problems]
    for problem in problems:
        click.echo(problem.format(strict=True), err=True)
    if problems and not skip_invalid:
        click.echo(f"{len(problems)} invalid row(s); nothing imported", err=True)
        sys.exit(1)
    for report in import_files(open_store(site), parsed, current_time()):
        click.echo(report.line())
    if problems:
        sys.exit(1)


@subscribers.command("export")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--status", type=STATUS, help="Only subscribers with this status.")
@reports_problems
def export(file: Path, status: str | None) -> None:
    """Write subscribers to FILE.csv (replaced atomically)."""
    from generator.subscribers.csv_files import export_csv

    store = open_store(load_site(project_root()))
    count = export_csv(store.iter_subscribers(status), file)
    click.echo(f"exported {count} subscriber(s) to {file}")


@subscribers.command("list")
@click.option("--status", type=STATUS, help="Only subscribers with this status.")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many.")
@reports_problems
def list_(status: str | None, limit: int | None) -> None:
    """Print subscribers: address, status, source and when they joined."""
    store = open_store(load_site(project_root()))
    for shown, sub in enumerate(store.iter_subscribers(status)):
        if limit is not None and shown >= limit:
            break
        click.echo(f"{sub.email}\t{sub.status}\t{sub.source}\t{sub.created_at:%Y-%m-%d}")


@subscribers.command("remove")
@click.argument("email")
@click.option("--erase", is_flag=True, help="Delete every trace instead of unsubscribing.")
@reports_problems
def remove(email: str, erase: bool) -> None:
    """Unsubscribe EMAIL (kept as unsubscribed so imports cannot bring it back)."""
    store = open_store(load_site(project_root()))
    address = checked_address(email)
    found = store.erase(address) if erase else store.unsubscribe(address, current_time())
    if not found:
        raise click.ClickException(f"{address} is not a subscriber")
    click.echo(f"{'erased' if erase else 'unsubscribed'} {address}")


@subscribers.command("reactivate")
@click.argument("email")
@click.option("--reason", required=True, help="Why (recorded): e.g. 'reader asked by phone'.")
@reports_problems
def reactivate(email: str, reason: str) -> None:
    """Make a bounced or complained address active again (recorded with the reason)."""
    from generator.subscribers.store import NotSuppressed

    if not reason.strip():
        raise click.BadParameter("say why the address may be mailed again", param_hint="--reason")
    store = open_store(load_site(project_root()))
    address = checked_address(email)
    try:
        was = store.reactivate(address, reason.strip(), current_time())
    except NotSuppressed as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"reactivated {address} (was {was}); reason recorded")


@subscribers.command("count")
@reports_problems
def count() -> None:
    """Subscribers per status."""
    counts = open_store(load_site(project_root())).count_by_status()
    for status, number in counts.items():
        click.echo(f"{status:13} {number:>9,}")
    click.echo(f"{'total':13} {sum(counts.values()):>9,}")
