"""The `press` group: every command, registered from its own module."""

from __future__ import annotations

import click

from generator.cli.authoring import check, new
from generator.cli.backup import backup, restore
from generator.cli.bounces import bounces
from generator.cli.digest import digest
from generator.cli.doctor import doctor
from generator.cli.errors import PressGroup
from generator.cli.report import report
from generator.cli.send import send
from generator.cli.site import build, serve
from generator.cli.subscribers import subscribers
from generator.cli.subscriptions import subscriptions


@click.group(cls=PressGroup)
@click.version_option(package_name="leadership-press")
def main() -> None:
    """Leadership Press: build the blog, its feeds and the Saturday digest."""


for command in (
    check,
    new,
    build,
    serve,
    digest,
    send,
    subscribers,
    subscriptions,
    bounces,
    report,
    doctor,
    backup,
    restore,
):
    main.add_command(command)
