"""Corrections to Material's generated markup that the Nu Html Checker or axe flag.

These live in base.html and nav partials that would otherwise have to be copied whole into
templates/theme; a copy would silently drift from Material's upstream fixes, a targeted
edit of the parsed output does not. Each fix is a no-op when Material stops emitting the
markup. They are edits (generator/content/markup.py): a page is parsed once for all of them.
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from generator.content.markup import parsed_element


def checkbox_autocomplete(tree: LexborHTMLParser) -> None:
    """autocomplete is not allowed on checkboxes (Material's drawer and search toggles)."""
    for node in tree.css('input[type="checkbox"][autocomplete]'):
        del node.attrs["autocomplete"]


def empty_tabindex(tree: LexborHTMLParser) -> None:
    """nav-item.html renders tabindex="" on section labels, which is not an integer."""
    for node in tree.css('[tabindex=""]'):
        del node.attrs["tabindex"]


def orphan_toc_label(tree: LexborHTMLParser) -> None:
    """toc.html labels a "__toc" toggle that only exists for pages listed in the navigation:
    without the toggle, the label is a plain title."""
    if tree.css_first("#__toc") is not None:
        return
    for label in tree.css('label.md-nav__title[for="__toc"]'):
        label.replace_with(parsed_element(f'<div class="md-nav__title">{label.inner_html}</div>'))


def unnamed_search_dialog(tree: LexborHTMLParser) -> None:
    """The search overlay has role="dialog" but no accessible name (axe: aria-dialog-name)."""
    for node in tree.css('.md-search[role="dialog"]'):
        if not node.attributes.get("aria-label"):
            node.attrs["aria-label"] = "Search"


MATERIAL_FIXES = (checkbox_autocomplete, empty_tabindex, orphan_toc_label, unnamed_search_dialog)
