"""The README documents every command, and opens with the two commands CI relies on."""

from __future__ import annotations

from generator.cli.main import main

from conftest import REPO


def test_every_command_is_documented() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in main.commands:
        assert f"### `press {name}" in readme, f"press {name} is missing from README.md"


def test_readme_opens_with_the_two_commands_and_ci_runs_the_second() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("```sh") + 1
    setup, tests = lines[start], lines[start + 1]
    assert lines[start + 2] == "```"
    assert "press build" in setup and "press digest" in setup
    assert tests in (REPO / ".ci" / "run").read_text(encoding="utf-8")
