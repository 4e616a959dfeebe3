"""Topics: the categories a subscriber follows. Stored as one canonical string (names sorted,
one per line) so subscribers with the same choice group together in SQL; "" follows every
category, which is the default and what anyone who never chose has."""

from __future__ import annotations

from collections.abc import Iterable

from generator.errors import PressError

EVERY = ""


class UnknownTopic(PressError, ValueError):
    """A topic that is not one of the site's categories."""


def stored_topics(names: Iterable[str]) -> str:
    return "\n".join(sorted({name.strip() for name in names if name.strip()}))


def topics_of(stored: str) -> tuple[str, ...]:
    return tuple(name for name in stored.split("\n") if name)


def checked_topics(names: Iterable[str], categories: Iterable[str]) -> tuple[str, ...]:
    """The chosen names, each one of `categories`; choosing every category is choosing none
    (a category added later is then followed too)."""
    allowed = tuple(categories)
    chosen = topics_of(stored_topics(names))
    unknown = [name for name in chosen if name not in allowed]
    if unknown:
        raise UnknownTopic(f"'{unknown[0]}' is not a topic here (topics: {', '.join(allowed)})")
    return () if set(chosen) == set(allowed) else chosen
