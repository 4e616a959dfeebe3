"""Variants of an issue: each subscriber gets that week's articles in their topics, so an issue
has one rendering per distinct set of articles its readers choose (never one per reader).

A variant is named by its articles: "" is the whole issue (everyone who follows every
category, and anyone whose topics cover the whole week); another set is named by a short hash
of its articles' slugs, so the same choice names the same variant in every run of a send.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from generator.content.articles import Article
from generator.content.topics import topics_of

WHOLE_ISSUE = ""


@dataclass(frozen=True)
class Variant:
    key: str
    articles: tuple[Article, ...]
    recipients: int  # subscribers who would get it now
    topics: tuple[str, ...]  # the stored topics that give it (one per line each)


def articles_in_topics(week: list[Article], topics: tuple[str, ...]) -> list[Article]:
    """The week's articles in any of `topics`, in the issue's order; () follows everything."""
    if not topics:
        return list(week)
    wanted = set(topics)
    return [article for article in week if wanted.intersection(article.categories)]


def variant_key(week: list[Article], chosen: list[Article]) -> str:
    if len(chosen) == len(week):
        return WHOLE_ISSUE
    slugs = "\n".join(article.slug for article in chosen)
    return hashlib.sha256(slugs.encode()).hexdigest()[:12]


def plan_variants(week: list[Article], selections: Mapping[str, int]) -> list[Variant]:
    """The variants the readers' choices (stored topics -> readers) call for, the whole issue
    always first (previews and test copies show it even with no reader choosing it)."""
    found: dict[str, tuple[list[Article], int, list[str]]] = {WHOLE_ISSUE: (list(week), 0, [])}
    for stored, readers in sorted(selections.items()):
        chosen = articles_in_topics(week, topics_of(stored))
        if not chosen:
            continue  # nothing this week in their topics: no email for them
        key = variant_key(week, chosen)
        articles, count, topics = found.setdefault(key, (chosen, 0, []))
        found[key] = (articles, count + readers, [*topics, stored])
    return [
        Variant(key, tuple(articles), count, tuple(topics))
        for key, (articles, count, topics) in found.items()
    ]


def variant_of_topics(variants: list[Variant]) -> dict[str, str]:
    """Stored topics -> the variant its readers get (topics with nothing this week absent)."""
    return {stored: variant.key for variant in variants for stored in variant.topics}
