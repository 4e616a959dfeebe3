"""No traceback, ever, for user input: every command, given bad arguments, files, URLs and
environments, says what is wrong in a line, exits non-zero and loses nothing (the last good
site and every subscriber stay as they were)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from generator.subscribers.store import NewSubscriber, SubscriberStore

from conftest import NOW, SATURDAY, make_project
from test_check_errors import run_press

KEY = "bad-input-signing-key-0123456789"


def edit(path: str, old: str, new: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        target = root / path
        target.write_text(target.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")

    return change


def write(path: str, data: bytes) -> Callable[[Path], None]:
    def create(root: Path) -> None:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)

    return create


def remove(path: str) -> Callable[[Path], None]:
    return lambda root: (root / path).unlink()


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    says: str  # part of the one line that explains it
    env: dict[str, str] = field(default_factory=dict)
    setup: Callable[[Path], None] | None = None


LATIN1 = "email,source\nbjörn@example.com,messe\n".encode("latin-1")
CASES = [
    # content and site_config/
    Case(
        "bad-front-matter",
        ("build",),
        "problem(s) found",
        setup=write("content/posts/2026-11-02-bad.md", b"---\ntitle: [\n---\nx\n"),
    ),
    Case(
        "site-yml-missing",
        ("build",),
        "site_config/site.yml:1:1: file is missing",
        setup=remove("site_config/site.yml"),
    ),
    Case(
        "site-yml-not-yaml",
        ("check",),
        "YAML syntax error",
        setup=write("site_config/site.yml", b"name: [unclosed\n"),
    ),
    Case(
        "endpoint-not-url",
        ("build",),
        "endpoint: 'not a url' is not an absolute http(s) URL",
        setup=edit(
            "site_config/site.yml",
            "endpoint: https://subscribe.leadership-press.example.org/subscribe",
            "endpoint: not a url",
        ),
    ),
    Case(
        "from-not-address",
        ("digest",),
        "from_address: 'not-an-address' is not an email",
        setup=edit(
            "site_config/site.yml",
            "from_address: digest@leadership-press.example.org",
            "from_address: not-an-address",
        ),
    ),
    Case(
        "unknown-timezone",
        ("check",),
        "timezone: 'Mars/Base' is not a known time zone",
        setup=edit("site_config/site.yml", "timezone: Europe/London", "timezone: Mars/Base"),
    ),
    Case(
        "authors-not-mapping",
        ("check",),
        "authors.yml:1:1: the file must be a mapping of keys to values, not a list",
        setup=write("site_config/authors.yml", b"- just a list\n"),
    ),
    Case(
        "mkdocs-yml-missing",
        ("build",),
        "mkdocs.yml:1:1: file is missing",
        setup=remove("mkdocs.yml"),
    ),
    Case(
        "mkdocs-yml-not-yaml",
        ("build",),
        "mkdocs.yml:2:1: YAML syntax error",
        setup=write("mkdocs.yml", b"site_name: [\n"),
    ),
    Case(
        "theme-template-broken",
        ("build",),
        "build failed, previous site kept",
        setup=write("templates/theme/main.html", b"{% extends 'base.html' %}{% block x %}"),
    ),
    Case(
        "not-utf8-article",
        ("build",),
        "not valid UTF-8",
        setup=write("content/posts/2026-11-02-latin.md", "---\ntitle: é\n".encode("latin-1")),
    ),
    # press build / serve / new / digest arguments
    Case("out-in-proc", ("build", "--out", "/proc/x"), "cannot write the site to /proc/x"),
    Case("out-is-a-file", ("build", "--out", "mkdocs.yml"), "mkdocs.yml is a file"),
    Case("out-is-the-content", ("build", "--out", "content"), "inside the project's sources"),
    Case("out-is-the-project", ("build", "--out", "."), "holds the project itself"),
    Case(
        "out-not-a-site",
        ("build", "--out", "var"),
        "holds no earlier build",
        setup=write("var/notes.txt", b"keep me"),
    ),
    Case("serve-port-too-big", ("serve", "--port", "70000"), "not in the range 1<=x<=65535"),
    Case("serve-port-negative", ("serve", "--port", "-1"), "not in the range"),
    Case("serve-port-text", ("serve", "--port", "http"), "is not a valid integer range"),
    Case("digest-not-saturday", ("digest", "--date", "2026-11-22"), "is not a digest day"),
    Case("digest-impossible-date", ("digest", "--date", "2026-02-30"), "does not match"),
    Case("digest-words", ("digest", "--date", "yesterday"), "does not match the format"),
    Case(
        "digest-out-in-proc",
        ("digest", "--date", "2026-11-21", "--out", "/proc/x"),
        "No such file or directory",
    ),
    Case("new-empty-title", ("new", ""), "has no letter or digit"),
    Case("new-no-letters", ("new", "???"), "has no letter or digit"),
    Case("new-unknown-author", ("new", "X", "--author", "nobody"), "unknown author 'nobody'"),
    Case("new-unknown-category", ("new", "X", "--category", "Nope"), "'Nope' is not one of"),
    # press send
    Case(
        "send-port-out-of-range",
        ("send", "--transport", "smtp://127.0.0.1:99999"),
        "Port out of range",
    ),
    Case("send-unknown-scheme", ("send", "--transport", "ftp://x"), "is not a transport"),
    Case(
        "send-password-in-url",
        ("send", "--transport", "smtp://u:secret@127.0.0.1:25"),
        "put the SMTP password in PRESS_SMTP_PASSWORD",
    ),
    Case(
        "send-closed-port",
        ("send", "--no-verify-live", "--transport", "smtp://127.0.0.1:1"),
        "cannot connect to 127.0.0.1:1",
    ),
    Case(
        "send-bad-timeout",
        ("send", "--transport", "smtp://127.0.0.1:25?timeout=soon"),
        "could not convert string to float",
    ),
    Case("send-not-saturday", ("send", "--date", "2026-11-22"), "is not a digest day"),
    Case("send-zero-rate", ("send", "--rate", "0"), "is not in the range"),
    Case("send-negative-limit", ("send", "--limit", "-1"), "is not in the range"),
    Case("send-too-many-connections", ("send", "--connections", "1000"), "is not in the range"),
    Case("send-without-key", ("send",), "set PRESS_SIGNING_KEY", env={"PRESS_SIGNING_KEY": ""}),
    Case(
        "send-maildir-in-proc",
        ("send", "--no-verify-live", "--transport", "maildir:/proc/x"),
        "No such file or directory",
    ),
    Case(
        "send-wrong-fingerprint",
        ("send", "--no-verify-live", "--expect", "0123456789ab"),
        "not 0123456789ab",
    ),
    Case(
        "send-pages-not-live",
        ("send", "--transport", "smtp://127.0.0.1:1"),
        "127.0.0.1:9/posts/quiet-voices-in-loud-rooms/ (",
        setup=edit(
            "site_config/site.yml",
            "url: https://leadership-press.example.org/",
            "url: http://127.0.0.1:9/",
        ),
    ),
    Case("send-late-date-format", ("send", "--date", "28/11/2026"), "does not match"),
    # databases
    Case(
        "database-not-a-url",
        ("subscribers", "count"),
        "is not a database URL",
        env={"PRESS_DATABASE_URL": "not a url"},
    ),
    Case(
        "database-unsupported",
        ("subscribers", "count"),
        "unsupported database 'mysql'",
        env={"PRESS_DATABASE_URL": "mysql://x@localhost/db"},
    ),
    Case(
        "database-in-memory",
        ("subscribers", "count"),
        "in-memory SQLite",
        env={"PRESS_DATABASE_URL": "sqlite:///:memory:"},
    ),
    Case(
        "database-corrupt",
        ("subscribers", "count"),
        "cannot open the subscriber database",
        env={"PRESS_DATABASE_URL": "sqlite:///var/corrupt.sqlite3"},
        setup=write("var/corrupt.sqlite3", b"this is not a database" * 100),
    ),
    Case(
        "database-refused",
        ("subscribers", "count"),
        "cannot open the subscriber database",
        env={"PRESS_DATABASE_URL": "postgresql+psycopg://press@127.0.0.1:9/none"},
    ),
    Case(
        "database-in-proc",
        ("subscribers", "count"),
        "No such file or directory",
        env={"PRESS_DATABASE_URL": "sqlite:////proc/x/subscribers.sqlite3"},
    ),
    # CSV files and subscriber arguments
    Case(
        "import-missing-file",
        ("subscribers", "import", "nowhere.csv"),
        "nowhere.csv:1:1: cannot read the file: [Errno 2] No such file or directory",
    ),
    Case(
        "import-latin1",
        ("subscribers", "import", "latin1.csv"),
        "cannot read the file",
        setup=write("latin1.csv", LATIN1),
    ),
    Case(
        "import-binary",
        ("subscribers", "import", "picture.csv"),
        "cannot read the file",
        setup=write("picture.csv", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe"),
    ),
    Case(
        "import-no-email-column",
        ("subscribers", "import", "names.csv"),
        "no 'email' column",
        setup=write("names.csv", b"name\nAnn\n"),
    ),
    Case("import-directory", ("subscribers", "import", "content"), "is a directory"),
    Case(
        "import-bad-rows",
        ("subscribers", "import", "rows.csv"),
        "invalid row(s); nothing",
        setup=write("rows.csv", b"email,status\nnot-an-address,active\nok@example.com,sleeping\n"),
    ),
    Case(
        "export-in-proc", ("subscribers", "export", "/proc/x/out.csv"), "No such file or directory"
    ),
    Case("add-bad-address", ("subscribers", "add", "not-an-address"), "'not-an-address'"),
    Case("remove-unknown", ("subscribers", "remove", "nobody@example.com"), "is not a subscriber"),
    Case("list-unknown-status", ("subscribers", "list", "--status", "sleeping"), "'sleeping'"),
    # the service
    Case("service-port", ("subscriptions", "serve", "--port", "70000"), "not in the range"),
    Case(
        "service-without-key",
        ("subscriptions", "serve"),
        "set PRESS_SIGNING_KEY",
        env={"PRESS_SIGNING_KEY": ""},
    ),
    Case(
        "service-bad-transport",
        ("subscriptions", "serve", "--transport", "bogus://x"),
        "is not a transport",
    ),
]


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from generator.site.build import build_all
    from generator.site.options import BuildOptions

    root = make_project(tmp_path_factory.mktemp("bad-input") / "built", examples=True)
    build_all(root, BuildOptions(now=NOW))
    return root / "site"


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_gets_one_clear_line_and_loses_nothing(
    case: Case, built_site: Path, tmp_path: Path
) -> None:
    root = make_project(tmp_path / "project", examples=True)
    shutil.copytree(built_site, root / "site")
    store = SubscriberStore.open("sqlite:///var/subscribers.sqlite3", root)
    store.add_many([NewSubscriber(f"kept{i}@example.com") for i in range(3)], NOW)
    before = store.count_by_status()
    site_before = {p: p.read_bytes() for p in (root / "site").rglob("*.html")}
    if case.setup:
        case.setup(root)
    env = {
        "PRESS_SIGNING_KEY": KEY,
        "SOURCE_DATE_EPOCH": str(int(SATURDAY.timestamp())),
        "PRESS_DATABASE_URL": "",
        **case.env,
    }
    result = run_press(root, *case.args, env=env)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output
    assert case.says in output, output
    assert store.count_by_status() == before
    assert {p: p.read_bytes() for p in (root / "site").rglob("*.html")} == site_before
    store.close()


@pytest.mark.parametrize("kind", [RuntimeError, ValueError, KeyError])
def test_a_bug_prints_one_line_and_where_the_full_report_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: type[Exception]
) -> None:
    """Whatever its type: a ValueError from a bug is not the user's mistake."""
    result = _invoke_raising(tmp_path, monkeypatch, kind("a bug, not the user's input"))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert f"unexpected error ({kind.__name__}: " in lines[0]
    reports = list((tmp_path / "var" / "log").glob("press-error-*.txt"))
    assert len(reports) == 1 and str(reports[0]) in lines[0]
    assert "Traceback (most recent call last)" in reports[0].read_text()


def test_a_named_error_is_one_line_and_no_crash_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.subscribers.addresses import InvalidAddress

    result = _invoke_raising(tmp_path, monkeypatch, InvalidAddress("'x' has no @"))
    assert result.exit_code == 1
    assert result.output.strip() == "Error: 'x' has no @"
    assert not (tmp_path / "var" / "log").exists()


def _invoke_raising(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception) -> Any:
    import click
    from click.testing import CliRunner

    from generator.cli.errors import PressGroup

    @click.group(cls=PressGroup)
    def press() -> None:
        pass

    @press.command()
    def explode() -> None:
        raise error

    monkeypatch.chdir(tmp_path)
    return CliRunner().invoke(press, ["explode"])
