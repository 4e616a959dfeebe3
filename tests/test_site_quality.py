"""The built site passes the Nu Html Checker and axe-core (in headless Chromium)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import REPO

VNU = REPO / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"


def nu_errors(paths: list[Path]) -> list[dict]:
    result = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--format", "json", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return json.loads(result.stderr or '{"messages": []}')["messages"]


def test_nu_html_checker_finds_no_errors(built_example: Path) -> None:
    pages = sorted(built_example.rglob("*.html"))
    assert len(pages) > 20
    assert nu_errors(pages) == []


def test_nu_html_checker_does_catch_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text("<!doctype html><html lang=en><title>x</title><p><div></p>")
    assert nu_errors([bad]), (
        "the checker must report broken markup, or the test above proves nothing"
    )


def axe_violations(page, url: str, axe: str) -> list[tuple[str, str, str]]:
    page.goto(url)
    page.add_script_tag(content=axe)
    found = page.evaluate(
        "async () => (await axe.run(document)).violations"
        ".map(v => [v.id, v.impact, v.nodes.map(n => n.target.join(' ')).join(', ')])"
    )
    return [tuple(v) for v in found if v[1] in ("serious", "critical")]


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_violations(built_example: Path, browser, site_url: str, scheme: str):
    page = browser.new_page()
    page.emulate_media(color_scheme=scheme)
    paths = one_page_of_each_kind_and_every_post(built_example)
    # The 404 page, and an archived email on its own (axe does not enter the frame).
    paths += ["404.html", "newsletter/2026-11-21/email.html"]
    axe = AXE.read_text(encoding="utf-8")
    problems = {}
    for rel in paths:
        url = rel if rel.endswith(".html") else ("" if rel == "." else rel + "/")
        found = axe_violations(page, site_url + url, axe)
        if found:
            problems[rel] = found
    page.close()
    assert len(paths) > 15 and problems == {}


def one_page_of_each_kind_and_every_post(site: Path) -> list[str]:
    """Every post (their bodies differ), and the first of the other pages of each kind (they
    share one template and differ only in the titles they list)."""
    paths = sorted(p.parent.relative_to(site).as_posix() for p in site.rglob("index.html"))
    kept, kinds = [], set()
    for rel in paths:
        parts = rel.split("/")
        kind = (parts[0], len(parts), "page" in parts)
        if parts[0] == "posts" or kind not in kinds:
            kept.append(rel)
            kinds.add(kind)
    return kept
