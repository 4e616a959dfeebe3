"""The page frame rendered once: Material's navigation and tabs are nearly the same on every
page, so the theme renders them once per distinct output and reuses the HTML.

`{% cache key %}…{% endcache %}` (a Jinja extension, the fragment cache of Jinja's own
documentation) keeps what its body rendered under `key` for one build; a key of None renders
the body every time. `frame_key(page, nav)` is such a key for the navigation and the tabs: what
they show depends only on where each of their links points from this page and on which items
are active, so pages that agree on both get the same HTML (worked out from the paths, without
writing each link for each page: that was 5% of writing the pages at 1,000 articles). A page
that is itself in the navigation shows its table of contents there: it gets no key.
`header_key` does the same for the header, whose only per-page parts are two relative links
and the title, which `Titled` fills into the one rendering; `config_key` for Material's
settings script, which depends on the page only through the relative URL of the site's root;
`shallow_key` for the stylesheets, the scripts, the back-to-top button and the footer's
publication links, which link only to the site's root folder and to assets/.

`Translations` is Material's `t(key)` for the theme's `partials/language.html`: Material's
partial imports two language templates on every page and builds their whole table for each
key; the override asks this object, which looks each key up once per build (about 8% of a
list page's rendering at 1,000 articles, measured in one process, pages alternating).
"""

from __future__ import annotations

import posixpath
from functools import lru_cache
from typing import Any, ClassVar

from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.parser import Parser
from mkdocs.structure.nav import Navigation, Section
from mkdocs.utils import get_relative_url


class FragmentCache(Extension):
    tags: ClassVar[set[str]] = {"cache"}

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        environment.extend(press_fragments={})

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        key = parser.parse_expression()
        body = parser.parse_statements(("name:endcache",), drop_needle=True)
        call = self.call_method("_cached", [key])
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _cached(self, key: Any, caller: Any) -> str:
        if key is None:
            return str(caller())
        fragments: dict[Any, str] = self.environment.press_fragments  # type: ignore[attr-defined]
        made = fragments.get(key)
        if made is None:
            made = fragments[key] = str(caller())
        return made


class Translations:
    """Material's `t(key)` (partials/language.html): the theme language's text for `key`,
    else English's, else the key, from Material's own language templates; each key is
    looked up once per build, not on every page."""

    def __init__(self, env: Any, language: str) -> None:
        self.env, self.language = env, language
        self.known: dict[str, str] = {}

    def __call__(self, key: str) -> str:
        found = self.known.get(key)
        if found is None:
            found = self.known[key] = str(self._look_up(key))
        return found

    def _look_up(self, key: str) -> str:
        chosen = self.env.get_template(f"partials/languages/{self.language}.html")
        english = self.env.get_template("partials/languages/en.html")
        return str(chosen.module.t(key)) or str(english.module.t(key)) or key


def forget_fragments(env: Any) -> None:
    """A new build: nothing rendered before stands (the navigation may differ)."""
    env.press_fragments = {}


def frame_key(name: str, page: Any, nav: Navigation | None) -> tuple[Any, ...] | None:
    """The key of fragment `name` (the navigation, the tabs) on `page`; None: render it.

    A link from the page to a navigation item is `..` once per folder of the page below the
    part of the path they share, then the rest of the item's path (MkDocs'
    `get_relative_url`): so the page's depth and the length of what it shares with each item
    decide every link, and pages that agree on these get the same links."""
    if page is None or nav is None or page in nav.pages:
        return None
    here = _folder_parts(page.url)
    shared = tuple(_shared(here, _path_parts(p.url)) for p in nav.pages)
    home = _shared(here, _path_parts(nav.homepage.url)) if nav.homepage is not None else None
    return (name, len(here), shared, home, tuple(_active(nav.items)))


@lru_cache(maxsize=16384)
def _folder_parts(url: str) -> tuple[str, ...]:
    """The folders of a page's URL, as `get_relative_url` reads its second argument."""
    folder, _, last = url.rpartition("/")
    return _path_parts(folder if "." in last else url)


@lru_cache(maxsize=16384)
def _path_parts(path: str) -> tuple[str, ...]:
    """`path` normalised and split, as `get_relative_url` does it."""
    normal = posixpath.normpath(path if path.startswith("/") else "/" + path)[1:]
    return tuple(normal.split("/")) if normal else ()


def _shared(here: tuple[str, ...], there: tuple[str, ...]) -> int:
    count = 0
    for a, b in zip(here, there, strict=False):  # up to the shorter
        if a != b:
            break
        count += 1
    return count


def header_key(page: Any, nav: Navigation | None, config: Any) -> tuple[Any, ...] | None:
    """The key of Material's header on `page`: the same on every page that reaches the home
    page and logo by the same relative URLs; the page's title is filled in (`Titled`).
    Sticky tabs, which live in the header, are not cached with it."""
    if page is None or nav is None or "navigation.tabs.sticky" in config.theme.get("features", ()):
        return None
    here = page.url
    home = config.extra.get("homepage") or (nav.homepage.url if nav.homepage else "")
    logo = config.theme.get("logo")
    # The home page's URL is often "": relative to the page, it still names the page's depth.
    return (
        "header",
        get_relative_url(home, here),
        get_relative_url(logo, here) if logo else None,
    )


class Titled:
    """`{% call press_titled(key, page) %}…{% endcall %}`: a fragment that shows the page's
    title (Material's header: `page.meta.title`, else `page.title`), rendered once per key
    with a placeholder title and filled in for each page. A fragment that does not show the
    placeholder (a theme that writes the title otherwise) is rendered on every page."""

    PLACEHOLDER = "\x00press:page-title\x00"

    def __init__(self, env: Any) -> None:
        self.env = env

    def __call__(self, key: Any, page: Any, caller: Any) -> str:
        if key is None:
            return str(caller())
        fragments: dict[Any, str | None] = self.env.press_fragments
        if key not in fragments:
            made = self._with_placeholder(page, caller)
            fragments[key] = made if self.PLACEHOLDER in made else None
        made = fragments[key]
        if made is None:
            return str(caller())
        return made.replace(self.PLACEHOLDER, str(_title(page)))

    def _with_placeholder(self, page: Any, caller: Any) -> str:
        meta = page.meta  # put back as it was: the page's own metadata is not changed
        page.meta = {**(meta or {}), "title": self.PLACEHOLDER}
        try:
            return str(caller())
        finally:
            page.meta = meta


def _title(page: Any) -> Any:
    return page.meta["title"] if page.meta and page.meta.get("title") else page.title


def config_key(page: Any, base_url: str) -> tuple[str, str] | None:
    """The key of Material's `__config` script: the site's settings and translations, the
    site root relative to the page (`base_url`) and the search worker's URL under assets/,
    which is the root's URL and the worker's path for any page that is not under assets/."""
    if page is None or page.url.startswith("assets/"):
        return None
    return ("config", base_url)


def shallow_key(name: str, page: Any) -> tuple[str, int, str] | None:
    """The key of fragment `name` when it depends on the page only through its links to
    paths one folder deep ('subscribe/', 'feed.xml') or under assets/ (the theme's files).
    From a page, such a link climbs once per folder of the page, unless the page's first
    folder is the link's own (`get_relative_url`): pages of one depth and first folder get
    the same links. Pages under assets/ may share more than that with the theme's files:
    they get no key."""
    if page is None:
        return None
    here = _folder_parts(page.url)
    first = here[0] if here else ""
    return None if first == "assets" else (name, len(here), first)


def with_material_prefix(env: Any, theme_dirs: list[str], custom_dir: str | None) -> None:
    """`material/partials/x.html` names Material's own partial even where the theme folder
    overrides `partials/x.html`, so an override can wrap the original instead of copying it."""
    from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

    upstream = [d for d in theme_dirs if d != custom_dir]
    prefixed = PrefixLoader({"material": FileSystemLoader(upstream)})
    env.loader = ChoiceLoader([env.loader, prefixed])


def _active(items: list[Any]) -> list[int]:
    found: list[int] = []
    for index, item in enumerate(items):
        if getattr(item, "active", False):
            found.append(index)
            if isinstance(item, Section):
                found += [-1, *_active(item.children), -2]
    return found
