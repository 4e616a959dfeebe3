"""`press build`: check, render the blog, write feeds, check links, then publish atomically."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache, partial
from pathlib import Path
from typing import TypeVar

from generator.atomic import staged_directory
from generator.content.articles import Article
from generator.content.loader import load_content
from generator.content.problems import ContentError, Problem
from generator.content.site_config import SiteConfig
from generator.errors import PressError
from generator.feeds.build import build_feeds
from generator.site.forked import forked
from generator.site.link_check import broken_internal_links
from generator.site.mkdocs_adapter import render_site
from generator.site.newsletter import newsletter_pages
from generator.site.options import BuildOptions
from generator.site.outputs import write_outputs
from generator.site.up_to_date import (
    BuildRecord,
    input_fingerprint,
    page_count,
    site_files,
    valid_until,
)

T = TypeVar("T")


@dataclass(frozen=True)
class BuildReport:
    site_dir: Path
    published: int
    pages: int
    warnings: tuple[Problem, ...] = ()
    reused: bool = False  # nothing changed since the last build: the site was left as it was


def build_all(
    root: Path,
    options: BuildOptions,
    out_dir: Path | None = None,
    strict: bool = False,
    jobs: int = 1,
    force: bool = False,
) -> BuildReport:
    """Under `strict`, warnings (broken internal links) fail the build like errors; either way
    a failed build leaves the previous site exactly as it was. `jobs` processes convert the
    articles the render cache lacks; the output does not depend on it. Unless `force`, a
    build with nothing to change (up_to_date.py) leaves the site as it is."""
    target = out_dir or root / "site"
    check_output_dir(target, root)
    record, inputs = BuildRecord(root, target), input_fingerprint(root, options, strict)
    earlier = None if force else record.reusable(inputs, options.now)
    if earlier is not None:
        warnings = tuple(earlier["warnings"])
        return BuildReport(target, earlier["published"], earlier["pages"], warnings, True)
    # Raises ContentError before anything is written.
    site, articles = load_content(root, strict, jobs)
    early = partial(_feeds_and_archive, site, articles, options)
    with staged_directory(target) as staging, _meanwhile(early, jobs) as ready:

        def archive() -> dict[str, str]:  # the plugin asks for it when it adds pages
            return ready()[1]

        built = replace(options, content=(site, articles), jobs=jobs, newsletter=archive)
        render_site(root, staging, built)
        write_outputs(staging, ready()[0])
        links = broken_internal_links(staging, site, articles, strict, jobs)
        if strict and links:
            raise ContentError(links)
    published = sum(a.is_published(options.now) for a in articles)
    files = site_files(target)
    report = BuildReport(target, published, page_count(files), tuple(links))
    record.save(inputs, options.now, valid_until(site, articles, options.now), report, files)
    return report


def _feeds_and_archive(
    site: SiteConfig, articles: list[Article], options: BuildOptions
) -> tuple[dict[str, bytes], dict[str, str]]:
    """What needs the articles but not MkDocs: the feeds and the newsletter archive's pages."""
    feeds = build_feeds(site, articles, options.now)
    return feeds, newsletter_pages(site, articles, options.now)


@contextmanager
def _meanwhile(work: Callable[[], T], jobs: int) -> Iterator[Callable[[], T]]:
    """With processes to spare, `work` runs in a forked process while MkDocs starts (which
    leaves a CPU idle); otherwise when its result is first asked for. Asked again, the
    same result."""
    if jobs <= 1:
        yield cache(work)
        return
    with forked(work) as job:
        yield cache(job.result)


class UnsafeOutput(PressError, ValueError):
    """The output folder would replace something that is not a built site."""


def check_output_dir(target: Path, root: Path) -> None:
    """The build replaces `target` whole, so it must be a new folder, an empty one or an
    earlier build: never a file, the project, or a folder that holds sources."""
    resolved, project = target.resolve(), root.resolve()
    sources = [project / name for name in ("content", "site_config", "templates", ".git")]
    if resolved.exists() and not resolved.is_dir():
        raise UnsafeOutput(f"{target} is a file; the site needs a folder of its own")
    if resolved == project or project.is_relative_to(resolved):
        raise UnsafeOutput(f"{target} holds the project itself; choose a folder for the site")
    if any(resolved == s or resolved.is_relative_to(s) for s in sources):
        raise UnsafeOutput(f"{target} is inside the project's sources; choose another folder")
    if resolved.is_dir() and any(resolved.iterdir()) and not (resolved / "index.html").exists():
        raise UnsafeOutput(
            f"{target} is not empty and holds no earlier build; choose a new or empty folder"
        )
