"""The blog plan turned into MkDocs files and navigation, through MkDocs' documented structures.

- Each shown article keeps its own file (so links between articles resolve as written), with
  its destination set to the article's URL; the others leave the build.
- Each list page of the plan other than the home page (which is content/index.md) is a
  generated file holding only its title; press fills in its excerpts when it is rendered.
- The navigation is the home page, press's other index pages (Newsletter, Tags), then the
  Archive, Categories and Authors sections from the plan. A page that is not in the
  navigation belongs to the one that lists it, so its tab is the one shown active.
"""

from __future__ import annotations

import html
import os
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page

from generator.blog.plan import LISTS, BlogPlan, Kind, PlannedPage
from generator.content.articles import Article
from generator.content.front_matter import format_front_matter
from generator.site.newsletter import markdown_text

LIST_TEMPLATE = "press-list.html"
POST_TEMPLATE = "blog-post.html"
HOME = "index.md"
SECTIONS = ((Kind.ARCHIVE, "Archive"), (Kind.CATEGORY, "Categories"), (Kind.AUTHOR, "Authors"))


@dataclass
class BlogFiles:
    """Where each planned page lives among MkDocs' files."""

    planned: dict[str, PlannedPage] = field(default_factory=dict)  # by source URI
    source_of: dict[str, str] = field(default_factory=dict)  # source URI by page URL
    views: dict[str, list[PlannedPage]] = field(default_factory=dict)  # pages of each list
    post_sources: dict[str, str] = field(default_factory=dict)  # an article's source by URL

    def page_for(self, src_uri: str) -> PlannedPage | None:
        return self.planned.get(src_uri)

    def with_articles(self, fresh: dict[Path, Article]) -> BlogFiles:
        """The same pages listing `fresh`'s articles (by source) instead of their earlier
        versions: for edits that move no article."""

        def renewed(page: PlannedPage) -> PlannedPage:
            articles = tuple(fresh.get(a.source, a) for a in page.articles)
            return replace(page, articles=articles)

        planned = {src: renewed(p) for src, p in self.planned.items()}
        by_url = {p.url: p for p in planned.values()}
        views = {view: [by_url[p.url] for p in pages] for view, pages in self.views.items()}
        return BlogFiles(planned, dict(self.source_of), views, dict(self.post_sources))


def planned_files(plan: BlogPlan, source_of: Callable[[Article], str]) -> BlogFiles:
    """Where each page of `plan` lives, MkDocs' files untouched: a post at its article's
    source URI (`source_of`), a list page at its `list_source` (`press serve`, planning again
    in place)."""
    made = BlogFiles()
    for planned in plan.pages:
        src_uri = page_source(planned, source_of)
        if src_uri is None:
            continue
        if planned.kind is Kind.POST:
            made.post_sources[planned.url] = src_uri
        else:
            made.views.setdefault(planned.view, []).append(planned)
        made.planned[src_uri] = planned
        made.source_of[planned.url] = src_uri
    return made


def page_source(planned: PlannedPage, source_of: Callable[[Article], str]) -> str | None:
    """The source URI of a post or list page of the plan; None for the other pages."""
    if planned.kind is Kind.POST:
        return source_of(planned.articles[0])
    return list_source(planned.url) if planned.kind in LISTS else None


def list_page_file(config: MkDocsConfig, planned: PlannedPage) -> File:
    """The generated file of a list page other than the home page."""
    src_uri = list_source(planned.url)
    source = _list_source(planned)
    return File.generated(config, src_uri, content=source, inclusion=InclusionLevel.NOT_IN_NAV)


def list_source(url: str) -> str:
    """The source URI of a generated list page: `archive/2026/` → `archive/2026.md`."""
    return HOME if url == "" else url.rstrip("/") + ".md"


def add_blog_files(
    files: Files, config: MkDocsConfig, plan: BlogPlan, articles: dict[str, Article]
) -> BlogFiles:
    """Points shown articles' files at their URLs, drops the others, adds the list pages."""
    made = BlogFiles()
    posts = {p.articles[0].source: p for p in plan.of_kind(Kind.POST)}
    for file in list(files.documentation_pages()):
        article = articles.get(file.src_uri)
        if article is None:
            continue
        planned = posts.get(article.source)
        if planned is None:
            files.remove(file)  # a draft or a future article
            continue
        point_post_at(file, article.path, config)
        made.planned[file.src_uri] = planned
        made.source_of[planned.url] = file.src_uri
        made.post_sources[planned.url] = file.src_uri
    for planned in plan.pages:
        if planned.kind not in LISTS:
            continue
        made.views.setdefault(planned.view, []).append(planned)
        src_uri = list_source(planned.url)
        made.planned[src_uri] = planned
        made.source_of[planned.url] = src_uri
        if src_uri != HOME:  # out of MkDocs' own navigation: blog_navigation places it
            files.append(list_page_file(config, planned))
    return made


def point_post_at(file: File, url: str, config: MkDocsConfig) -> None:
    """A post's file, written to its article's URL and left out of MkDocs' navigation."""
    file.inclusion = InclusionLevel.NOT_IN_NAV
    file.dest_uri = url + "index.html"
    file.url = url
    file.abs_dest_path = os.path.normpath(os.path.join(config.site_dir, file.dest_uri))


def _list_source(planned: PlannedPage) -> str:
    # Titles are text; MkDocs and Material print a page's title as HTML.
    meta = {"title": html.escape(planned.title, quote=False), "template": LIST_TEMPLATE}
    return format_front_matter(meta, f"# {markdown_text(planned.shown_heading)}\n")


def blog_navigation(nav: Navigation, files: Files, blog: BlogFiles) -> Navigation:
    """The site's navigation with the blog's sections, parents and neighbours set."""
    page_of = {url: files.get_file_from_path(src).page for url, src in blog.source_of.items()}
    home = page_of.get("")
    items = [home] if home is not None else []
    items += [_unwrapped(item) for item in nav.items if item is not home]
    for kind, title in SECTIONS:
        firsts = [page_of[v] for v, pages in blog.views.items() if pages[0].kind is kind]
        if firsts:
            section = Section(title, [p for p in firsts if p is not None])
            for child in section.children:
                child.parent = section
            items.append(section)
    _belong(page_of, blog)
    pages = _pages_in(items)
    _adopt(files, set(map(id, pages)))
    return Navigation(items, pages)


def _unwrapped(item: Any) -> Any:
    """A folder's section holding only the folder's index page (newsletter/, tag/) is that
    page: its tab and sidebar say "Newsletter" once, not "Newsletter / Newsletter"."""
    if isinstance(item, Section) and len(item.children) == 1:
        [child] = item.children
        if isinstance(child, Page) and child.file.src_uri.endswith("/index.md"):
            child.parent = None
            return child
    return item


def _adopt(files: Files, in_nav: set[int]) -> None:
    """A page outside the navigation with no parent yet (a newsletter issue, a tag's first
    page) belongs to its folder's index page, so that page's tab is the one shown active."""
    for file in files.documentation_pages():
        page = file.page
        if page is None or page.parent is not None or id(page) in in_nav:
            continue
        folder = posixpath.dirname(file.src_uri)
        index = files.get_file_from_path(f"{folder}/index.md") if folder else None
        if index is not None and index.page is not None and index.page is not page:
            page.parent = index.page


def set_neighbours(files: Files, blog: BlogFiles) -> None:
    """The blog's pages take their parents and neighbours from `blog` again (a new plan)."""
    page_of = {url: files.get_file_from_path(src).page for url, src in blog.source_of.items()}
    _belong(page_of, blog)


def _belong(page_of: dict[str, Page | None], blog: BlogFiles) -> None:
    """Pages outside the navigation take the page that lists them as parent; list pages and
    posts get their neighbours from the plan (rel=prev and rel=next)."""
    for planned in blog.planned.values():
        page = page_of.get(planned.url)
        if page is None:
            continue
        if planned.kind is Kind.POST:
            page.parent = page_of.get("")
        elif planned.number > 1:
            page.parent = page_of.get(planned.view)
        page.previous_page = page_of.get(planned.previous) if planned.previous is not None else None
        page.next_page = page_of.get(planned.next) if planned.next is not None else None


def _pages_in(items: list) -> list[Page]:
    found: list[Page] = []
    for item in items:
        if isinstance(item, Page):
            found.append(item)
        elif isinstance(item, Section):
            found += _pages_in(item.children)
    return found
