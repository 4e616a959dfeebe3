"""What each page is rendered from, set in MkDocs' `on_page_markdown`: a post from its
Article's one rendering (its file is not converted again), a list page of the plan from its
heading alone (press fills in the excerpts), press's generated pages and the home page through
the site's one Markdown parser. One step of the press plugin (plugin.py).

Each page's date for the sitemap (`lastmod`) comes from the articles it shows."""

from __future__ import annotations

import html
from datetime import datetime
from functools import partial
from typing import Any

from mkdocs.structure.pages import Page

from generator.blog.plan import LISTS
from generator.site.blog_pages import HOME, LIST_TEMPLATE, POST_TEMPLATE
from generator.site.cached_pages import render_from_cache, render_heading, render_with


def prepare_page(press: Any, page: Page) -> None:
    """`press` is the plugin: its site, articles, blog files and generated pages."""
    site = press.site
    page.update_date = last_modified(press, page).astimezone(site.timezone).date().isoformat()
    article = press.articles.get(page.file.src_uri)
    if article is not None:
        # A title is text; MkDocs and Material print a page's title as HTML.
        page.meta.update(title=html.escape(article.title), template=POST_TEMPLATE)
        page.meta["hide"] = ["navigation"]  # the post template has its own sidebar
        page.meta["description"] = article.description
        render_from_cache(page, article)
        return
    planned = press.blog.page_for(page.file.src_uri)
    if page.file.src_uri == HOME:
        page.meta["template"] = LIST_TEMPLATE
    elif planned is not None and planned.kind in LISTS:
        render_heading(page, planned.shown_heading)
        return
    if page.file.generated_by == "press" or page.file.src_uri == HOME:
        generated = press.generated
        convert = partial(generated.convert, site)
        render_with(page, convert, generated.relative, generated.anchor_ids, generated.defer)


def last_modified(press: Any, page: Page) -> datetime:
    """A post's modification time; for a list page, its newest article's; else the site's."""
    article = press.articles.get(page.file.src_uri)
    if article is not None:
        return article.modified
    planned = press.blog.page_for(page.file.src_uri)
    listed = [a.modified for a in planned.articles] if planned is not None else []
    newest = [a.modified for a in press.visible[:1]]
    return max(listed or newest or [press.build.now])
