"""`press build`: check, render the blog, write feeds, check links, then publish atomically."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from generator.atomic import staged_directory
from generator.content.loader import load_content
from generator.content.problems import ContentError, Problem
from generator.feeds.build import build_feeds
from generator.site.link_check import broken_internal_links
from generator.site.mkdocs_adapter import render_site
from generator.site.options import BuildOptions
from generator.site.outputs import write_outputs


@dataclass(frozen=True)
class BuildReport:
    site_dir: Path
    published: int
    pages: int
    warnings: tuple[Problem, ...] = ()


def build_all(
    root: Path, options: BuildOptions, out_dir: Path | None = None, strict: bool = False
) -> BuildReport:
    """Under `strict`, warnings (broken internal links) fail the build like errors; either way
    a failed build leaves the previous site exactly as it was."""
    site, articles = load_content(root, strict)  # raises ContentError before anything is written
    target = out_dir or root / "site"
    with staged_directory(target) as staging:
        render_site(root, staging, replace(options, content=(site, articles)))
        write_outputs(staging, build_feeds(site, articles, options.now))
        links = broken_internal_links(staging, site, articles, strict)
        if strict and links:
            raise ContentError(links)
    published = sum(a.is_published(options.now) for a in articles)
    pages = sum(1 for _ in target.rglob("index.html"))
    return BuildReport(target, published, pages, tuple(links))
