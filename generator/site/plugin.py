"""The `press` MkDocs plugin: the blog plan (generator/blog) rendered through MkDocs' documented
events, with the theme's templates. Material's blog plugin is not used.

Registered as an entry point and listed in mkdocs.yml, so `press build`, `press serve` and plain
`mkdocs build` all render from the same checked Article model. Each build's state lives on the
plugin instance; MkDocs keeps a plugin that has `on_startup` for the whole of `mkdocs serve`, so
what it remembers between rebuilds lasts the session.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.utils.meta import get_data

from generator.blog.plan import BlogLayout, BlogPlan, Kind, plan_blog
from generator.clock import current_time
from generator.content.articles import Article
from generator.content.loader import load_content
from generator.content.problems import ContentError, display_path
from generator.content.related import RelatedReading
from generator.content.site_config import SiteConfig
from generator.site.blog_pages import (
    HOME,
    BlogFiles,
    add_blog_files,
    blog_navigation,
    planned_files,
)
from generator.site.cards import build_cards, write_cards
from generator.site.fragments import (
    FragmentCache,
    Titled,
    Translations,
    config_key,
    forget_fragments,
    frame_key,
    header_key,
    shallow_key,
    with_material_prefix,
)
from generator.site.generated_pages import GeneratedPages
from generator.site.html_fixes import TemplateFixes, fix_navigation, toc_toggled
from generator.site.options import BuildOptions
from generator.site.page_context import fill_context
from generator.site.page_inputs import ArticlePrints
from generator.site.page_sources import prepare_page
from generator.site.parallel_pages import PageWriter
from generator.site.relative_bodies import RelativeBodies

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
        self.layout = BlogLayout()
        self.blog = BlogFiles()
        self.related = RelatedReading([], current_time())
        self.page_writer: PageWriter | None = None  # set by `press build --jobs N`
        # The articles each page shows other than its own (as excerpts, or under "Read
        # next"), by the page's source: `press serve` renders again the pages showing an
        # article whose text changed.
        self.shows: dict[str, set[Path]] = {}
        self.generated = GeneratedPages()  # newsletter, tags, /subscribe/, the coming email
        self.bodies = RelativeBodies()  # posts' bodies with links relative to their pages
        self.article_prints = ArticlePrints()  # press serve: each article's part, build to build
        self.templates = _CompiledTemplates()  # compiled once per session, by their source
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
        self.layout = BlogLayout(per_page=site.posts_per_page, home_title=home or site.name)
        self._take_plan(self.plan_for(articles, options), articles, options.now)
        self.shows = {}
        self.generated.next_build()
        self.article_prints.next_build()
        config.site_name, config.site_url = site.name, site.url
        config.site_description = site.description
        config.extra["press"] = _template_settings(site)
        return config

    def plan_for(self, articles: list[Article], options: BuildOptions) -> BlogPlan:
        """The blog's pages for these articles, with this build's settings."""
        assert self.site is not None
        return plan_blog(
            articles,
            self.site,
            options.now,
            self.layout,
            options.include_drafts,
            options.email_preview,
        )

    def _take_plan(self, plan: BlogPlan, articles: list[Article], now: datetime) -> None:
        self.plan = plan
        posts = plan.of_kind(Kind.POST)
        self.visible = sorted((p.articles[0] for p in posts), key=_published, reverse=True)
        self.related = RelatedReading(articles, now)

    def take_plan(self, plan: BlogPlan, articles: list[Article]) -> None:
        """A new plan for these articles (`press serve`, planning again in place): the model
        and the blog's files follow it; the caller puts MkDocs' files and pages in line."""
        assert self.site is not None
        content_dir = self.site.content_dir
        self.articles = {display_path(a.source, content_dir): a for a in articles}
        self._take_plan(plan, articles, self.build.now)
        self.blog = planned_files(plan, self.source_of)

    def source_of(self, article: Article) -> str:
        """The source URI of an article's file among MkDocs' files."""
        assert self.site is not None
        return display_path(article.source, self.site.content_dir)

    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        assert self.site is not None
        self.blog = add_blog_files(files, config, self.plan, self.articles)
        articles = list(self.articles.values())
        self.generated.add(files, config, self.site, articles, self.build)
        return files

    def on_nav(self, nav: Any, config: MkDocsConfig, files: Files) -> Any:
        self.files = files
        nav = blog_navigation(nav, files, self.blog)
        writer = self.page_writer
        # A build that writes every page, with processes to spare: `press build --jobs`, the
        # first build of `press serve` (its later builds write few pages, in one process).
        if writer is not None and writer.jobs > 1 and self.build.jobs > 1:
            self.bodies.start(self.articles, files)  # files and URLs are final now
        return nav

    def on_page_read_source(self, page: Page, config: MkDocsConfig) -> str | None:
        # A post is rendered from its Article: its file is not read again.
        return "" if page.file.src_uri in self.articles else None

    def on_page_markdown(
        self, markdown: str, page: Page, config: MkDocsConfig, files: Files
    ) -> str:
        prepare_page(self, page)
        return markdown

    @event_priority(100)  # before the search plugin writes its index
    def on_post_build(self, config: MkDocsConfig) -> None:
        self.generated.finish()
        self.generated.stop()
        self.bodies.collect()
        if self.page_writer is not None:
            self.page_writer.flush(config)
        self.bodies.stop()
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
        return fill_context(self, context, page)

    def on_env(self, env: Any, config: MkDocsConfig, files: Files) -> Any:
        env.bytecode_cache = self.templates
        env.add_extension(FragmentCache)
        env.add_extension(TemplateFixes)  # Material's markup fixed as its templates load
        env.filters["press_fix_navigation"] = fix_navigation
        env.globals["press_toc_toggled"] = toc_toggled
        forget_fragments(env)
        env.globals["press_frame_key"] = frame_key
        env.globals["press_header_key"] = header_key
        env.globals["press_config_key"] = config_key
        env.globals["press_shallow_key"] = shallow_key
        env.globals["press_titled"] = Titled(env)
        with_material_prefix(env, config.theme.dirs, config.theme.custom_dir)
        env.globals["press_translate"] = Translations(env, config.theme["language"] or "en")
        return env

    def note_shown(self, article: Article, page: Page) -> None:
        self.shows.setdefault(page.file.src_uri, set()).add(article.source)

    def showing(self, source: Path) -> set[str]:
        """The pages that show the article read from `source`, other than its own."""
        return {page for page, shown in self.shows.items() if source in shown}

    def on_build_error(self, error: Exception) -> None:
        self.generated.stop()
        self.bodies.stop()

    def take_articles(self, fresh: dict[Path, Article]) -> None:
        """Edited articles that keep their places (`press serve`): the planned pages list
        the new versions."""
        self.blog = self.blog.with_articles(fresh)


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
        "topics": list(site.categories),
        "postal_address": site.email.postal_address,
        "theme_credit": site.theme_credit,
        "feeds": FEEDS,
    }
