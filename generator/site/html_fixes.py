"""Corrections to Material's generated markup that the Nu Html Checker or axe flag.

The markup lives in base.html and partials that would otherwise have to be copied whole into
templates/theme; a copy would silently drift from Material's upstream fixes, a targeted edit
does not. Each fix is a no-op when Material stops emitting the markup. None of them parses a
whole page:

- template fixes change the source of a template as Jinja loads it (`TemplateFixes`, a Jinja
  extension's documented `preprocess`), once per build, for markup that is the same on every
  page: the drawer and search toggles, the search dialog, the deferred script (first_paint.py).
  The tokenizer finds the tags (markup.py); a tag holding template code is left alone.
  The table of contents' title becomes a choice made as each page renders.
- a fragment fix edits what a partial rendered (`fix_navigation`, a filter in the theme's
  nav.html), where the markup depends on the page; the navigation is fixed once for all the
  pages that share it (fragments.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2.ext import Extension
from selectolax.lexbor import LexborHTMLParser

from generator.content.markup import (
    TagSpan,
    edit_fragment,
    splice,
    start_tag,
    tag_spans,
)
from generator.site.first_paint import bundle_on_interaction

Change = tuple[int, int, str]
TemplateFix = Callable[[str, list[TagSpan]], list[Change]]


def checkbox_autocomplete(source: str, spans: list[TagSpan]) -> list[Change]:
    """autocomplete is not allowed on checkboxes (Material's drawer and search toggles)."""
    return [
        (tag.start, tag.end, start_tag(tag.name, [a for a in tag.attrs if a[0] != "autocomplete"]))
        for tag in spans
        if tag.name == "input"
        and tag.attr("type") == "checkbox"
        and tag.has("autocomplete")
        and _literal(source, tag)
    ]


def unnamed_search_dialog(source: str, spans: list[TagSpan]) -> list[Change]:
    """The search overlay has role="dialog" but no accessible name (axe: aria-dialog-name)."""
    return [
        (tag.start, tag.end, start_tag(tag.name, [*tag.attrs, ("aria-label", "Search")]))
        for tag in spans
        if not tag.closing
        and tag.attr("role") == "dialog"
        and "md-search" in (tag.attr("class") or "").split()
        and not tag.attr("aria-label")
        and _literal(source, tag)
    ]


# The condition, in the template, for the "__toc" toggle: Material's navigation draws it for
# the page it lists as the current one (nav-item.html), so on the pages it lists.
_TOGGLED = "{% if press_toc_toggled(page, nav) %}"


def orphan_toc_label(source: str, spans: list[TagSpan]) -> list[Change]:
    """toc.html labels the "__toc" toggle, which only exists on the pages the navigation
    lists: on any other page the label is a plain title (a `div`)."""
    changes: list[Change] = []
    for index, tag in enumerate(spans):
        classes = (tag.attr("class") or "").split()
        if not (tag.name == "label" and not tag.closing and tag.attr("for") == "__toc"):
            continue
        end = _closing(spans, index)
        if "md-nav__title" not in classes or end is None or not _literal(source, tag):
            continue
        plain = start_tag("div", [a for a in tag.attrs if a[0] != "for"])
        opened = source[tag.start : tag.end]
        changes.append((tag.start, tag.end, f"{_TOGGLED}{opened}{{% else %}}{plain}{{% endif %}}"))
        changes.append((end.start, end.end, f"{_TOGGLED}</label>{{% else %}}</div>{{% endif %}}"))
    return changes


def toc_toggled(page: Any, nav: Any) -> bool:
    """Whether the page has the "__toc" toggle (`press_toc_toggled` in the templates)."""
    return page is not None and nav is not None and page in nav.pages


TEMPLATE_FIXES: tuple[TemplateFix, ...] = (
    checkbox_autocomplete,
    unnamed_search_dialog,
    orphan_toc_label,
    bundle_on_interaction,
)


def fix_template(source: str) -> str:
    """A template's source with every template fix made."""
    spans = tag_spans(source)
    return splice(source, [change for fix in TEMPLATE_FIXES for change in fix(source, spans)])


class TemplateFixes(Extension):
    """Every HTML template the theme loads (Material's and the project's) is fixed as Jinja
    reads it; the compiled template is what every page renders."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return fix_template(source) if name and name.endswith(".html") else source


def _closing(spans: list[TagSpan], index: int) -> TagSpan | None:
    """The end tag that closes the start tag `spans[index]`."""
    depth, name = 0, spans[index].name
    for tag in spans[index + 1 :]:
        if tag.name == name:
            if not tag.closing:
                depth += 1
            elif depth == 0:
                return tag
            else:
                depth -= 1
    return None


def _literal(source: str, tag: TagSpan) -> bool:
    """A tag written as plain HTML: no template code inside it to keep."""
    text = source[tag.start : tag.end]
    return "{{" not in text and "{%" not in text and "{#" not in text


def empty_tabindex(tree: LexborHTMLParser) -> None:
    """nav-item.html renders tabindex="" on section labels, which is not an integer."""
    for node in tree.css('[tabindex=""]'):
        del node.attrs["tabindex"]


def fix_navigation(html: Any) -> str:
    """The navigation Material rendered (partials/nav.html), fixed."""
    text = str(html)
    return edit_fragment(text, (empty_tabindex,)) if 'tabindex=""' in text else text
