"""MkDocs hooks: with mkdocs_adapter.py beside it, the only code that imports MkDocs.

Registered in mkdocs.yml, so `press build`, `press serve` and plain `mkdocs build` all render
from the same checked Article model.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page

from generator.content.articles import Article
from generator.content.slugs import slugify
from generator.site.options import build_options
from generator.content.site_config import SiteConfig
from generator.content.loader import load_content
from generator.digest.preview import prepare_upcoming, sample_copy
from generator.site.html_fixes import fix_page_html
from generator.site.newsletter import INDEX, newsletter_pages
from generator.site.staging import normalized_post
from generator.content.problems import ContentError, display_path
from generator.site.seo import page_meta
from generator.tokens import Signer

PREVIEW_HTML = "newsletter/preview/index.html"
PREVIEW_TEXT = "newsletter/preview.txt"


class _State:
    site: SiteConfig
    articles: dict[str, Article]  # by src_uri relative to content/
    visible: list[Article]
    stage: Path


state = _State()


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    options = build_options()
    site, articles = options.content or _load(Path(config.config_file_path).parent)
    state.site = site
    state.articles = {display_path(a.source, site.content_dir): a for a in articles}
    shown = [a for a in articles if a.is_published(options.now) or _draft_shown(a)]
    state.visible = sorted(shown, key=lambda a: a.published, reverse=True)
    state.stage = Path(tempfile.mkdtemp(prefix="press-posts-"))
    config.site_name, config.site_url = site.name, site.url
    config.site_description = site.description
    _configure_blog(config, site)
    config.extra["press"] = _template_settings(site)
    return config


def _load(root: Path) -> tuple[SiteConfig, list[Article]]:
    try:
        return load_content(root)
    except ContentError as exc:
        raise PluginError(f"content has problems:\n{exc}") from exc


def _draft_shown(article: Article) -> bool:
    return build_options().include_drafts and article.draft


def _configure_blog(config: MkDocsConfig, site: SiteConfig) -> None:
    blog = config.plugins["material/blog"].config
    blog.categories_allowed = list(site.categories)
    blog.categories_slugify = lambda text, _sep: slugify(text)
    blog.post_slugify = lambda text, _sep: slugify(text)
    blog.draft = build_options().include_drafts


def _template_settings(site: SiteConfig) -> dict[str, Any]:
    return {
        "tagline": site.tagline,
        "subscribe_endpoint": site.subscribe_endpoint,
        "subscribe_promise": site.subscribe_promise,
        "feeds": [
            ("application/rss+xml", "RSS", "feed.xml"),
            ("application/atom+xml", "Atom", "atom.xml"),
            ("application/feed+json", "JSON Feed", "feed.json"),
        ],
    }


@event_priority(50)  # before Material's blog plugin reads the posts
def on_files(files: Files, config: MkDocsConfig) -> Files:
    visible = {id(a) for a in state.visible}
    for file in list(files.documentation_pages()):
        article = state.articles.get(file.src_uri)
        if article is None:
            continue
        files.remove(file)
        if id(article) in visible:
            files.append(File.generated(config, file.src_uri, abs_src_path=_stage(article)))
    _add_newsletter_pages(files, config)
    if build_options().email_preview:
        _add_email_preview(files, config)
    return files


def _add_email_preview(files: Files, config: MkDocsConfig) -> None:
    """The coming issue as static files, so the live preview serves and reloads them too."""
    options = build_options()
    articles = list(state.articles.values())
    issue, rendered = prepare_upcoming(state.site, articles, options.now, options.include_drafts)
    if rendered is None:
        note = f"No article is dated in the week of the {issue:%d/%m/%Y} digest yet."
        parts = {"email.html": f"<!DOCTYPE html><title>Digest preview</title><p>{note}</p>"}
        parts["email.txt"] = note + "\n"
    else:
        parts = sample_copy(state.site, rendered, Signer.from_environment(allow_preview=True))
    for name, uri in (("email.html", PREVIEW_HTML), ("email.txt", PREVIEW_TEXT)):
        files.append(File.generated(config, uri, content=parts[name]))


def _add_newsletter_pages(files: Files, config: MkDocsConfig) -> None:
    pages = newsletter_pages(state.site, list(state.articles.values()), build_options().now)
    for src_uri, content in pages.items():
        page = File.generated(config, src_uri, content=content)
        if src_uri.endswith(".md") and src_uri != INDEX:
            page.inclusion = InclusionLevel.NOT_IN_NAV  # the archive lists them; the tabs do not
        files.append(page)


def _stage(article: Article) -> str:
    path = state.stage / f"{article.slug}.md"
    path.write_text(normalized_post(article, show_draft=_draft_shown(article)), encoding="utf-8")
    return str(path)


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    # lastmod in the sitemap (and the sitemap.xml.gz timestamp) come from article dates.
    page.update_date = _last_modified(page).astimezone(state.site.timezone).date().isoformat()
    return markdown


def _last_modified(page: Page) -> Any:
    article = state.articles.get(page.file.src_uri)
    if article is not None:
        return article.modified
    listed = getattr(page, "posts", None) or []
    dates = [
        state.articles[p.file.src_uri].modified for p in listed if p.file.src_uri in state.articles
    ]
    newest = [a.modified for a in state.visible[:1]]
    return max(dates or newest or [build_options().now])


def on_page_context(context: dict[str, Any], page: Page, config: MkDocsConfig, nav: Any) -> dict:
    article = state.articles.get(page.file.src_uri)
    title = article.title if article else (page.meta.get("title") or page.title or state.site.name)
    description = article.description if article else page.meta.get("description", "")
    canonical = page.canonical_url or state.site.url
    context["article"] = article
    is_category = page.url.startswith("category/") and "/page/" not in page.url
    context["category_feed"] = page.url + "feed.xml" if is_category else None
    context["seo"] = page_meta(state.site, canonical, str(title), description, article)
    return context


def on_shutdown() -> None:
    stage = getattr(state, "stage", None)
    if stage is not None:
        for path in stage.glob("*.md"):
            path.unlink()
        stage.rmdir()


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    return fix_page_html(output)


def on_post_template(output_content: str, template_name: str, config: MkDocsConfig) -> str:
    return fix_page_html(output_content) if template_name.endswith(".html") else output_content
