"""The one Jinja environment factory for what we render ourselves: emails and service pages.

MkDocs renders the site with its own environment; everything else goes through here, so every
template we own escapes HTML and fails loudly on a misspelt variable.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape


@cache
def template_environment(folder: Path) -> Environment:
    return Environment(
        loader=FileSystemLoader(folder),
        # HTML templates escape; text templates and one-line strings (subjects) do not.
        autoescape=select_autoescape(
            enabled_extensions=("html.j2", "html"), default_for_string=False
        ),
        undefined=StrictUndefined,  # a misspelt variable fails the render, never mails a blank
        keep_trailing_newline=True,
    )
