"""The page frame rendered once and the translations looked up once (generator/site/fragments.py)
change no byte of any page."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest

from generator.site import plugin
from generator.site.build import build_all
from generator.site.options import BuildOptions

from conftest import NOW


def links_from(targets: list[str], page: Any) -> tuple[str, ...]:
    """Where a page's links to `targets` lead, as MkDocs writes them."""
    from mkdocs.utils import get_relative_url

    return tuple(get_relative_url(target, page.url) for target in targets)


def files_of(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


def test_the_cached_frame_fragments_and_translations_are_what_each_page_would_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from bench.corpus import make_corpus

    cached = make_corpus(tmp_path / "cached", 24)
    build_all(cached, BuildOptions(now=NOW))
    monkeypatch.setattr(plugin, "frame_key", lambda *args: None)  # every page renders its own
    monkeypatch.setattr(plugin, "header_key", lambda *args: None)
    monkeypatch.setattr(plugin, "config_key", lambda *args: None)
    monkeypatch.setattr(plugin, "shallow_key", lambda *args: None)
    fresh = make_corpus(tmp_path / "fresh", 24)
    (fresh / "templates/theme/partials/language.html").unlink()  # Material's own partial
    build_all(fresh, BuildOptions(now=NOW))
    made, expected = files_of(cached / "site"), files_of(fresh / "site")
    assert made.keys() == expected.keys()
    assert [name for name in made if made[name] != expected[name]] == []
    assert sum(name.endswith(".html") for name in made) >= 45


def test_pages_share_a_navigation_key_only_where_every_link_from_them_is_the_same():
    """The key is worked out from the paths; the links it stands for are MkDocs' own."""
    from types import SimpleNamespace

    from generator.site.fragments import frame_key

    targets = ["", "archive/2026/", "category/teams/", "newsletter/", "about.html", "a/b/c/"]
    items = [SimpleNamespace(url=url, active=False) for url in targets]
    nav = SimpleNamespace(pages=items, homepage=items[0], items=items)
    urls = [
        "posts/one/",
        "posts/two/",
        "category/teams/page/2/",
        "category/people/page/2/",
        "archive/2026/page/3/",
        "archive/2025/",
        "a/b/d/",
        "a/x/",
        "404.html",
        "tag/",
        "newsletter/2026-11-07/",
    ]
    pages = [SimpleNamespace(url=url) for url in urls]
    links = partial(links_from, targets)

    for page in pages:
        for other in pages:
            same_key = frame_key("nav", page, nav) == frame_key("nav", other, nav)
            assert same_key == (links(page) == links(other)), (page.url, other.url)


def test_pages_share_a_shallow_key_only_where_their_links_to_the_root_and_assets_are_the_same():
    from types import SimpleNamespace

    from generator.site.fragments import shallow_key

    targets = ["subscribe/", "newsletter/", "feed.xml", "assets/stylesheets/main.css", ""]
    urls = [
        "",
        "posts/one/",
        "posts/two/",
        "subscribe/",
        "newsletter/",
        "newsletter/2026-11-07/",
        "category/teams/page/2/",
        "archive/2026/page/3/",
        "404.html",
        "feed.xml/",
        "assets/stylesheets/",
    ]
    pages = [SimpleNamespace(url=url) for url in urls]
    links = partial(links_from, targets)

    for page in pages:
        for other in pages:
            key, other_key = shallow_key("f", page), shallow_key("f", other)
            if key is not None and key == other_key:
                assert links(page) == links(other), (page.url, other.url)
    assert shallow_key("f", pages[1]) == shallow_key("f", pages[2])
    assert shallow_key("f", pages[-1]) is None
