"""The `press` MkDocs plugin: the blog plan (generator/blog) rendered through MkDocs' documented
events, with the theme's templates. Material's blog plugin is not used.

Registered as an entry point and listed in mkdocs.yml, so `press build`, `press serve` and plain
`mkdocs build` all render from the same checked Article model. Each build's state lives on the
plugin instance; MkDocs keeps a plugin that has `on_startup` for the whole of `mkdocs serve`, so
what it remembers between rebuilds lasts the session.
"""

from __future__ import annotations

import html
from collections.abc import Collection
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from mkdocs.utils.meta import get_data

from generator.blog.plan import LISTS, BlogLayout, BlogPlan, Kind, plan_blog
from generator.clock import current_time
from generator.content.articles import Article
from generator.content.loader import load_content
from generator.content.markup import edit_document
from generator.content.problems import ContentError, display_path
from generator.content.related import RelatedReading
from generator.content.site_config import SiteConfig
from generator.content.slugs import slugify
from generator.digest.preview import prepare_upcoming, sample_copy
from generator.site.blog_pages import (
    HOME,
    LIST_TEMPLATE,
    POST_TEMPLATE,
    BlogFiles,
    add_blog_files,
    blog_navigation,
)
from generator.site.cached_pages import (
    finish_content,
    render_from_cache,
    render_heading,
    render_with,
)
from generator.site.cards import build_cards, write_cards
from generator.site.first_paint import bundle_on_interaction
from generator.site.forked import Forked
from generator.site.fragments import (
    FragmentCache,
    forget_fragments,
    frame_key,
    with_material_prefix,
)
from generator.site.html_fixes import MATERIAL_FIXES
from generator.site.listing import build_listing
from generator.site.newsletter import INDEX, newsletter_pages, subscribe_page
from generator.site.options import BuildOptions
from generator.site.parallel_pages import PageWriter
from generator.site.seo import page_meta
from generator.site.session_memo import SessionMemo
from generator.site.tags import TAGS_INDEX, tag_pages
from generator.tokens import Signer

PREVIEW_HTML = "newsletter/preview/index.html"
PREVIEW_TEXT = "newsletter/preview.txt"
# Every page, once parsed: Material's markup fixed, its script loaded on first interaction.
PAGE_EDITS = (*MATERIAL_FIXES, bundle_on_interaction)
FEEDS = [
    ("application/rss+xml", "RSS", "feed.xml"),
    ("application/atom+xml", "Atom", "atom.xml"),
    ("application/feed+json", "JSON Feed", "feed.json"),
]


class PressPlugin(BasePlugin):
    def __init__(self) -> None:
        self.options: BuildOptions | None = None
        self.site: SiteConfig | None = None
        self.articles: dict[str, Article] = {}  # by src_uri relative to content/
        self.visible: list[Article] = []
        self.plan = BlogPlan(())
        self.blog = BlogFiles()
        self.related = RelatedReading([], current_time())
        self.page_writer: PageWriter | None = None  # set by `press build --jobs N`
        # The articles each page shows other than its own (as excerpts, or under "Read
        # next"), by the page's source: `press serve` renders again the pages showing an
        # article whose text changed.
        self.shows: dict[str, set[Path]] = {}
        # Kept while the plugin lives (a `press serve` session), so a new plan of the site
        # converts and renders only what changed: generated pages' HTML by their Markdown,
        # newsletter issues by their articles, and compiled templates by their source.
        # Only `press serve` keeps them (`remembers`); a single build would only hold on to
        # what it no longer needs.
        self.remembers = False
        self.conversions: SessionMemo[tuple[str, list[dict[str, Any]]]] = SessionMemo()
        self.issues: SessionMemo[Any] = SessionMemo()
        self.ahead: dict[str, tuple[str, list[dict[str, Any]]]] = {}  # converted ahead, once
        self.templates = _CompiledTemplates()
        # Under --jobs N, a process converting the generated pages while MkDocs reads posts.
        self.converting: Forked[dict[str, Any]] | None = None
        self.files = Files([])

    def on_startup(self, *, command: str, dirty: bool) -> None:
        """Nothing to start: having this event keeps the plugin for a whole `mkdocs serve`
        (see the module docstring)."""

    @property
    def build(self) -> BuildOptions:
        """What this build was asked for; plain `mkdocs` commands get the defaults."""
        return self.options or BuildOptions(now=current_time())

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        options = self.build
        site, articles = options.content or _load(Path(config.config_file_path).parent)
        self.site = site
        self.articles = {display_path(a.source, site.content_dir): a for a in articles}
        home = _home_title(Path(config.docs_dir) / HOME)
        layout = BlogLayout(per_page=site.posts_per_page, home_title=home or site.name)
        self.plan = plan_blog(
            articles, site, options.now, layout, options.include_drafts, options.email_preview
        )
        posts = self.plan.of_kind(Kind.POST)
        self.visible = sorted((p.articles[0] for p in posts), key=_published, reverse=True)
        self.related = RelatedReading(articles, options.now)
        self.shows = {}
        self.conversions.next_build()
        self.issues.next_build()
        config.site_name, config.site_url = site.name, site.url
        config.site_description = site.description
        config.extra["press"] = _template_settings(site)
        return config

    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        self.blog = add_blog_files(files, config, self.plan, self.articles)
        self._add_newsletter_pages(files, config)
        self._add_tag_pages(files, config)
        assert self.site is not None
        _add_listed_pages(files, config, subscribe_page(self.site), "")
        if self.build.email_preview:
            self._add_email_preview(files, config)
        return files

    def on_nav(self, nav: Any, config: MkDocsConfig, files: Files) -> Any:
        self.files = files
        return blog_navigation(nav, files, self.blog)

    def on_page_read_source(self, page: Page, config: MkDocsConfig) -> str | None:
        # A post is rendered from its Article: its file is not read again.
        return "" if page.file.src_uri in self.articles else None

    def on_page_markdown(
        self, markdown: str, page: Page, config: MkDocsConfig, files: Files
    ) -> str:
        # lastmod in the sitemap (and the sitemap.xml.gz timestamp) come from article dates.
        assert self.site is not None
        modified = self._last_modified(page).astimezone(self.site.timezone)
        page.update_date = modified.date().isoformat()
        article = self.articles.get(page.file.src_uri)
        if article is not None:
            # A title is text; MkDocs and Material print a page's title as HTML.
            page.meta.update(title=html.escape(article.title), template=POST_TEMPLATE)
            page.meta["hide"] = ["navigation"]  # the post template has its own sidebar
            page.meta["description"] = article.description
            render_from_cache(page, article)
            return markdown
        planned = self.blog.page_for(page.file.src_uri)
        if page.file.src_uri == HOME:
            page.meta["template"] = LIST_TEMPLATE
        elif planned is not None and planned.kind in LISTS:
            render_heading(page, planned.shown_heading)
            return markdown
        if page.file.generated_by == "press" or page.file.src_uri == HOME:
            render_with(page, self._convert)
        return markdown

    @event_priority(100)  # before the search plugin writes its index
    def on_post_build(self, config: MkDocsConfig) -> None:
        self._stop_converting()
        if self.page_writer is not None:
            self.page_writer.flush(config)
        self.write_cards(self.visible, Path(config.site_dir))

    def write_cards(self, articles: list[Article], site_dir: Path) -> None:
        """The articles' share cards, drawn unless cached (share_cards: false, none)."""
        assert self.site is not None
        if self.site.share_cards:
            cache = self.site.root / ".cache" / "press" / "cards"
            write_cards(build_cards(self.site, articles, cache, self.build.jobs), site_dir)

    @event_priority(100)  # first: the search plugin indexes the finished content
    def on_page_context(
        self, context: dict[str, Any], page: Page, config: MkDocsConfig, nav: Any
    ) -> dict[str, Any]:
        assert self.site is not None
        article = self.articles.get(page.file.src_uri)
        planned = self.blog.page_for(page.file.src_uri)
        if article is not None:
            finish_content(page, article, self.files)
        # A page's title is HTML to MkDocs and Material; the metadata wants its text.
        page_title = html.unescape(page.meta.get("title") or page.title or "")
        title = article.title if article else page_title
        description = article.description if article else page.meta.get("description", "")
        if planned is not None and planned.kind is Kind.INDEX and planned.number > 1:
            home = self.files.get_file_from_path(HOME)
            description = home.page.meta.get("description", "") if home and home.page else ""
        canonical = page.canonical_url or self.site.url
        context["article"] = article
        context["tag_slug"] = slugify
        context["related"] = self.related.for_article(article) if article else []
        context["post_links"] = self.post_links(article) if article else []
        for other in context["related"]:
            self.note_shown(other, page)
        context["listing"] = None
        if planned is not None and planned.kind in LISTS:
            views = self.blog.views[planned.view]
            listing = build_listing(planned, views, self.source_of_posts(), self.files)
            context["listing"] = listing
            for excerpt in listing.excerpts:
                self.note_shown(excerpt.article, page)
        listing_feed = page.url.startswith(("category/", "tag/")) and page.url != "tag/"
        context["category_feed"] = (
            page.url + "feed.xml" if listing_feed and "/page/" not in page.url else None
        )
        title = str(title or self.site.name)
        context["seo"] = page_meta(self.site, canonical, title, description, article)
        return context

    def on_post_page(self, output: str, page: Page, config: MkDocsConfig) -> str:
        return edit_document(output, PAGE_EDITS)

    def on_post_template(
        self, output_content: str, template_name: str, config: MkDocsConfig
    ) -> str:
        if not template_name.endswith(".html"):
            return output_content
        return edit_document(output_content, PAGE_EDITS)

    def on_env(self, env: Any, config: MkDocsConfig, files: Files) -> Any:
        env.bytecode_cache = self.templates
        env.add_extension(FragmentCache)
        forget_fragments(env)
        env.globals["press_frame_key"] = frame_key
        with_material_prefix(env, config.theme.dirs, config.theme.custom_dir)
        return env

    def forget(self) -> None:
        """Drops what earlier builds made: the next may have other settings or templates."""
        self.conversions.forget()
        self.issues.forget()

    def _convert(self, markdown: str) -> tuple[str, list[dict[str, Any]]]:
        assert self.site is not None
        if self.converting is not None:
            job, self.converting = self.converting, None
            self.ahead = job.result()
        renderer = self.site.markdown
        made = self.ahead.pop(markdown, None)
        if not self.remembers:
            return made or renderer.render(markdown)
        if made is not None:
            self.conversions.remember(markdown, made)
        return self.conversions.get(markdown, lambda: renderer.render(markdown))

    def note_shown(self, article: Article, page: Page) -> None:
        self.shows.setdefault(page.file.src_uri, set()).add(article.source)

    def showing(self, source: Path) -> set[str]:
        """The pages that show the article read from `source`, other than its own."""
        return {page for page, shown in self.shows.items() if source in shown}

    def _add_newsletter_pages(self, files: Files, config: MkDocsConfig) -> None:
        made = self.build.newsletter
        pages = made() if made else self.newsletter_sources()
        _add_listed_pages(files, config, pages, INDEX)
        self._convert_ahead(pages)

    def _add_tag_pages(self, files: Files, config: MkDocsConfig) -> None:
        _add_listed_pages(files, config, self.tag_sources(), TAGS_INDEX)

    def _convert_ahead(self, pages: dict[str, str]) -> None:
        """Under --jobs N, the newsletter pages (the bulk of what press generates, an email's
        worth of HTML each) are converted by a forked process while this one goes on."""
        assert self.site is not None
        if self.build.jobs > 1:
            texts = [text for uri, text in pages.items() if uri.endswith(".md")]
            self.converting = Forked(partial(_convert_all, self.site.markdown, texts))

    def on_build_error(self, error: Exception) -> None:
        self._stop_converting()

    def _stop_converting(self) -> None:
        if self.converting is not None:
            self.converting.abandon()
            self.converting = None

    def _add_email_preview(self, files: Files, config: MkDocsConfig) -> None:
        for uri, content in self.email_preview_sources().items():
            files.append(File.generated(config, uri, content=content))

    def newsletter_sources(self, days: Collection[date] | None = None) -> dict[str, str]:
        """The newsletter archive's pages and emails by path; with `days`, only those issues'
        and the index."""
        assert self.site is not None
        articles = list(self.articles.values())
        memo = self.issues if self.remembers else None
        return newsletter_pages(self.site, articles, self.build.now, days, memo)

    def tag_sources(self) -> dict[str, str]:
        assert self.site is not None
        return tag_pages(self.site, list(self.articles.values()), self.build.now)

    def email_preview_sources(self) -> dict[str, str]:
        """The coming issue as static files, so the live preview serves and reloads them."""
        assert self.site is not None
        options = self.build
        articles = list(self.articles.values())
        issue, rendered = prepare_upcoming(self.site, articles, options.now, options.include_drafts)
        if rendered is None:
            note = f"No article is dated in the week of the {issue:%d/%m/%Y} digest yet."
            parts = {"email.html": f"<!DOCTYPE html><title>Digest preview</title><p>{note}</p>"}
            parts["email.txt"] = note + "\n"
        else:
            parts = sample_copy(self.site, rendered, Signer.from_environment(allow_preview=True))
        return {PREVIEW_HTML: parts["email.html"], PREVIEW_TEXT: parts["email.txt"]}

    def _last_modified(self, page: Page) -> Any:
        article = self.articles.get(page.file.src_uri)
        if article is not None:
            return article.modified
        planned = self.blog.page_for(page.file.src_uri)
        listed = [a.modified for a in planned.articles] if planned is not None else []
        newest = [a.modified for a in self.visible[:1]]
        return max(listed or newest or [self.build.now])

    def take_articles(self, fresh: dict[Path, Article]) -> None:
        """Edited articles that keep their places (`press serve`): the planned pages list
        the new versions."""
        self.blog = self.blog.with_articles(fresh)

    def source_of_posts(self) -> dict[str, str]:
        """Each shown article's source URI, by its URL."""
        return self.blog.post_sources

    def post_links(self, article: Article) -> list[tuple[str, str]]:
        """The article's related links as (text, site-relative URL or absolute URL): an
        article's file becomes its page, with the article's title unless one is given."""
        links = []
        for title, target in article.links:
            if target.startswith(("https://", "http://")):
                links.append((title or target, target))
                continue
            path, _, anchor = target.partition("#")
            other = self.articles.get(path)
            if other is None or other.path not in self.blog.source_of:
                continue  # a draft or a future article: not linked yet
            links.append((title or other.title, other.path + (f"#{anchor}" if anchor else "")))
        return links


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled Jinja templates in memory. Jinja checks each against its template's source,
    so an edited template is compiled again."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


def _convert_all(renderer: Any, sources: list[str]) -> dict[str, Any]:
    """Each page's Markdown, as MkDocs reads it from its source (without the front matter),
    converted."""
    bodies = [get_data(source)[0] for source in sources]
    return {body: renderer.render(body) for body in bodies}


def _add_listed_pages(
    files: Files, config: MkDocsConfig, pages: dict[str, str], index: str
) -> None:
    """Generated pages: the index goes in the navigation, the pages it lists do not."""
    for src_uri, content in pages.items():
        page = File.generated(config, src_uri, content=content)
        if src_uri.endswith(".md") and src_uri != index:
            page.inclusion = InclusionLevel.NOT_IN_NAV
        files.append(page)


def _load(root: Path) -> tuple[SiteConfig, list[Article]]:
    try:
        return load_content(root)
    except ContentError as exc:
        raise PluginError(f"content has problems:\n{exc}") from exc


def _home_title(source: Path) -> str:
    """The home page's own title (its front matter's), for the list's further pages."""
    if not source.is_file():
        return ""
    return str(get_data(source.read_text(encoding="utf-8"))[1].get("title") or "")


def _published(article: Article) -> Any:
    return article.published


def _template_settings(site: SiteConfig) -> dict[str, Any]:
    return {
        "tagline": site.tagline,
        "subscribe_endpoint": site.subscribe_endpoint,
        "subscribe_promise": site.subscribe_promise,
        "cadence": site.digest.cadence,
        "postal_address": site.email.postal_address,
        "theme_credit": site.theme_credit,
        "feeds": FEEDS,
    }
