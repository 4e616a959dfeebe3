"""The tags index: /tag/ lists every tag with its count. Each tag's own pages are list pages
of the blog plan (excerpts, paginated like a category's), each with an RSS feed
(tag/<slug>/feed.xml)."""

from __future__ import annotations

from datetime import datetime

from generator.content.articles import Article, published_only
from generator.content.front_matter import format_front_matter
from generator.content.site_config import SiteConfig
from generator.content.slugs import slugify
from generator.site.newsletter import markdown_text

TAGS_INDEX = "tag/index.md"


def tag_pages(site: SiteConfig, articles: list[Article], now: datetime) -> dict[str, str]:
    """The index's Markdown keyed by its path under content/; nothing when no published
    article has a tag."""
    visible = published_only(articles, now)
    tags = sorted({t for a in visible for t in a.tags}, key=str.lower)
    if not tags:
        return {}
    return {TAGS_INDEX: _index(site, tags, visible)}


def _index(site: SiteConfig, tags: list[str], visible: list[Article]) -> str:
    meta = {"title": "Tags", "description": f"Every tag of {site.name}."}
    lines = ["# Tags", ""]
    for tag in tags:
        count = sum(tag in a.tags for a in visible)
        lines.append(f"- [{markdown_text(tag)}]({slugify(tag)}.md) ({count})")
    return format_front_matter(meta, "\n".join(lines) + "\n")
