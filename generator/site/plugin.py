"""The `press` MkDocs plugin: with mkdocs_adapter.py beside it, the only code that imports MkDocs.

Registered as an entry point and listed in mkdocs.yml, so `press build`, `press serve` and plain
`mkdocs build` all render from the same checked Article model. Each build's state lives on the
plugin instance. MkDocs keeps a plugin that has `on_startup` for the whole of `mkdocs serve`,
so the folder of staged posts is made once per session and removed at its end.
"""

from __future__ import annotations

import hashlib
import html
import shutil
import tempfile
from collections.abc import Collection
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
from material.plugins.blog.structure import Post, View
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from mkdocs.utils.meta import get_data

from generator.clock import current_time
from generator.content.articles import Article
from generator.content.loader import load_content
from generator.content.problems import ContentError, display_path
from generator.content.related import RelatedReading
from generator.content.site_config import SiteConfig
from generator.content.slugs import slugify
from generator.digest.preview import prepare_upcoming, sample_copy
from generator.site.cached_pages import (
    cached_excerpt,
    finish_content,
    render_from_cache,
    render_memoised,
    render_with,
)
from generator.site.cards import build_cards, write_cards
from generator.site.first_paint import load_bundle_on_interaction
from generator.site.forked import Forked
from generator.site.html_fixes import fix_page_html
from generator.site.newsletter import INDEX, markdown_text, newsletter_pages
from generator.site.options import BuildOptions
from generator.site.parallel_pages import PageWriter
from generator.site.seo import page_meta
from generator.site.session_memo import SessionMemo
from generator.site.staging import normalized_post
from generator.site.tags import TAGS_INDEX, tag_pages
from generator.tokens import Signer

PREVIEW_HTML = "newsletter/preview/index.html"
PREVIEW_TEXT = "newsletter/preview.txt"
FEEDS = [
    ("application/rss+xml", "RSS", "feed.xml"),
    ("application/atom+xml", "Atom", "atom.xml"),
    ("application/feed+json", "JSON Feed", "feed.json"),
]


class PressPlugin(BasePlugin):
    def __init__(self) -> None:
        self.options: BuildOptions | None = None
        self.stage_dir: Path | None = None
        self.staged: dict[Path, bytes] = {}  # the copies in stage_dir: their text's digest
        self.site: SiteConfig | None = None
        self.articles: dict[str, Article] = {}  # by src_uri relative to content/
        self.visible: list[Article] = []
        self.related = RelatedReading([], current_time())
        self.rendered_views: dict[str, Any] = {}  # list pages' conversions, by their Markdown
        self.newest_listed: dict[int, Any] = {}  # newest modification, by list of posts
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
        self.stage_dir = Path(tempfile.mkdtemp(prefix="press-posts-"))

    def on_shutdown(self) -> None:
        if self.stage_dir is not None:
            shutil.rmtree(self.stage_dir, ignore_errors=True)
            self.stage_dir = None

    @property
    def build(self) -> BuildOptions:
        """What this build was asked for; plain `mkdocs` commands get the defaults."""
        return self.options or BuildOptions(now=current_time())

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        options = self.build
        site, articles = options.content or _load(Path(config.config_file_path).parent)
        self.site = site
        self.articles = {display_path(a.source, site.content_dir): a for a in articles}
        shown = [a for a in articles if a.is_published(options.now) or self._draft_shown(a)]
        self.visible = sorted(shown, key=lambda a: a.published, reverse=True)
        self.related = RelatedReading(articles, options.now)
        self.rendered_views = {}
        self.newest_listed = {}
        self.shows = {}
        self.conversions.next_build()
        self.issues.next_build()
        if self.stage_dir is None:  # a build without on_startup (an older MkDocs)
            self.stage_dir = Path(tempfile.mkdtemp(prefix="press-posts-"))
        # A rebuild: last round's copies stay until on_files, which rewrites only those
        # that changed and removes the rest.
        config.site_name, config.site_url = site.name, site.url
        config.site_description = site.description
        _configure_blog(config, site, options.include_drafts)
        config.extra["press"] = _template_settings(site)
        return config

    @event_priority(50)  # before Material's blog plugin reads the posts
    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        visible = {id(a) for a in self.visible}
        for file in list(files.documentation_pages()):
            article = self.articles.get(file.src_uri)
            if article is None:
                continue
            files.remove(file)
            if id(article) in visible:
                files.append(File.generated(config, file.src_uri, abs_src_path=self.stage(article)))
        self._remove_unstaged()
        self._add_newsletter_pages(files, config)
        self._add_tag_pages(files, config)
        if self.build.email_preview:
            self._add_email_preview(files, config)
        return files

    @event_priority(-100)  # after Material's blog plugin has read the posts and made views
    def on_nav(self, nav: Any, config: MkDocsConfig, files: Files) -> Any:
        self.files = files
        blog = config.plugins["material/blog"].blog
        blog.posts = IndexedPages(blog.posts)
        for view in _views(blog):
            pages = IndexedPages(view.pages)
            for page in pages:  # a view's pagination pages share its list
                page.pages = pages
        return nav

    @event_priority(-100)  # after Material's blog plugin made the post's excerpt
    def on_page_markdown(
        self, markdown: str, page: Page, config: MkDocsConfig, files: Files
    ) -> str:
        # lastmod in the sitemap (and the sitemap.xml.gz timestamp) come from article dates.
        assert self.site is not None
        modified = self._last_modified(page).astimezone(self.site.timezone)
        page.update_date = modified.date().isoformat()
        article = self.articles.get(page.file.src_uri)
        if isinstance(page, View):
            if page.name:  # Material writes a view's name as its Markdown heading: it is text
                markdown = page.markdown = f"# {markdown_text(page.name)}\n"
            render_memoised(page, self.rendered_views)
        elif page.file.generated_by == "press" and article is None:
            render_with(page, self._convert)
        if article is None or not isinstance(page, Post):
            return markdown
        page.excerpt = cached_excerpt(page, article, files, config.site_url or "", self.note_shown)
        render_from_cache(page, article)
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
        if article is not None and isinstance(page, Post):
            finish_content(page, article, self.files)
        # A page's title is HTML to MkDocs and Material; the metadata wants its text.
        page_title = html.unescape(page.meta.get("title") or page.title or "")
        title = article.title if article else page_title
        description = article.description if article else page.meta.get("description", "")
        canonical = page.canonical_url or self.site.url
        context["article"] = article
        context["tag_slug"] = slugify
        context["related"] = self.related.for_article(article) if article else []
        for other in context["related"]:
            self.note_shown(other, page)
        listing = page.url.startswith(("category/", "tag/")) and page.url != "tag/"
        context["category_feed"] = (
            page.url + "feed.xml" if listing and "/page/" not in page.url else None
        )
        title = str(title or self.site.name)
        context["seo"] = page_meta(self.site, canonical, title, description, article)
        return context

    def on_post_page(self, output: str, page: Page, config: MkDocsConfig) -> str:
        return load_bundle_on_interaction(fix_page_html(output))

    def on_post_template(
        self, output_content: str, template_name: str, config: MkDocsConfig
    ) -> str:
        if not template_name.endswith(".html"):
            return output_content
        return load_bundle_on_interaction(fix_page_html(output_content))

    def _draft_shown(self, article: Article) -> bool:
        return self.build.include_drafts and article.draft

    def on_env(self, env: Any, config: MkDocsConfig, files: Files) -> Any:
        env.bytecode_cache = self.templates
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

    def stage(self, article: Article) -> str:
        """Writes the copy of `article` that Material reads; returns its path."""
        assert self.stage_dir is not None
        path = self.stage_dir / f"{article.slug}.md"
        text = normalized_post(article, show_draft=self._draft_shown(article))
        digest = hashlib.sha256(text.encode("utf-8")).digest()
        if self.staged.get(path) != digest:
            path.write_text(text, encoding="utf-8")
            self.staged[path] = digest
        return str(path)

    def _remove_unstaged(self) -> None:
        assert self.stage_dir is not None
        wanted = {self.stage_dir / f"{a.slug}.md" for a in self.visible}
        for old in set(self.staged) - wanted:
            old.unlink(missing_ok=True)
            del self.staged[old]

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
        listed = getattr(page, "posts", None) or []
        # Every page of a paginated view shares its list of posts: one maximum per list.
        known = self.newest_listed.get(id(listed)) if listed else None
        if known is None:
            dates = [
                self.articles[p.file.src_uri].modified
                for p in listed
                if p.file.src_uri in self.articles
            ]
            newest = [a.modified for a in self.visible[:1]]
            known = max(dates or newest or [self.build.now])
            if listed:
                self.newest_listed[id(listed)] = known
        return known


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


class IndexedPages(list):  # type: ignore[type-arg]
    """Material's lists of posts and of a view's pages, with constant-time `in` and `index`.
    Material's page events and its nav template ask whether each page is in these lists,
    which costs pages × list length `Page.__eq__` calls on a plain list. Pages are equal
    only when their files are, so finding the file first gives the same answers."""

    def __init__(self, pages: list[Page]) -> None:
        super().__init__(pages)
        self._at: dict[str, int] = {}
        for at, page in enumerate(pages):
            self._at.setdefault(page.file.src_uri, at)

    def __contains__(self, page: object) -> bool:
        return self._find(page) is not None

    def index(self, page: Any, *args: Any) -> int:
        at = self._find(page)
        return super().index(page, *args) if at is None or args else at

    def _find(self, page: object) -> int | None:
        file = getattr(page, "file", None)
        at = self._at.get(getattr(file, "src_uri", None))  # type: ignore[arg-type]
        if at is None:
            return None
        known = self[at]
        return at if known is page or known == page else None


def _convert_all(renderer: Any, sources: list[str]) -> dict[str, Any]:
    """Each page's Markdown, as MkDocs reads it from its source (without the front matter),
    converted."""
    bodies = [get_data(source)[0] for source in sources]
    return {body: renderer.render(body) for body in bodies}


def _views(view: Any) -> Any:
    yield view
    for child in view.views:
        yield from _views(child)


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


def _configure_blog(config: MkDocsConfig, site: SiteConfig, drafts: bool) -> None:
    blog = config.plugins["material/blog"].config
    blog.categories_allowed = list(site.categories)
    blog.categories_slugify = lambda text, _sep: slugify(text)
    blog.post_slugify = lambda text, _sep: slugify(text)
    blog.draft = drafts


def _template_settings(site: SiteConfig) -> dict[str, Any]:
    return {
        "tagline": site.tagline,
        "subscribe_endpoint": site.subscribe_endpoint,
        "subscribe_promise": site.subscribe_promise,
        "feeds": FEEDS,
    }
