"""TOML (`+++`) and JSON front matter, as Hugo and Zola editors write it: read to the same
article as YAML, and every mistake reported at its line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.content.front_matter import format_front_matter, split_front_matter
from generator.content.loader import read_content

from conftest import make_project

BODY = "\nOpening paragraph.\n\n<!-- more -->\n\n## Section\n\nMore text.\n"
YAML = (
    """---
title: Three formats
date: 2026-11-10T09:30
authors: [amara]
tags: [feedback, hiring]
---
"""
    + BODY
)
TOML = (
    """+++
title = "Three formats"
date = 2026-11-10T09:30:00
authors = ["amara"]
tags = ["feedback", "hiring"]
+++
"""
    + BODY
)
JSON = (
    """{
  "title": "Three formats",
  "date": "2026-11-10T09:30",
  "authors": ["amara"],
  "tags": ["feedback", "hiring"]
}
"""
    + BODY
)


def read(tmp_path: Path, text: str) -> tuple[list, list[str]]:
    project = make_project(tmp_path / "p", {"2026-11-10-formats.md": text})
    _, articles, problems = read_content(project)
    mine = [a for a in articles if a.source.name == "2026-11-10-formats.md"]
    return mine, [p.format() for p in problems if "formats.md" in p.path]


@pytest.mark.parametrize("text", [TOML, JSON], ids=["toml", "json"])
def test_toml_and_json_front_matter_give_the_article_yaml_gives(tmp_path: Path, text: str):
    (expected,), none = read(tmp_path / "yaml", YAML)
    (article,), problems = read(tmp_path / "other", text)
    assert none == [] and problems == []
    for name in ("title", "published", "authors", "tags", "slug", "body_html", "excerpt_html"):
        assert getattr(article, name) == getattr(expected, name), name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (TOML.replace('title = "Three formats"', 'title = "Three'), ":2:"),
        (
            TOML.replace('tags = ["feedback", "hiring"]', "colour = 'red'"),
            ":5:1: warning: unknown key 'colour'",
        ),
        (
            TOML.replace("date = 2026-11-10T09:30:00", 'date = "2026-02-30"'),
            ":3:8: date: '2026-02-30' is not a real date",
        ),
        (JSON.replace('"authors": ["amara"],', '"authors": ["amara"]'), ":5:3: JSON syntax error"),
        (
            JSON.replace('"authors": ["amara"]', '"authors": ["nobody"]'),
            ":4:14: authors: unknown author 'nobody'",
        ),
        (
            TOML.replace("+++\n\nOpening", "\nOpening"),
            ":1:1: front matter is not closed (add a '+++' line)",
        ),
    ],
    ids=[
        "toml-syntax",
        "toml-unknown-key",
        "toml-bad-date",
        "json-syntax",
        "json-author",
        "toml-unclosed",
    ],
)
def test_toml_and_json_mistakes_are_reported_at_their_place(
    tmp_path: Path, text: str, expected: str
):
    _, problems = read(tmp_path, text)
    assert any(expected in line for line in problems), problems
    assert all(line.startswith("content/posts/2026-11-10-formats.md:") for line in problems)


def test_written_front_matter_reads_back_to_the_same_values():
    meta = {"title": 'A "quoted" title: with colon', "tags": ["a", "b"], "draft": True}
    text = format_front_matter(meta, "Body.\n")
    assert text.startswith("---\ntitle: ") and text.endswith("---\n\nBody.\n")
    source, problems = split_front_matter("x.md", text)
    assert problems == [] and source is not None
    assert {k: f.value for k, f in source.fields.items()} == meta
    assert source.body == "\nBody.\n" and source.fields["tags"].key_line == 3


@pytest.mark.parametrize("text", ["---\n---\n\nBody", "+++\n+++\n\nBody", "{\n}\n\nBody"])
def test_the_body_starts_after_the_closing_line_even_when_the_front_matter_is_empty(text: str):
    source, problems = split_front_matter("x.md", text)
    assert problems == [] and source is not None and source.fields == {}
    assert source.body_line == 3 and source.body == "\nBody"
