"""The one place press goes beyond MkDocs' documented plugin API.

Everything else (files, pages, navigation, templates, search) goes through MkDocs' plugin
events and public structures. These do not, and each is named in `SEAM`, so that
`tests/test_mkdocs_seam.py` fails with the name an installed MkDocs no longer has:
- `mkdocs.commands.build._build_page`: the page loop's step, recorded and replayed by the live
  preview (built_pages.py) and spread across processes by `press build --jobs` (parallel_pages);
- `mkdocs.commands.build._populate_page`: a page read again after an edit (live preview);
- `mkdocs.commands.build._build_theme_template`: the sitemap written again after articles
  moved between the pages of an unchanged plan (live preview: their dates are in it);
- `mkdocs.utils.clean_directory`: skipped when the preview writes only what changed;
- the `plugin_cache` of the `plugins` option: MkDocs shares plugin instances across loads of
  a configuration within a process, which a second build must not;
- the search plugin's list of entries (`entries`, or MkDocs' own `_entries`): kept per page.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

SEAM: tuple[tuple[str, str], ...] = (
    ("mkdocs.commands.build", "_build_page"),
    ("mkdocs.commands.build", "_populate_page"),
    ("mkdocs.commands.build", "_build_theme_template"),
    ("mkdocs.utils", "clean_directory"),
    ("mkdocs.config.defaults:MkDocsConfig.plugins", "plugin_cache"),
)


def missing_names() -> list[str]:
    """The names of SEAM this MkDocs lacks, as `module.attribute`."""
    missing = []
    for owner, name in SEAM:
        if not hasattr(_resolve(owner), name):
            missing.append(f"{owner.replace(':', '.')}.{name}")
    return missing


def _resolve(owner: str) -> Any:
    module, _, path = owner.partition(":")
    found: Any = importlib.import_module(module)
    for part in filter(None, path.split(".")):
        found = getattr(found, part)
    return found


_replaced: list[Callable[..., None]] = []  # MkDocs' own page writer while page_loop_calls runs


def build_page(*args: Any, **kwargs: Any) -> None:
    """MkDocs writes one page (what its build loop does for each), even while its loop calls
    a replacement."""
    import mkdocs.commands.build as mkdocs_build

    (_replaced[0] if _replaced else mkdocs_build._build_page)(*args, **kwargs)


def populate_page(page: Any, config: Any, files: Any) -> None:
    """MkDocs reads a page again: its source, Markdown events and render."""
    import mkdocs.commands.build as mkdocs_build

    mkdocs_build._populate_page(page, config, files)


def build_theme_template(name: str, env: Any, files: Any, config: Any, nav: Any) -> None:
    """MkDocs writes one of the theme's own templates (`sitemap.xml`, with its .gz) again."""
    import mkdocs.commands.build as mkdocs_build

    mkdocs_build._build_theme_template(name, env, files, config, nav)


@contextmanager
def page_loop_calls(replacement: Callable[..., None]) -> Iterator[Callable[..., None]]:
    """MkDocs' build loop calls `replacement` instead of writing each page; yields MkDocs' own
    page writer."""
    import mkdocs.commands.build as mkdocs_build

    original: Callable[..., None] = mkdocs_build._build_page
    mkdocs_build._build_page = replacement  # type: ignore[assignment]
    _replaced.insert(0, _replaced[0] if _replaced else original)
    try:
        yield original
    finally:
        _replaced.pop(0)
        mkdocs_build._build_page = original  # type: ignore[assignment]


@contextmanager
def site_not_emptied() -> Iterator[None]:
    """MkDocs' build without its emptying of the site folder first."""
    import mkdocs.utils

    clean = mkdocs.utils.clean_directory
    mkdocs.utils.clean_directory = lambda directory: None  # type: ignore[assignment]
    try:
        yield
    finally:
        mkdocs.utils.clean_directory = clean  # type: ignore[assignment]


@contextmanager
def own_plugins(cache: dict[str, Any]) -> Iterator[None]:
    """While a configuration loads, its plugins come from and go to `cache`, not the cache
    MkDocs keeps on its config schema for the whole process (a second build in one process
    would get the first build's plugins after their `on_shutdown`)."""
    from mkdocs.config.defaults import MkDocsConfig

    option = MkDocsConfig.plugins
    shared, option.plugin_cache = option.plugin_cache, cache
    try:
        yield
    finally:
        option.plugin_cache = shared


def search_entries(config: Any) -> list[dict[str, Any]] | None:
    """The list the search plugin (MkDocs' or Material's) adds each page's entries to; None
    when a plugin keeps an index this module does not know, so pages stay in one process."""
    lists = []
    for plugin in config.plugins.values():
        index = getattr(plugin, "search_index", None)
        if index is None:
            continue
        found = getattr(index, "entries", getattr(index, "_entries", None))
        if not isinstance(found, list):
            return None
        lists.append(found)
    if len(lists) > 1:
        return None
    return lists[0] if lists else []
