"""Shared fixtures: scratch copies of the project and a fixed clock."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from generator.subscribers.store import NewSubscriber, SubscriberStore

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# A Monday afternoon: the example content's future-dated article and draft stay hidden.
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

GOOD_ARTICLE = """---
title: Good article
date: 2026-10-01
authors: [amara]
categories: [Teams]
description: A valid article that every scratch project starts with.
---

Opening paragraph.

<!-- more -->

## Section

Body text.
"""


def make_project(dest: Path, posts: dict[str, str] | None = None, examples: bool = False) -> Path:
    """A scratch project: the repository's config, theme and assets, and the given posts."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "mkdocs.yml", dest / "mkdocs.yml")
    shutil.copytree(REPO / "site_config", dest / "site_config")
    shutil.copytree(REPO / "templates", dest / "templates")
    content = dest / "content"
    shutil.copytree(REPO / "content", content, ignore=shutil.ignore_patterns("posts"))
    (content / "posts").mkdir()
    if examples:
        shutil.copytree(REPO / "content" / "posts", content / "posts", dirs_exist_ok=True)
    for name, text in (posts or {}).items():
        (content / "posts" / name).write_text(text, encoding="utf-8")
    return dest


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project", {"2026-10-01-good-article.md": GOOD_ARTICLE})


@pytest.fixture
def example_project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "example", examples=True)


@pytest.fixture(scope="session")
def built_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example content built once, at the fixed clock, for read-only structural tests."""
    from generator.site.build import build_all
    from generator.site.options import BuildOptions

    root = make_project(tmp_path_factory.mktemp("built") / "example", examples=True)
    build_all(root, BuildOptions(now=NOW))
    return root / "site"


@pytest.fixture(scope="session")
def browser():
    from browser import chromium

    with chromium() as instance:
        yield instance


@pytest.fixture(scope="session")
def site_url(built_example: Path):
    from browser import serve_directory

    with serve_directory(built_example) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_server():
    from postgres import postgres_cluster

    with postgres_cluster() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same tests run against a SQLite file and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'subscribers.sqlite3'}"
    from postgres import create_database

    return create_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def store(database_url: str, tmp_path: Path):
    from generator.subscribers.store import SubscriberStore

    opened = SubscriberStore.open(database_url, tmp_path)
    yield opened
    opened.close()


# A send of the example site's 2026-11-28 digest (send moment 07:00 London time).
KEY = "send-test-signing-key-0123456789"
SATURDAY = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)  # two hours after the 07:00 send moment
ISSUE = "2026-11-28"


def addresses(count: int) -> list[str]:
    return [f"reader{i:05}@example.com" for i in range(count)]


@pytest.fixture
def mail_project(tmp_path: Path, database_url: str):
    """The example site with `count` active subscribers; quick retries for tests."""
    root = make_project(tmp_path / "project", examples=True)
    config = root / "site_config" / "site.yml"
    text = config.read_text(encoding="utf-8").replace("retry_delay: 30", "retry_delay: 0.05")
    config.write_text(text.replace("pause_after: 25", "pause_after: 8"), encoding="utf-8")
    store = SubscriberStore.open(database_url, root)

    def populate(count: int) -> SubscriberStore:
        store.add_many([NewSubscriber(a) for a in addresses(count)], SATURDAY)
        return store

    yield root, database_url, populate
    store.close()


def pem(key) -> str:
    """A private key as PKCS#8 PEM text, as an operator puts it in PRESS_DKIM_PRIVATE_KEY."""
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="module")
def keys():
    """A DKIM RSA 2048 key and an Ed25519 key."""
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    return rsa.generate_private_key(65537, 2048), ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def key_env(keys) -> dict[str, str]:
    return {"PRESS_DKIM_PRIVATE_KEY": pem(keys[0]) + pem(keys[1])}
