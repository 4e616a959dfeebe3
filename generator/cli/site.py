"""`press build` and `press serve`: the blog and its feeds, built once or previewed live."""

from __future__ import annotations

import os
from pathlib import Path

import click

from generator.cli.errors import describe
from generator.cli.support import project_root, reports_problems
from generator.clock import current_time
from generator.content.problems import report_lines


def available_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@click.command()
@click.option("--out", type=click.Path(path_type=Path), help="Output directory (default: site/).")
@click.option("--strict", is_flag=True, help="Fail on warnings too (broken links, unknown keys).")
@click.option(
    "--jobs",
    type=click.IntRange(1, 256),
    default=available_cpus,
    show_default="the CPUs available",
    help="Processes that convert articles the render cache lacks.",
)
@click.option("--force", is_flag=True, help="Build even when nothing changed since the last build.")
@reports_problems
def build(out: Path | None, strict: bool, jobs: int, force: bool) -> None:
    """Check content, then build the blog and feeds into site/ (replaced only on success)."""
    from generator.site.build import UnsafeOutput, build_all
    from generator.site.mkdocs_adapter import RenderError
    from generator.site.options import BuildOptions
    from generator.site.outputs import OutputCollision

    try:
        options = BuildOptions(now=current_time())
        report = build_all(project_root(), options, out, strict, jobs=jobs, force=force)
    except (RenderError, OutputCollision) as exc:
        raise click.ClickException(f"build failed, previous site kept: {exc}") from exc
    except UnsafeOutput as exc:
        raise click.BadParameter(str(exc), param_hint="--out") from exc
    except OSError as exc:
        target = out or project_root() / "site"
        raise click.ClickException(
            f"cannot write the site to {target} ({describe(exc)}); previous site kept"
        ) from exc
    for line in report_lines(report.warnings, strict=False):
        click.echo(line, err=True)
    counts = f"{report.published} article(s), {report.pages} page(s)"
    if report.reused:
        click.echo(f"{report.site_dir} is up to date, unchanged since the last build: {counts}")
    else:
        click.echo(f"built {report.site_dir}: {counts}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--drafts/--no-drafts", default=True, show_default=True, help="Show drafts, marked.")
@reports_problems
def serve(host: str, port: int, drafts: bool) -> None:
    """Live preview on 127.0.0.1 that reloads when you save."""
    from generator.site.mkdocs_adapter import RenderError, serve_site
    from generator.site.options import BuildOptions

    options = BuildOptions(now=current_time(), include_drafts=drafts, email_preview=True)
    try:
        serve_site(project_root(), options, host, port)
    except RenderError as exc:
        raise click.ClickException(f"the preview could not be built: {exc}") from exc
    except OSError as exc:  # the port is taken, or the host is not this machine's
        raise click.ClickException(f"cannot serve on {host}:{port}: {exc.strerror}") from exc
