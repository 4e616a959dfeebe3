"""Full build time and peak memory for N articles, against a plain Material blog of the same
corpus built in the same script, and the time to rebuild after editing one article.

    .venv/bin/python bench/build.py [--articles 1000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from corpus import NOW, make_corpus

PRESS_BUILD = """
import json, resource, sys, time
from pathlib import Path
from datetime import datetime, UTC
import generator.site.build as site_build
from generator.site.options import BuildOptions
check = site_build.broken_internal_links
spent = []
def timed_check(*args, **kwargs):
    began = time.perf_counter()
    try:
        return check(*args, **kwargs)
    finally:
        spent.append(time.perf_counter() - began)
site_build.broken_internal_links = timed_check
start = time.perf_counter()
site_build.build_all(Path(sys.argv[1]), BuildOptions(now=datetime.fromisoformat(sys.argv[2])))
print(json.dumps({"seconds": time.perf_counter() - start, "link_check": sum(spent),
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

PLAIN_BUILD = """
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

PLAIN_MKDOCS = """site_name: Plain Material blog
site_url: https://example.org/
theme:
  name: material
  font: false
plugins:
  - search
  - blog:
      blog_dir: .
      authors_file: .authors.yml
"""


def run(code: str, *args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def plain_blog(project: Path, dest: Path) -> Path:
    """The same posts in a stock Material blog: no hooks, no theme overrides, no feeds."""
    docs = dest / "docs"
    shutil.copytree(project / "content/posts", docs / "posts")
    shutil.copytree(project / "content/assets", docs / "assets")
    (docs / "index.md").write_text("# Blog\n")
    authors = (project / "site_config/authors.yml").read_text()
    (docs / ".authors.yml").write_text(authors)
    (dest / "mkdocs.yml").write_text(PLAIN_MKDOCS)
    return dest / "mkdocs.yml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=1000)
    count = parser.parse_args().articles
    with tempfile.TemporaryDirectory() as tmp:
        project = make_corpus(Path(tmp) / "press", count)
        plain = plain_blog(project, Path(tmp) / "plain")
        baseline = run(PLAIN_BUILD, str(plain))
        ours = run(PRESS_BUILD, str(project), NOW.isoformat())
        edited = sorted((project / "content/posts").glob("*.md"))[count // 2]
        edited.write_text(edited.read_text().replace("<!-- more -->", "Edited.\n\n<!-- more -->"))
        rebuild = run(PRESS_BUILD, str(project), NOW.isoformat())
    print(f"articles: {count}")
    report("plain Material blog build", baseline)
    report("press build (site + feeds + archive)", ours)
    time_ratio = ours["seconds"] / baseline["seconds"]
    memory_ratio = ours["peak_mib"] / baseline["peak_mib"]
    print(f"ratio to plain Material: time {time_ratio:.2f}x, memory {memory_ratio:.2f}x")
    print(f"rebuild after editing one article: {rebuild['seconds']:.2f} s")
    share = ours["link_check"] / ours["seconds"]
    checked = ours["link_check"]
    print(f"internal link check: {checked:.3f} s, {share:.1%} of the build (target < 5%)")


def report(label: str, figures: dict[str, float]) -> None:
    print(f"{label}: {figures['seconds']:.2f} s, peak {figures['peak_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
