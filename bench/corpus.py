"""Synthetic articles for benchmarks: a scratch project with N posts in the example's shape."""

from __future__ import annotations

import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
AUTHORS = ["amara", "daniel", "editorial"]
CATEGORIES = ["Communication", "Decision Making", "Growth", "Teams"]
WORDS = [
    "team",
    "trust",
    "feedback",
    "decision",
    "meeting",
    "hiring",
    "growth",
    "listen",
    "clarity",
    "ownership",
    "manager",
    "priority",
    "context",
    "coaching",
    "habit",
    "goal",
    "review",
    "candour",
    "focus",
    "delegate",
    "plan",
    "learn",
]


def make_corpus(dest: Path, count: int, seed: int = 7) -> Path:
    """A copy of the project's config and theme with `count` generated articles."""
    rng = random.Random(seed)
    for name in ("site_config", "templates"):
        shutil.copytree(REPO / name, dest / name)
    shutil.copy(REPO / "mkdocs.yml", dest / "mkdocs.yml")
    shutil.copytree(REPO / "content", dest / "content", ignore=shutil.ignore_patterns("posts"))
    posts = dest / "content/posts"
    posts.mkdir()
    for index in range(count):
        when = NOW - timedelta(hours=7 * index + 1)
        write_article(posts, index, when, rng)
    return dest


def write_article(posts: Path, index: int, when: datetime, rng: random.Random) -> Path:
    title = f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} number {index}"
    body = "\n\n".join(
        f"## {rng.choice(WORDS).title()} {section}\n\n" + _paragraph(rng, 80)
        for section in range(3)
    )
    if index:  # links as editors write them: to an earlier article and to a heading
        earlier = when + timedelta(hours=7)
        heading = body.split("\n", 1)[0].removeprefix("## ").lower().replace(" ", "-")
        body += (
            f"\n\nSee [the previous one]({earlier:%Y-%m-%d}-article-{index - 1}.md) "
            f"and [above](#{heading}).\n"
        )
    path = posts / f"{when:%Y-%m-%d}-article-{index}.md"
    path.write_text(
        f"---\ntitle: {title}\ndate: {when:%Y-%m-%dT%H:%M:%S}\nauthors: [{rng.choice(AUTHORS)}]\n"
        f"categories: [{rng.choice(CATEGORIES)}]\ndescription: {_paragraph(rng, 20)}\n---\n\n"
        f"{_paragraph(rng, 40)}\n\n<!-- more -->\n\n{body}\n",
        encoding="utf-8",
    )
    return path


def _paragraph(rng: random.Random, words: int) -> str:
    return (" ".join(rng.choice(WORDS) for _ in range(words)) + ".").capitalize()
