"""Every bad article beside the exact error text `press check` must print for it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.content.loader import read_content

from conftest import FIXTURES

BAD = sorted((FIXTURES / "bad").glob("*.md"))


def test_corpus_is_large_enough() -> None:
    assert len(BAD) >= 25


@pytest.mark.parametrize("bad", BAD, ids=[p.stem for p in BAD])
def test_bad_article_reports_exact_problem(bad: Path, project: Path) -> None:
    shutil.copy(bad, project / "content" / "posts" / bad.name)
    _, _, problems = read_content(project)
    expected = bad.with_suffix(".expected-error.txt").read_text(encoding="utf-8").splitlines()
    assert [p.format() for p in sorted(problems)] == expected


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run_press(root: Path, *args: str, env: dict[str, str] | None = None) -> Ran:
    """`press ARGS` in `root`, in this process (Click's CliRunner): what a user would see, its
    exit code, without a Python start per call. `run_press_process` is the real process."""
    from click.testing import CliRunner

    from generator.cli import main

    previous = Path.cwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(
            main, list(args), env={"GITHUB_ACTIONS": "false", **(env or {})}
        )
    finally:
        os.chdir(previous)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))  # a test's bug, shown
    return Ran(result.exit_code, result.stdout, stderr)


def run_press_process(root: Path, *args: str, env: dict[str, str] | None = None):
    """`python -m generator ARGS` as a real process, for the end-to-end runs."""
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GITHUB_ACTIONS": "false", **(env or {})},
    )


@pytest.fixture
def broken_project(project: Path) -> Path:
    for name in (
        "05-duplicate-key.md",
        "09-impossible-date.md",
        "13-unknown-author.md",
        "23-not-utf8.md",
        "27-unknown-key-warning.md",
    ):
        shutil.copy(FIXTURES / "bad" / name, project / "content" / "posts" / name)
    return project


def test_check_reports_every_problem_in_one_pass(broken_project: Path) -> None:
    result = run_press_process(broken_project, "check")  # end to end: the real command
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert any(line.startswith("content/posts/05-duplicate-key.md:5:1: ") for line in lines)
    assert any(line.startswith("content/posts/09-impossible-date.md:3:7: ") for line in lines)
    assert any(line.startswith("content/posts/13-unknown-author.md:4:10: ") for line in lines)
    assert any(line.startswith("content/posts/23-not-utf8.md:2:11: ") for line in lines)
    assert "warning: unknown key 'catgories'" in result.stderr
    assert "4 error(s), 1 warning(s)" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_emits_github_annotations(broken_project: Path) -> None:
    result = run_press(broken_project, "check", env={"GITHUB_ACTIONS": "true"})
    assert "::error file=content/posts/13-unknown-author.md,line=4,col=10::" in result.stderr
    assert "::warning file=content/posts/27-unknown-key-warning.md,line=5,col=1::" in result.stderr


def test_warnings_pass_unless_strict(project: Path) -> None:
    shutil.copy(FIXTURES / "bad" / "28-missing-excerpt-warning.md", project / "content" / "posts")
    assert run_press(project, "check").returncode == 0
    strict = run_press(project, "check", "--strict")
    assert strict.returncode == 1
    assert "28-missing-excerpt-warning.md:7:1: no excerpt separator" in strict.stderr


def test_check_reports_bad_configuration(project: Path) -> None:
    site_yml = project / "site_config" / "site.yml"
    text = site_yml.read_text().replace("Europe/London", "Mars/Olympus")
    site_yml.write_text(text)
    line = text.splitlines().index("timezone: Mars/Olympus") + 1
    result = run_press(project, "check")
    assert result.returncode == 1
    expected = f"site_config/site.yml:{line}:11: timezone: 'Mars/Olympus' is not a known time zone"
    assert expected in result.stderr


def test_build_refuses_bad_content_without_traceback(broken_project: Path) -> None:
    result = run_press(broken_project, "build")
    assert result.returncode == 1
    assert "content/posts/13-unknown-author.md:4:10:" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (broken_project / "site").exists()


def test_good_project_checks_clean(project: Path) -> None:
    result = run_press(project, "check", "--strict")
    assert result.returncode == 0, result.stderr
    assert "1 article(s) checked" in result.stdout
