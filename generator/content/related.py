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
    """Indexed once per build. Articles sharing a tag are scored one by one (a tag is
    specific, so few share it). The rest score only by shared categories, which is the same
    for every article with the same set of categories: within such a group, in recency
    order, only the first few can ever rank, so a site of n articles costs n times the
    number of groups, not n squared."""

    def __init__(self, articles: list[Article], now: datetime) -> None:
        published = sorted((a for a in articles if a.is_published(now)), key=_order)
        self.by_tag: dict[str, list[Article]] = defaultdict(list)
        self.groups: dict[frozenset[str], list[Article]] = defaultdict(list)
        for other in published:  # in ranking order, so each group is too
            for tag in set(other.tags):
                self.by_tag[tag].append(other)
            self.groups[frozenset(other.categories)].append(other)

    def for_article(self, article: Article) -> list[Article]:
        categories = set(article.categories)
        scores: dict[Path, int] = defaultdict(int)
        found: dict[Path, Article] = {}
        for tag in set(article.tags):
            for other in self.by_tag.get(tag, ()):
                scores[other.source] += 2
                found[other.source] = other
        for source, other in found.items():
            scores[source] += len(categories & set(other.categories))
        tagged = set(found)
        for group, members in self.groups.items():
            overlap = len(categories & group)
            eligible = (m for m in members if m.source not in tagged)
            for other in islice((m for m in eligible if m.source != article.source), COUNT):
                scores[other.source] = overlap
                found[other.source] = other
        scores.pop(article.source, None)
        ranked = sorted(scores, key=lambda s: (-scores[s], *_order(found[s])))
        return [found[s] for s in ranked[:COUNT]]


def _order(article: Article) -> tuple[float, str]:
    return (-article.published.timestamp(), article.slug)
