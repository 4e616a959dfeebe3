"""`press backup FILE` and `press restore FILE`: a consistent copy of the subscriber store."""

from __future__ import annotations

from pathlib import Path

import click

from generator.cli.subscribers import open_store
from generator.cli.support import project_root, reports_problems
from generator.clock import current_time
from generator.content.site_config import load_site


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@reports_problems
def backup(file: Path) -> None:
    """Write a consistent copy of the store to FILE (a SQLite file), while it runs."""
    from generator.delivery.backup import BackupError, backup_store

    store = open_store(load_site(project_root()))
    try:
        report = backup_store(store.engine, file, current_time())
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    journaled = (
        f", {report.journaled:,} accepted message(s) from journals" if report.journaled else ""
    )
    click.echo(f"backed up {report.subscribers:,} subscriber(s) to {file}{journaled}")


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a store that holds subscribers.")
@reports_problems
def restore(file: Path, force: bool) -> None:
    """Replace the store with the backup FILE (refused while a service uses the store)."""
    from generator.delivery.backup import BackupError, restore_store

    store = open_store(load_site(project_root()))
    try:
        count = restore_store(file, store.engine, current_time(), force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    click.echo(f"restored {count:,} subscriber(s) from {file}")
