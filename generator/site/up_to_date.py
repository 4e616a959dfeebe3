"""Skip a build that would write exactly the site that is already there.

A build's output depends on its input files, the code and packages that build them, its
options, and the clock only through which articles are published and which digests are
sent. So each build records, under `.cache/press/builds/`, a fingerprint of the first three,
the window of moments in which the clock-derived choices stay the same, and a listing of the
site it wrote. The next build with the same fingerprint, inside that window, onto an
untouched site, has nothing to do. `press build --force` builds anyway.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import generator
from generator.content.articles import Article
from generator.content.installed import installed_distributions
from generator.content.problems import Problem
from generator.content.site_config import SiteConfig
from generator.digest.schedule import issue_for, send_moment
from generator.site.options import BuildOptions

FORMAT = "press-build-2"
INPUTS = ("content", "site_config", "templates", "mkdocs.yml")
_ENV_TAG = re.compile(r"!ENV\s*\[?\s*([A-Za-z_][A-Za-z0-9_, ]*)")


def input_fingerprint(root: Path, options: BuildOptions, strict: bool) -> str:
    digest = hashlib.sha256(f"{FORMAT}\0{options.include_drafts}\0{strict}\0".encode())
    for path in _input_files(root):
        digest.update(f"{path.relative_to(root).as_posix()}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    code = Path(generator.__file__).parent
    for path in sorted(code.rglob("*.py")):
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update("\0".join(sorted(installed_distributions())).encode())
    digest.update("\0".join(_environment(root)).encode())
    return digest.hexdigest()


def _input_files(root: Path) -> list[Path]:
    found: list[Path] = []
    for name in INPUTS:
        path = root / name
        found += [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sorted(found)


def _environment(root: Path) -> list[str]:
    """The variables mkdocs.yml reads with !ENV, with their values."""
    try:
        text = (root / "mkdocs.yml").read_text(encoding="utf-8")
    except OSError:
        return []
    names = sorted({n.strip() for m in _ENV_TAG.findall(text) for n in m.split(",") if n.strip()})
    return [f"{name}={os.environ.get(name, '')}" for name in names]


def valid_until(site: SiteConfig, articles: list[Article], now: datetime) -> datetime | None:
    """The next moment an article is published or a digest is sent; None when none is due.
    With nothing published, the sitemap is dated by the clock itself: valid only for `now`."""
    if not any(a.is_published(now) for a in articles):
        return now
    moments = []
    for article in articles:
        if not article.draft:
            moments += [article.published, send_moment(site, issue_for(site, article.published))]
    return min((m for m in moments if m > now), default=None)


def site_files(target: Path) -> list[tuple[str, os.stat_result]]:
    """Every file under `target`, by its path relative to it, in path order; one `scandir`
    per folder (a build writes some 4,000 files and folders at 1,000 articles)."""
    found, folders = [], [""]
    while folders:
        folder = folders.pop()
        with os.scandir(target / folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(f"{folder}{entry.name}/")
                elif entry.is_file():
                    found.append((f"{folder}{entry.name}", entry.stat()))
    return sorted(found, key=_path_of)


def _path_of(item: tuple[str, os.stat_result]) -> str:
    return item[0]


def page_count(files: list[tuple[str, os.stat_result]]) -> int:
    """The site's pages: its folders with an index.html."""
    return sum(1 for path, _ in files if path == "index.html" or path.endswith("/index.html"))


def output_listing(files: list[tuple[str, os.stat_result]]) -> str:
    """Every file of the site with its size and modification time: a touched site differs."""
    digest = hashlib.sha256()
    for path, stat in files:
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


class BuildRecord:
    def __init__(self, root: Path, target: Path) -> None:
        key = hashlib.sha256(str(target.resolve()).encode()).hexdigest()[:16]
        self.path = root / ".cache" / "press" / "builds" / f"{key}.json"
        self.target = target

    def reusable(self, inputs: str, now: datetime) -> dict[str, Any] | None:
        """What the last build reported, if it stands for a build now; otherwise None."""
        try:
            entry = json.loads(self.path.read_text(encoding="utf-8"))
            if entry.get("format") != FORMAT or entry.get("inputs") != inputs:
                return None
            start = datetime.fromisoformat(entry["valid_from"])
            until = entry["valid_until"] and datetime.fromisoformat(entry["valid_until"])
            if now < start or (until and now >= until) or until == start:
                return None
            if (
                not self.target.is_dir()
                or output_listing(site_files(self.target)) != entry["outputs"]
            ):
                return None
            entry["warnings"] = [Problem(**w) for w in entry["warnings"]]
            return entry
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(
        self,
        inputs: str,
        now: datetime,
        until: datetime | None,
        report: Any,
        files: list[tuple[str, os.stat_result]],
    ) -> None:
        """`files`: the site as `site_files` lists it."""
        entry = {
            "format": FORMAT,
            "inputs": inputs,
            "valid_from": now.isoformat(),
            "valid_until": until.isoformat() if until else None,
            "outputs": output_listing(files),
            "published": report.published,
            "pages": report.pages,
            "warnings": [asdict(w) for w in report.warnings],
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(entry), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass  # without a record the next build simply builds
