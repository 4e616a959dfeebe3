"""Related reading: what to offer a reader who finished an article.

Up to three other published articles, ranked by shared tags (worth two) and shared categories
(worth one), then by recency, then by slug, so the choice is the same on every build. Drafts
and articles dated later never appear, and neither does the article itself.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from itertools import islice
from pathlib import Path

from generator.content.articles import Article

COUNT = 3


def related_articles(article: Article, articles: list[Article], now: datetime) -> list[Article]:
    return RelatedReading(articles, now).for_article(article)


class RelatedReading:
    """Indexed once per build: only articles sharing a tag or category are scored, so a site
    of n articles costs about n times its tag sizes, not n squared."""

    def __init__(self, articles: list[Article], now: datetime) -> None:
        published = [a for a in articles if a.is_published(now)]
        self.by_recency = sorted(published, key=_order)
        self.by_tag: dict[str, list[Article]] = defaultdict(list)
        self.by_category: dict[str, list[Article]] = defaultdict(list)
        for other in published:
            for tag in set(other.tags):
                self.by_tag[tag].append(other)
            for category in set(other.categories):
                self.by_category[category].append(other)

    def for_article(self, article: Article) -> list[Article]:
        scores: dict[Path, int] = defaultdict(int)
        sharing: dict[Path, Article] = {}
        for weight, postings, names in (
            (2, self.by_tag, set(article.tags)),
            (1, self.by_category, set(article.categories)),
        ):
            for name in names:
                for other in postings.get(name, ()):
                    scores[other.source] += weight
                    sharing[other.source] = other
        scores.pop(article.source, None)
        ranked = sorted(scores, key=lambda s: (-scores[s], *_order(sharing[s])))
        chosen = [sharing[s] for s in ranked[:COUNT]]
        unrelated = (
            a for a in self.by_recency if a.source not in scores and a.source != article.source
        )
        return chosen + list(islice(unrelated, COUNT - len(chosen)))


def _order(article: Article) -> tuple[float, str]:
    return (-article.published.timestamp(), article.slug)
