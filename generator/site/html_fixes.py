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
_EMPTY_TABINDEX = re.compile(r'\s+tabindex=""')
# toc.html labels a "__toc" toggle that only exists for pages listed in the navigation.
_ORPHAN_TOC_LABEL = re.compile(r'<label class="md-nav__title" for="__toc">(.*?)</label>', re.S)
# The search overlay has role="dialog" but no accessible name (axe: aria-dialog-name).
_UNNAMED_SEARCH_DIALOG = '<div class="md-search" data-md-component="search" role="dialog">'


def fix_page_html(html: str) -> str:
    html = _CHECKBOX_AUTOCOMPLETE.sub(r"\1", html)
    html = _EMPTY_TABINDEX.sub("", html)
    if 'id="__toc"' not in html:
        html = _ORPHAN_TOC_LABEL.sub(r'<div class="md-nav__title">\1</div>', html)
    return html.replace(
        _UNNAMED_SEARCH_DIALOG, _UNNAMED_SEARCH_DIALOG[:-1] + ' aria-label="Search">'
    )
