"""Corrections to Material's generated markup that the Nu Html Checker flags as errors.

These live in base.html and nav partials that would otherwise have to be copied whole into
templates/theme; a copy would silently drift from Material's upstream fixes, a targeted
rewrite of the output does not. Each fix is a no-op when Material stops emitting the markup.
"""

from __future__ import annotations

import re

# autocomplete is not allowed on checkboxes (Material's drawer and search toggles).
_CHECKBOX_AUTOCOMPLETE = re.compile(r'(<input[^>]*type="checkbox"[^>]*?)\s+autocomplete="off"')
# nav-item.html renders tabindex="" on section labels, which is not an integer.
_EMPTY_TABINDEX = 'tabindex=""'
# toc.html labels a "__toc" toggle that only exists for pages listed in the navigation.
_ORPHAN_TOC_LABEL = re.compile(r'<label class="md-nav__title" for="__toc">(.*?)</label>', re.S)
# The search overlay has role="dialog" but no accessible name (axe: aria-dialog-name).
_UNNAMED_SEARCH_DIALOG = '<div class="md-search" data-md-component="search" role="dialog">'


def fix_page_html(html: str) -> str:
    html = _CHECKBOX_AUTOCOMPLETE.sub(r"\1", html)
    html = _without_empty_tabindex(html)
    if 'id="__toc"' not in html:
        html = _ORPHAN_TOC_LABEL.sub(r'<div class="md-nav__title">\1</div>', html)
    return html.replace(
        _UNNAMED_SEARCH_DIALOG, _UNNAMED_SEARCH_DIALOG[:-1] + ' aria-label="Search">'
    )


def _without_empty_tabindex(html: str) -> str:
    """Drops each `tabindex=""` that follows whitespace, with that whitespace: what the
    regex `\\s+tabindex=""` removes, found by string search (the regex, having no literal
    to look for first, tried every run of spaces in the page: 1.3 ms a page)."""
    pieces = html.split(_EMPTY_TABINDEX)
    kept = [pieces[0]]
    for piece in pieces[1:]:
        before = kept[-1]
        trimmed = before.rstrip()
        kept[-1] = trimmed if trimmed != before else before + _EMPTY_TABINDEX
        kept.append(piece)
    return "".join(kept)
