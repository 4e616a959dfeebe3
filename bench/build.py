"""Build time and peak memory of `press build` against the tools a user would pick instead.

The same generated corpus (bench/corpus.py) is built, in alternating rounds, by:
- `press build`: cold (empty render cache, no earlier build) and warm (nothing changed);
- a stock Material blog configured like ours: the same mkdocs.yml blog settings (pagination,
  author pages, URL formats), the same Markdown extensions and search; no press plugin, no
  theme overrides, so no feeds, newsletter archive, tag pages or link check;
- Pelican 4.12 with the same Markdown extensions, pagination, author, category and archive
  pages, and RSS and Atom feeds (its default theme; it has no search index).
Each build runs in a fresh process; peak RSS is that process's (press's conversion workers
are not counted; they hold only what they convert). Before each cold build, every tool's
earlier output (and press's cache) is moved aside, and all of it is deleted after the last
round: on ext4 without a journal (this bench machine's root) the kernel skips the inodes
freed in the last minutes each time it allocates one, scanning past them from the start of
the group, so a build right after deleting thousands of files pays for the deletion
quadratically (press's cold build at 1,000 took 7-8 s instead of 3-5 s, most of it system
time; a journalled ext4, the default, has no such check). `--delete-before` deletes instead,
as a user's `rm -rf site .cache` would. Deletions from before the bench (an earlier run's
clean-up) are let settle first: a minute after the inode tables are written. Then the
preview latency: `press serve` on 127.0.0.1, one article edited (its text, then its date),
timed until the served page shows the edit over HTTP.

    bin/setup --bench                      # once: Pelican in .cache/bench/pelican
    .venv/bin/python bench/build.py [--articles 1000 3000] [--rounds 3] [--no-preview]
    .venv/bin/python bench/build.py --articles 1000 --preview-only --edits 5
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from corpus import NOW, REPO, make_corpus

PELICAN = REPO / ".cache/bench/pelican/bin/python"

PRESS_BUILD = """
import json, os, resource, sys, time
from pathlib import Path
from datetime import datetime
from generator.site.build import build_all
from generator.site.options import BuildOptions
start = time.perf_counter()
jobs = len(os.sched_getaffinity(0))
build_all(Path(sys.argv[1]), BuildOptions(now=datetime.fromisoformat(sys.argv[2])), jobs=jobs)
print(json.dumps({"seconds": time.perf_counter() - start,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

MATERIAL_BUILD = """
import json, resource, sys, time, logging
from mkdocs.commands.build import build
from mkdocs.config import load_config
logging.getLogger("mkdocs").setLevel(logging.ERROR)
start = time.perf_counter()
config = load_config(sys.argv[1])
config.plugins.on_startup(command="build", dirty=False)
build(config)
config.plugins.on_shutdown()
print(json.dumps({"seconds": time.perf_counter() - start,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

CARDS = """
import json, os, sys, time
from pathlib import Path
from generator.content.loader import load_content
from generator.site.cards import build_cards
site, articles = load_content(Path(sys.argv[1]))
start = time.perf_counter()
build_cards(site, articles, None, jobs=len(os.sched_getaffinity(0)))
print(json.dumps({"seconds": time.perf_counter() - start, "peak_mib": 0}))
"""

PELICAN_BUILD = """
import json, logging, resource, sys, time
logging.disable(logging.WARNING)
from pelican import Pelican
from pelican.settings import read_settings
start = time.perf_counter()
Pelican(read_settings(sys.argv[1])).run()
print(json.dumps({"seconds": time.perf_counter() - start,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

PELICAN_CONF = """
SITENAME = "The Leadership Press"
SITEURL = "https://leadership-press.example.org"
PATH = {content!r}
OUTPUT_PATH = {output!r}
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
DEFAULT_PAGINATION = 5
ARTICLE_URL = "posts/{{slug}}/"
ARTICLE_SAVE_AS = "posts/{{slug}}/index.html"
FEED_DOMAIN = SITEURL
FEED_ALL_ATOM = "atom.xml"
FEED_ALL_RSS = "feed.xml"
CATEGORY_FEED_ATOM = "category/{{slug}}/atom.xml"
CATEGORY_FEED_RSS = "category/{{slug}}/feed.xml"
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
FEED_MAX_ITEMS = 20
RSS_FEED_SUMMARY_ONLY = False
DELETE_OUTPUT_DIRECTORY = True
LOAD_CONTENT_CACHE = False
MARKDOWN = {markdown!r}
"""


def run(python: Path | str, code: str, *args: str) -> dict[str, float]:
    """The figures the build prints (its own time, after imports), and `wall`: the whole
    process, interpreter start included, as `press serve`'s first page is timed."""
    started = time.perf_counter()
    out = subprocess.run(
        [str(python), "-c", code, *args], capture_output=True, text=True, timeout=3600
    )
    wall = time.perf_counter() - started
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "wall": wall}


# The settings press's blog had while it was Material's blog plugin: the same pages and URLs.
MATERIAL_BLOG = {
    "blog_dir": ".",
    "blog_toc": False,
    "post_url_format": "posts/{slug}",
    "post_date_format": "dd/MM/yyyy",
    "post_excerpt": "optional",
    "post_readtime": True,
    "archive_date_format": "yyyy",
    "archive_url_format": "archive/{date}",
    "categories_url_format": "category/{slug}",
    "authors_file": ".authors.yml",
    "authors_profiles": True,
    "authors_profiles_url_format": "author/{slug}",
    "pagination_per_page": 5,
}


def material_blog(project: Path, dest: Path) -> Path:
    """The corpus as a stock Material blog with our blog settings and Markdown setup."""
    shutil.copytree(project / "content", dest / "content")
    config = yaml.safe_load((project / "mkdocs.yml").read_text())
    config["theme"].pop("custom_dir", None)
    for key in ("extra_css", "extra_javascript"):
        config.pop(key, None)
    config["plugins"] = [p for p in config["plugins"] if p != "press"] + [{"blog": MATERIAL_BLOG}]
    shutil.copy(project / "site_config/authors.yml", dest / "content/.authors.yml")
    config["site_dir"] = str(dest / "site")
    (dest / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return dest / "mkdocs.yml"


def pelican_site(project: Path, dest: Path) -> Path:
    """The corpus as Pelican articles: the same bodies and metadata in Pelican's format."""
    content = dest / "content"
    content.mkdir(parents=True)
    for post in sorted((project / "content/posts").glob("*.md")):
        _, front, body = post.read_text().split("---\n", 2)
        meta = yaml.safe_load(front)
        header = [
            f"Title: {meta['title']}",
            f"Date: {str(meta['date']).replace('T', ' ')}",
            f"Category: {meta['categories'][0]}",
            f"Authors: {', '.join(meta['authors'])}",
            f"Summary: {meta['description']}",
            f"Slug: {post.stem}",
        ]
        (content / post.name).write_text("\n".join(header) + "\n" + body)
    mkdocs = yaml.safe_load((project / "mkdocs.yml").read_text())
    configs: dict[str, dict] = {"markdown.extensions.meta": {}}
    for item in mkdocs["markdown_extensions"]:
        name, options = next(iter(item.items())) if isinstance(item, dict) else (item, {})
        configs[name if "." in name else f"markdown.extensions.{name}"] = options or {}
    markdown = {"extension_configs": configs, "output_format": "html5"}
    conf = PELICAN_CONF.format(content=str(content), output=str(dest / "output"), markdown=markdown)
    (dest / "pelicanconf.py").write_text(conf)
    return dest / "pelicanconf.py"


@contextmanager
def scratch_dir(scratch: Path | None) -> Iterator[str]:
    """A folder for one part of the bench: inside `scratch`, which is deleted only when the
    bench ends (see the module docstring), or a temporary one deleted when the part ends."""
    if scratch is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield tmp
        return
    yield tempfile.mkdtemp(dir=scratch)


def clear(path: Path, spent: Path | None) -> None:
    """Removes an earlier build's output: moved into `spent` (deleted after the rounds), or
    deleted now when `spent` is None."""
    if not path.exists():
        return
    if spent is None:
        shutil.rmtree(path)
        return
    spent.mkdir(exist_ok=True)
    path.rename(spent / f"{len(list(spent.iterdir()))}-{path.name}")


def measure(count: int, rounds: int, scratch: Path | None) -> dict[str, list[dict[str, float]]]:
    """With no `scratch`, each earlier output is deleted right before the next build."""
    results: dict[str, list[dict[str, float]]] = {
        "press cold": [],
        "press warm": [],
        "material": [],
        "pelican": [],
    }
    with scratch_dir(scratch) as tmp:
        project = make_corpus(Path(tmp) / "press", count)
        # Like for like: neither Pelican nor the stock blog draws share cards (timed apart).
        with (project / "site_config/site.yml").open("a") as site_yml:
            site_yml.write("\nshare_cards: false\n")
        material = material_blog(project, Path(tmp) / "material")
        pelican = pelican_site(project, Path(tmp) / "pelican")
        spent = None if scratch is None else Path(tmp) / "spent"
        for _ in range(rounds):
            clear(project / ".cache", spent)
            clear(project / "site", spent)
            results["press cold"].append(
                run(sys.executable, PRESS_BUILD, str(project), NOW.isoformat())
            )
            results["press warm"].append(
                run(sys.executable, PRESS_BUILD, str(project), NOW.isoformat())
            )
            if spent is not None:  # else each deletes its own, timed
                clear(material.parent / "site", spent)
                clear(pelican.parent / "output", spent)
            results["material"].append(run(sys.executable, MATERIAL_BUILD, str(material)))
            results["pelican"].append(run(PELICAN, PELICAN_BUILD, str(pelican)))
    return results


def median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def report(count: int, results: dict[str, list[dict[str, float]]]) -> float:
    pelican, material = (
        median(results["pelican"], "seconds"),
        median(results["material"], "seconds"),
    )
    print(f"\n{count} articles, medians of {len(results['pelican'])} alternating rounds:")
    print(f"{'build':<12} {'time':>9} {'peak RSS':>10} {'vs Pelican':>11} {'vs Material':>12}")
    for name, runs in results.items():
        seconds, peak = median(runs, "seconds"), median(runs, "peak_mib")
        print(
            f"{name:<12} {seconds:>7.2f} s {peak:>6.0f} MiB {seconds / pelican:>10.2f}x"
            f" {seconds / material:>11.2f}x"
        )
    ratios = [
        cold["seconds"] / pelican_run["seconds"]
        for cold, pelican_run in zip(results["press cold"], results["pelican"], strict=True)
    ]
    shown = ", ".join(f"{r:.2f}" for r in ratios)
    # Each round's own ratio: a slow spell of the machine slows both builds of one round.
    print(f"press cold / pelican, round by round: {shown}; median {statistics.median(ratios):.2f}x")
    return median(results["press cold"], "seconds")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()
    except OSError:
        return None


def wait_gone(url: str, limit: float) -> float:
    """Seconds until the page at `url` no longer answers (404); polls every 20 ms."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        if fetch(url) is None:
            return time.perf_counter() - start
        time.sleep(0.02)
    raise SystemExit(f"{url} still answered after {limit:.0f} s")


def wait_for(url: str, text: str, limit: float) -> float:
    """Seconds until the page at `url` contains `text`; polls every 20 ms, gives up at `limit`."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        page = fetch(url)
        if page is not None and text in page:
            return time.perf_counter() - start
        time.sleep(0.02)
    raise SystemExit(f"{url} did not show {text!r} within {limit:.0f} s")


def preview_latency(count: int, edits: int, scratch: Path | None) -> dict[str, list[float]]:
    """Seconds from a save to the served page showing it: `edits` text edits (the excerpt
    changes), `edits` re-datings (the article moves between list pages), `edits` new articles
    dated mid-corpus (until the new page is served) and `edits` deletions (until its page is
    gone); and, first, from starting `press serve` to its first page."""
    with scratch_dir(scratch) as tmp:
        project = make_corpus(Path(tmp) / "press", count)
        # As the cold builds it is compared with: share cards are timed apart.
        with (project / "site_config/site.yml").open("a") as site_yml:
            site_yml.write("\nshare_cards: false\n")
        post = sorted((project / "content/posts").glob("*.md"))[count // 2]
        slug = _slug_of(project, post)
        port = free_port()
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(int(NOW.timestamp()))}
        server = subprocess.Popen(
            [str(REPO / ".venv/bin/press"), "serve", "--port", str(port), "--no-drafts"],
            cwd=project,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}/posts/{slug}/"
            first = wait_for(url, "</html>", 900)
            latencies: dict[str, list[float]] = {
                "first page": [first],
                "text edit": [],
                "re-dated": [],
                "new": [],
                "deleted": [],
            }
            for n in range(edits):
                marker = f"Edited-{n}-{time.time_ns()}"
                text = post.read_text().replace("<!-- more -->", f"{marker}\n\n<!-- more -->", 1)
                post.write_text(text)
                latencies["text edit"].append(wait_for(url, marker, 900))
                time.sleep(1)  # let the watcher settle before the next edit
            for n in range(edits):
                day = 2 + n
                text = re.sub(
                    r"^date: .*$",
                    f"date: 2026-04-{day:02d}T10:30:00",
                    post.read_text(),
                    count=1,
                    flags=re.M,
                )
                post.write_text(text)
                latencies["re-dated"].append(wait_for(url, f"{day:02d}/04/2026", 900))
                time.sleep(1)
            base = f"http://127.0.0.1:{port}/posts/"
            for n in range(edits):
                new = post.with_name(f"2026-08-0{n + 1}-new-{n}.md")
                title = f"title: Brand new {n}"
                text = re.sub(r"^title: .*$", title, post.read_text(), count=1, flags=re.M)
                new.write_text(text)
                latencies["new"].append(wait_for(f"{base}brand-new-{n}/", "</html>", 900))
                time.sleep(1)
            for n in range(edits):
                (post.with_name(f"2026-08-0{n + 1}-new-{n}.md")).unlink()
                latencies["deleted"].append(wait_gone(f"{base}brand-new-{n}/", 900))
                time.sleep(1)
            return latencies
        finally:
            server.terminate()
            server.wait(timeout=30)


def _slug_of(project: Path, post: Path) -> str:
    sys.path.insert(0, str(REPO))
    from generator.content.loader import load_content

    _, articles = load_content(project)
    return next(a.slug for a in articles if a.source == post)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, nargs="+", default=[1000, 3000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--edits", type=int, default=3)
    parser.add_argument("--no-preview", action="store_true")
    parser.add_argument(
        "--delete-before",
        action="store_true",
        help="delete each earlier output right before the next cold build (see above)",
    )
    parser.add_argument("--preview-only", action="store_true", help="skip the build rounds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="press-bench-") as root:
        run_bench(args, None if args.delete_before else Path(root))


SETTLE = 61  # seconds: ext4 passes over inodes freed this long ago once their table is written


def settle() -> None:
    """Lets files deleted before the bench (by an earlier run's clean-up, say) stop costing
    the kernel: their inode table written out, then a minute (ext4's RECENTCY_MIN)."""
    os.sync()
    time.sleep(SETTLE)


def run_bench(args: argparse.Namespace, scratch: Path | None) -> None:
    if scratch is not None:
        settle()
    if args.preview_only:
        report_preview(min(args.articles), args.edits, scratch)
        return
    if not PELICAN.exists():
        raise SystemExit("Pelican is missing: run bin/setup --bench first")
    cold, cold_wall = {}, {}
    for count in args.articles:
        results = measure(count, args.rounds, scratch)
        cold[count] = report(count, results)
        cold_wall[count] = median(results["press cold"], "wall")
        if count == max(args.articles):
            print(f"press peak RSS at {count}: {median(results['press cold'], 'peak_mib'):.0f} MiB")
    with scratch_dir(scratch) as tmp:
        count = min(args.articles)
        cards = run(sys.executable, CARDS, str(make_corpus(Path(tmp) / "press", count)))
        print(f"\nshare cards, drawn for {count} articles with no cache: {cards['seconds']:.2f} s")
    if len(cold) > 1:
        small, large = min(cold), max(cold)
        print(f"\nscaling: t({large})/t({small}) = {cold[large] / cold[small]:.2f}")
    if not args.no_preview:
        report_preview(min(args.articles), args.edits, scratch, cold_wall.get(min(args.articles)))


def report_preview(
    count: int, edits: int, scratch: Path | None, cold_wall: float | None = None
) -> None:
    print(f"\npreview at {count} articles, save to served page:")
    latencies = preview_latency(count, edits, scratch)
    for kind, times in latencies.items():
        shown = ", ".join(f"{s:.2f}" for s in times)
        print(f"  {kind}: {shown} s; median {statistics.median(times):.2f} s")
    if cold_wall:
        first = latencies["first page"][0]
        print(
            f"  first page / cold build (whole processes, {cold_wall:.2f} s): "
            f"{first / cold_wall:.2f}  (target <= 1.2)"
        )


if __name__ == "__main__":
    main()
