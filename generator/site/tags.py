"""Tag pages: /tag/ lists every tag, /tag/<slug>/ the published articles that carry it, newest
first, each with its own RSS feed (tag/<slug>/feed.xml) like the category pages."""

from __future__ import annotations

import html
from datetime import datetime

from generator.content.articles import Article, published_only
from generator.content.front_matter import format_front_matter
from generator.content.site_config import SiteConfig
from generator.content.slugs import slugify
from generator.site.newsletter import markdown_text

TAGS_INDEX = "tag/index.md"


def tag_pages(site: SiteConfig, articles: list[Article], now: datetime) -> dict[str, str]:
    """Markdown keyed by path under content/; nothing when no published article has a tag."""
    visible = published_only(articles, now)
    tags = sorted({t for a in visible for t in a.tags}, key=str.lower)
    if not tags:
        return {}
    pages = {TAGS_INDEX: _index(site, tags, visible)}
    for tag in tags:
        tagged = [a for a in visible if tag in a.tags]
        pages[f"tag/{slugify(tag)}.md"] = _tag_page(site, tag, tagged)
    return pages


def _index(site: SiteConfig, tags: list[str], visible: list[Article]) -> str:
    meta = {"title": "Tags", "description": f"Every tag of {site.name}."}
    lines = ["# Tags", ""]
    for tag in tags:
        count = sum(tag in a.tags for a in visible)
        lines.append(f"- [{markdown_text(tag)}]({slugify(tag)}.md) ({count})")
    return format_front_matter(meta, "\n".join(lines) + "\n")


def _tag_page(site: SiteConfig, tag: str, tagged: list[Article]) -> str:
    # Material's templates print a page's title as HTML (the header, the tabs, search), as
    # MkDocs' titles from headings are: a tag is text, so it goes in escaped.
    title = html.escape(f"#{tag}", quote=False)
    meta = {"title": title, "description": f"Articles of {site.name} tagged {tag}."}
    lines = [f"# Articles tagged {markdown_text(tag)}", ""]
    for article in tagged:
        link = f"../{article.source.relative_to(site.content_dir).as_posix()}"
        when = f"{article.published:%d/%m/%Y}"
        lines.append(f"- [{markdown_text(article.title)}]({link}) · {when}")
    lines += ["", "[All tags](index.md)"]
    return format_front_matter(meta, "\n".join(lines) + "\n")
