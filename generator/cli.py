"""The `press` command line. Each command is a thin shell over one module."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from generator.cli_support import project_root, reports_problems
from generator.clock import current_time
from generator.config import load_site
from generator.content import read_content
from generator.problems import errors_of, report_lines


@click.group()
@click.version_option(package_name="leadership-press")
def main() -> None:
    """Leadership Press: build the blog, its feeds and the Saturday digest."""


@main.command()
@click.option("--strict", is_flag=True, help="Treat warnings (unknown keys, no excerpt) as errors.")
def check(strict: bool) -> None:
    """Validate all content and configuration; one line per problem."""
    config, articles, problems = read_content(project_root())
    for line in report_lines(problems, strict):
        click.echo(line, err=True)
    errors = errors_of(problems, strict)
    if errors or config is None:
        click.echo(f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)", err=True)
        sys.exit(1)
    click.echo(f"{len(articles)} article(s) checked, {len(problems)} warning(s)")


@main.command()
@click.argument("title")
@click.option("--author", help="Author id from site_config/authors.yml (default: the first).")
@click.option("--category", help="Category for the article.")
@reports_problems
def new(title: str, author: str | None, category: str | None) -> None:
    """Write a new draft article with valid front matter."""
    from generator.new_post import ArticleExists, write_new_article

    config = load_site(project_root())
    author = author or next(iter(config.authors))
    if author not in config.authors:
        raise click.BadParameter(f"unknown author '{author}'", param_hint="--author")
    if category and config.categories and category not in config.categories:
        choices = ", ".join(config.categories)
        raise click.BadParameter(f"'{category}' is not one of {choices}", param_hint="--category")
    try:
        path = write_new_article(config, title, author, category, current_time())
    except ArticleExists as exc:
        raise click.ClickException(f"{exc} already exists; choose another title") from exc
    click.echo(f"created {path.relative_to(config.root)} (draft: set 'draft: false' to publish)")


@main.command()
@click.option("--out", type=click.Path(path_type=Path), help="Output directory (default: site/).")
@reports_problems
def build(out: Path | None) -> None:
    """Check content, then build the blog and feeds into site/ (replaced only on success)."""
    from generator.build import build_all
    from generator.build_options import BuildOptions
    from generator.outputs import OutputCollision
    from generator.site import RenderError

    try:
        report = build_all(project_root(), BuildOptions(now=current_time()), out)
    except (RenderError, OutputCollision) as exc:
        raise click.ClickException(f"build failed, previous site kept: {exc}") from exc
    click.echo(f"built {report.site_dir}: {report.published} article(s), {report.pages} page(s)")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--drafts/--no-drafts", default=True, show_default=True, help="Show drafts, marked.")
@reports_problems
def serve(host: str, port: int, drafts: bool) -> None:
    """Live preview on 127.0.0.1 that reloads when you save."""
    from generator.build_options import BuildOptions
    from generator.site import serve_site

    serve_site(project_root(), BuildOptions(now=current_time(), include_drafts=drafts), host, port)


@main.command()
@click.option("--date", "issue", type=click.DateTime(["%Y-%m-%d"]), help="Digest day (YYYY-MM-DD).")
@click.option("--out", type=click.Path(path_type=Path), help="Default: dist/digest/<date>/.")
@reports_problems
def digest(issue: datetime | None, out: Path | None) -> None:
    """Render a Saturday digest: email.html, email.txt and preview.eml."""
    from generator.content import load_content
    from generator.digest import prepare_digest, write_preview
    from generator.schedule import next_issue_date
    from generator.tokens import Signer

    now = current_time()
    site, articles = load_content(project_root())
    day = issue.date() if issue else next_issue_date(site, now)
    try:
        prepared = prepare_digest(site, articles, day, now)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--date") from exc
    window = prepared.window
    if prepared.rendered is None:
        click.echo(
            f"No digest for {day}: nothing was published between "
            f"{window.start:%d/%m/%Y %H:%M} and {window.end:%d/%m/%Y %H:%M %Z}."
        )
        return
    target = out or site.root / "dist" / "digest" / day.isoformat()
    sizes = write_preview(site, prepared, target, Signer.from_environment(allow_preview=True))
    click.echo(f"Digest for {day}: {prepared.rendered.subject}")
    click.echo(f"  {len(prepared.rendered.articles)} article(s), written to {target}")
    for name, size in sizes.items():
        click.echo(f"  {name:12} {size:>8,} bytes")


def _register() -> None:
    from generator.cli_send import send
    from generator.cli_subscribers import subscribers, subscriptions

    main.add_command(subscribers)
    main.add_command(subscriptions)
    main.add_command(send)


_register()
