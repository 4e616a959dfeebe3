"""`press build`: check, render the blog, write feeds, then publish atomically."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from generator.site.options import BuildOptions
from generator.content.loader import load_content
from generator.feeds.build import build_feeds
from generator.site.outputs import write_outputs
from generator.atomic import staged_directory
from generator.site.mkdocs_adapter import render_site


@dataclass(frozen=True)
class BuildReport:
    site_dir: Path
    published: int
    pages: int


def build_all(root: Path, options: BuildOptions, out_dir: Path | None = None) -> BuildReport:
    site, articles = load_content(root)  # raises ContentError before anything is written
    target = out_dir or root / "site"
    with staged_directory(target) as staging:
        render_site(root, staging, replace(options, content=(site, articles)))
        write_outputs(staging, build_feeds(site, articles, options.now))
    published = sum(a.is_published(options.now) for a in articles)
    pages = sum(1 for _ in target.rglob("index.html"))
    return BuildReport(target, published, pages)
