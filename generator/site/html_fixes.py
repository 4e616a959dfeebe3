"""Corrections to Material's generated markup that the Nu Html Checker or axe flag.

The markup lives in base.html and partials that would otherwise have to be copied whole into
templates/theme; a copy would silently drift from Material's upstream fixes, a targeted edit
does not. Each fix is a no-op when Material stops emitting the markup. None of them parses a
whole page:

- template fixes change the source of a template as Jinja loads it (`TemplateFixes`, a Jinja
  extension's documented `preprocess`), once per build, for markup that is the same on every
  page: the drawer and search toggles, the search dialog, the deferred script (first_paint.py).
  The tokenizer finds the tags (markup.py); a tag holding template code is left alone.
- fragment fixes edit what a partial rendered (`fix_navigation`, `fix_untoggled_toc`, filters
  in the theme's partials), where the markup depends on the page; the navigation is fixed once
  for all the pages that share it (fragments.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2.ext import Extension
from selectolax.lexbor import LexborHTMLParser

from generator.content.markup import (
    TagSpan,
    edit_fragment,
    parsed_element,
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


TEMPLATE_FIXES: tuple[TemplateFix, ...] = (
    checkbox_autocomplete,
    unnamed_search_dialog,
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


def _literal(source: str, tag: TagSpan) -> bool:
    """A tag written as plain HTML: no template code inside it to keep."""
    text = source[tag.start : tag.end]
    return "{{" not in text and "{%" not in text and "{#" not in text


def empty_tabindex(tree: LexborHTMLParser) -> None:
    """nav-item.html renders tabindex="" on section labels, which is not an integer."""
    for node in tree.css('[tabindex=""]'):
        del node.attrs["tabindex"]


def orphan_toc_label(tree: LexborHTMLParser) -> None:
    """toc.html labels a "__toc" toggle that only exists for pages listed in the navigation:
    without the toggle, the label is a plain title. For a table of contents of such a page."""
    for label in tree.css('label.md-nav__title[for="__toc"]'):
        label.replace_with(parsed_element(f'<div class="md-nav__title">{label.inner_html}</div>'))


def fix_navigation(html: Any) -> str:
    """The navigation Material rendered (partials/nav.html), fixed."""
    text = str(html)
    return edit_fragment(text, (empty_tabindex,)) if 'tabindex=""' in text else text


def fix_untoggled_toc(html: Any) -> str:
    """A table of contents on a page the navigation does not list (partials/toc.html)."""
    text = str(html)
    return edit_fragment(text, (orphan_toc_label,)) if "__toc" in text else text
