"""The package layering holds: third-party frameworks stay in their package, and no package
imports one above it (content ← feeds, digest, subscribers ← blog, delivery ← site, service,
deliverability ← cli).

Imports are read from the source (ast), including those inside functions, so a lazy import
cannot slip past.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "generator"

# Higher numbers may import lower ones; packages of one rank are peers and import none of each
# other. The top-level modules (clock, tokens, atomic, rate_limit, errors) are the foundation.
RANKS = {
    "content": 1,
    "feeds": 2,
    "digest": 2,
    "subscribers": 2,
    "blog": 3,
    "delivery": 3,
    "site": 4,
    "service": 4,
    "deliverability": 4,
    "cli": 5,
}
# A framework may be imported only inside these packages.
CONFINED = {
    "mkdocs": {"site"},
    "material": {"site"},
    "sqlalchemy": {"subscribers", "delivery"},
    "psycopg": {"subscribers", "delivery"},
    "starlette": {"service"},
    "dns": {"deliverability"},
}


def package_of(path: Path, root: Path) -> str:
    """The capability package a module belongs to ('' for the top-level foundation)."""
    parts = path.relative_to(root).parts
    if parts == ("__main__.py",):
        return "cli"  # `python -m generator` is the command line's other door
    return parts[0] if len(parts) > 1 else ""


def imported_names(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def layering_violations(root: Path = PACKAGE) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.py")):
        own = package_of(path, root)
        for line, name in imported_names(path):
            where = f"{path.relative_to(root.parent)}:{line}: imports {name}"
            top = name.split(".")[0]
            if top in CONFINED and own not in CONFINED[top]:
                problems.append(f"{where} ({top} belongs in {', '.join(sorted(CONFINED[top]))})")
            if top != "generator" or name == "generator":
                continue
            target = name.split(".")[1]
            if target not in RANKS or target == own:
                continue  # the foundation, or its own package
            if own == "" or RANKS[target] >= RANKS[own]:
                problems.append(f"{where} (a {own or 'foundation'} module may not import it)")
    return problems


def test_packages_import_only_downwards_and_frameworks_stay_put() -> None:
    assert layering_violations() == []


def test_every_package_says_what_it_owns() -> None:
    for package in RANKS:
        doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text()))
        assert doc and len(doc.split()) >= 15, f"generator/{package}/__init__.py needs a docstring"
    top_level = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top_level) <= 7, top_level


@pytest.mark.parametrize(
    ("module", "source", "complaint"),
    [
        ("content/x.py", "from generator.site.build import build_all\n", "content module"),
        ("feeds/x.py", "import generator.digest.render\n", "feeds module"),
        ("content/x.py", "def f():\n    import mkdocs.config\n", "mkdocs belongs in site"),
        ("cli/x.py", "from sqlalchemy import select\n", "sqlalchemy belongs in"),
        ("delivery/x.py", "from starlette.requests import Request\n", "starlette belongs"),
        ("clock2.py", "from generator.content.articles import Article\n", "foundation"),
    ],
)
def test_the_checker_catches_each_kind_of_violation(
    tmp_path: Path, module: str, source: str, complaint: str
) -> None:
    root = tmp_path / "generator"
    path = root / module
    path.parent.mkdir(parents=True)
    path.write_text(source)
    problems = layering_violations(root)
    assert len(problems) == 1 and complaint in problems[0], problems
