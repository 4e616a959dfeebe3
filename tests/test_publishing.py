"""Publishing on time: a build as of a moment holds exactly the articles dated up to it, and the
workflows build on a schedule and send only after a successful build."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import yaml

from conftest import REPO, make_project
from test_check_errors import run_press

# The clocks went back in London at 02:00 BST on 25/10/2026 (01:00 UTC).
BEFORE_CHANGE = """---
title: Before the clocks change
date: 2026-10-25T00:30
authors: [amara]
---

Written in summer time (23:30 UTC the evening before).

<!-- more -->

More.
"""
AFTER_CHANGE = """---
title: After the clocks change
date: 2026-10-25T03:00
authors: [amara]
---

Written in winter time (03:00 UTC).

<!-- more -->

More.
"""


def build_as_of(project: Path, moment: datetime) -> set[str]:
    """Titles in feed.json of a `press build` run with SOURCE_DATE_EPOCH at `moment`."""
    epoch = str(int(moment.timestamp()))
    result = run_press(project, "build", env={"SOURCE_DATE_EPOCH": epoch})
    assert result.returncode == 0, result.stderr
    feed = json.loads((project / "site/feed.json").read_text())
    titles = {item["title"] for item in feed["items"]}
    pages = {p.parent.name for p in (project / "site/posts").glob("*/index.html")}
    assert len(pages) == len(titles)  # the pages agree with the feed
    return titles


def test_a_build_as_of_a_moment_holds_exactly_the_articles_dated_up_to_it(tmp_path: Path):
    project = make_project(
        tmp_path / "p",
        {"2026-10-25-before.md": BEFORE_CHANGE, "2026-10-25-after.md": AFTER_CHANGE},
    )
    before, after = "Before the clocks change", "After the clocks change"
    assert build_as_of(project, datetime(2026, 10, 24, 23, 29, 59, tzinfo=UTC)) == set()
    assert build_as_of(project, datetime(2026, 10, 24, 23, 30, tzinfo=UTC)) == {before}
    # 02:59 UTC is 02:59 GMT: 03:00 wall-clock has not come yet, though it did an hour ago in BST
    assert build_as_of(project, datetime(2026, 10, 25, 2, 59, 59, tzinfo=UTC)) == {before}
    assert build_as_of(project, datetime(2026, 10, 25, 3, 0, tzinfo=UTC)) == {before, after}


def workflow(name: str) -> dict:
    text = (REPO / ".github/workflows" / name).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def test_publish_runs_hourly_and_before_the_send_moment():
    crons = [entry["cron"] for entry in workflow("publish.yml")["on"]["schedule"]]
    assert "0 * * * *" in crons
    # 07:00 London is 06:00 UTC in summer and 07:00 UTC in winter: a run shortly before each
    assert any(re.fullmatch(r"\d+ 5,6 \* \* 6", cron) for cron in crons)


def test_the_digest_is_sent_only_after_a_successful_publish():
    digest = workflow("digest.yml")
    assert digest["on"]["workflow_run"] == {"workflows": ["Publish"], "types": ["completed"]}
    assert "schedule" not in digest["on"]
    condition = digest["jobs"]["send"]["if"]
    assert "conclusion == 'success'" in condition
    scripts = [step.get("run", "") for step in digest["jobs"]["send"]["steps"]]
    assert not any("inputs." in script for script in scripts), "inputs reach the shell via env"
    send = next(s for s in digest["jobs"]["send"]["steps"] if s.get("name") == "Send")
    assert send["env"]["DIGEST_DATE"] == "${{ inputs.date }}"
    assert "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" in send["run"]
