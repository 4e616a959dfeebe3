"""`press new`: a correctly named article with valid front matter."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from generator.content.front_matter import format_front_matter
from generator.content.rendering import MORE
from generator.content.site_config import SiteConfig
from generator.content.slugs import slugify


class ArticleExists(FileExistsError):
    pass


def write_new_article(
    config: SiteConfig, title: str, author: str, category: str | None, now: datetime
) -> Path:
    today = now.astimezone(config.timezone).date()
    path = config.posts_dir / f"{today.isoformat()}-{slugify(title)}.md"
    metadata: dict[str, object] = {
        "title": title,
        "date": today.isoformat(),
        "authors": [author],
        "categories": [category] if category else [],
        "description": "One or two sentences that sell this article in the feed and the digest.",
        "draft": True,
    }
    body = (
        "Open with the one idea a reader should leave with.\n\n"
        f"{MORE}\n\n## Why it matters\n\nExplain, with an example from real work.\n"
    )
    text = format_front_matter(metadata, body)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as handle:  # "x": never overwrite an article
            handle.write(text)
    except FileExistsError as exc:
        raise ArticleExists(str(path)) from exc
    return path
