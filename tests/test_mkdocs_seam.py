"""The one seam into MkDocs: each name it relies on is present in the installed MkDocs, a
missing one is reported by name, and no other module reaches past the documented API."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import mkdocs.commands.build
import pytest

from generator.site.mkdocs_seam import SEAM, missing_names

PACKAGE = Path(__file__).resolve().parents[1] / "generator"


def test_the_installed_mkdocs_has_every_name_the_seam_uses():
    assert missing_names() == []


def test_a_release_without_one_of_them_is_reported_by_name(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delattr(mkdocs.commands.build, "_populate_page")
    assert missing_names() == ["mkdocs.commands.build._populate_page"]


def test_no_other_module_uses_those_names_or_material_or_a_private_mkdocs_name():
    seam_names = {name for _, name in SEAM}
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "mkdocs_seam.py":
            continue
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in seam_names:
                offenders.append(f"{path.name}:{node.lineno}: {node.attr}")
            if isinstance(node, ast.ImportFrom | ast.Import):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                names += [a.name for a in node.names]
                if any(n == "material" or n.startswith("material.") for n in names):
                    offenders.append(f"{path.name}:{node.lineno}: imports Material")
        for match in re.finditer(r"\bmkdocs(?:\.\w+)*\._[a-z]\w*", text):
            offenders.append(f"{path.name}: {match.group()}")
    assert offenders == []
