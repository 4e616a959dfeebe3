"""`press check` and `press new`: what editors run while they write."""

from __future__ import annotations

import sys

import click

from generator.cli.support import project_root, reports_problems
from generator.clock import current_time
from generator.content.loader import read_content
from generator.content.problems import errors_of, report_lines
from generator.content.site_config import load_site
from generator.content.slugs import slugify


@click.command()
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


@click.command()
@click.argument("title")
@click.option("--author", help="Author id from site_config/authors.yml (default: the first).")
@click.option("--category", help="Category for the article.")
@reports_problems
def new(title: str, author: str | None, category: str | None) -> None:
    """Write a new draft article with valid front matter."""
    from generator.content.new_post import ArticleExists, write_new_article

    if not slugify(title):
        raise click.BadParameter(
            f"'{title}' has no letter or digit to name the article by", param_hint="TITLE"
        )
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
