"""`press new` writes a valid draft and never overwrites."""

from __future__ import annotations

from pathlib import Path

from test_check_errors import run_press


def test_new_article_is_valid_and_named(project: Path) -> None:
    result = run_press(
        project,
        "new",
        "Lead With Questions",
        "--author",
        "daniel",
        "--category",
        "Growth",
        env={"SOURCE_DATE_EPOCH": "1795000000"},
    )
    assert result.returncode == 0, result.stderr
    path = project / "content" / "posts" / "2026-11-18-lead-with-questions.md"
    text = path.read_text(encoding="utf-8")
    assert "title: Lead With Questions" in text and "draft: true" in text
    assert "authors:\n- daniel" in text and "<!-- more -->" in text
    check = run_press(project, "check", "--strict")
    assert check.returncode == 0, check.stderr


def test_new_refuses_to_overwrite(project: Path) -> None:
    env = {"SOURCE_DATE_EPOCH": "1795000000"}
    assert run_press(project, "new", "Same", env=env).returncode == 0
    path = project / "content" / "posts" / "2026-11-18-same.md"
    path.write_text(path.read_text() + "\nEdited by hand.\n")
    again = run_press(project, "new", "Same", env=env)
    assert again.returncode == 1 and "already exists" in again.stderr
    assert "Edited by hand." in path.read_text()


def test_new_rejects_unknown_author(project: Path) -> None:
    result = run_press(project, "new", "X", "--author", "nobody")
    assert result.returncode == 2 and "unknown author 'nobody'" in result.stderr
