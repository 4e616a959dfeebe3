"""What `press serve` keeps from one plan of the site to the next: results made from inputs
their key names in full, so a new plan makes again only what changed."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class SessionMemo(Generic[T]):
    """Results by key. Only those asked for during the last build are kept into the next, so
    a long session holds no more than a build uses."""

    def __init__(self) -> None:
        self.now: dict[Hashable, T] = {}
        self.before: dict[Hashable, T] = {}

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        found = self.now.get(key)
        if found is None:
            found = self.before.get(key)
            if found is None:
                found = make()
            self.now[key] = found
        return found

    def remember(self, key: Hashable, value: T) -> None:
        self.now[key] = value

    def next_build(self) -> None:
        self.before, self.now = self.now, {}

    def forget(self) -> None:
        """For a build whose templates or settings may differ: nothing is reused."""
        self.now, self.before = {}, {}
