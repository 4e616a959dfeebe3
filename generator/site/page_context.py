"""What the templates get for each page, beyond MkDocs' own context: the article and its
"Read next" and related links for a post, the excerpts and pagination for a list page, a
list's feed, and the page's SEO metadata. One step of the press plugin (plugin.py)."""

from __future__ import annotations

import html
from typing import Any

from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from generator.blog.plan import LISTS, Kind
from generator.content.articles import Article
from generator.content.slugs import slugify
from generator.site.blog_pages import HOME, BlogFiles
from generator.site.listing import build_listing
from generator.site.seo import page_meta


def fill_context(press: Any, context: dict[str, Any], page: Page) -> dict[str, Any]:
    """`press` is the plugin: its site, articles, blog files, related reading and the record
    of which page shows which article (`note_shown`)."""
    site, files = press.site, press.files
    article = press.articles.get(page.file.src_uri)
    planned = press.blog.page_for(page.file.src_uri)
    if article is not None:
        press.bodies.finish(page, article, files)
    context["article"] = article
    context["tag_slug"] = slugify
    context["related"] = press.related.for_article(article) if article else []
    context["post_links"] = post_links(article, press.articles, press.blog) if article else []
    for other in context["related"]:
        press.note_shown(other, page)
    context["listing"] = None
    if planned is not None and planned.kind in LISTS:
        views = press.blog.views[planned.view]
        listing = build_listing(planned, views, press.blog.post_sources, files)
        context["listing"] = listing
        for excerpt in listing.excerpts:
            press.note_shown(excerpt.article, page)
    context["category_feed"] = _list_feed(page)
    context["seo"] = _seo(site, page, article, planned, files)
    return context


def post_links(
    article: Article, articles: dict[str, Article], blog: BlogFiles
) -> list[tuple[str, str]]:
    """The article's related links as (text, site-relative URL or absolute URL): an
    article's file becomes its page, with the article's title unless one is given."""
    links = []
    for title, target in article.links:
        if target.startswith(("https://", "http://")):
            links.append((title or target, target))
            continue
        path, _, anchor = target.partition("#")
        other = articles.get(path)
        if other is None or other.path not in blog.source_of:
            continue  # a draft or a future article: not linked yet
        links.append((title or other.title, other.path + (f"#{anchor}" if anchor else "")))
    return links


def _list_feed(page: Page) -> str | None:
    """A category's or tag's own RSS feed, linked from its first page."""
    listing_feed = page.url.startswith(("category/", "tag/")) and page.url != "tag/"
    return page.url + "feed.xml" if listing_feed and "/page/" not in page.url else None


def _seo(site: Any, page: Page, article: Article | None, planned: Any, files: Files) -> Any:
    # A page's title is HTML to MkDocs and Material; the metadata wants its text.
    page_title = html.unescape(page.meta.get("title") or page.title or "")
    title = article.title if article else page_title
    description = article.description if article else page.meta.get("description", "")
    if planned is not None and planned.kind is Kind.INDEX and planned.number > 1:
        home = files.get_file_from_path(HOME)
        description = home.page.meta.get("description", "") if home and home.page else ""
    canonical = page.canonical_url or site.url
    return page_meta(site, canonical, str(title or site.name), description, article)
