"""Related reading: what to offer a reader who finished an article.

Up to three other published articles, ranked by shared tags (worth two) and shared categories
(worth one), then by recency, then by slug, so the choice is the same on every build. Drafts
and articles dated later never appear, and neither does the article itself.
"""

from __future__ import annotations

from datetime import datetime

from generator.content.articles import Article

COUNT = 3


def related_articles(article: Article, articles: list[Article], now: datetime) -> list[Article]:
    candidates = [a for a in articles if a.is_published(now) and a.source != article.source]
    scored = [(_score(article, other), other) for other in candidates]
    scored.sort(key=lambda pair: (-pair[0], -pair[1].published.timestamp(), pair[1].slug))
    return [other for _, other in scored[:COUNT]]


def _score(article: Article, other: Article) -> int:
    tags = len(set(article.tags) & set(other.tags))
    categories = len(set(article.categories) & set(other.categories))
    return 2 * tags + categories
