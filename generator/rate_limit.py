"""The one rate limiter: the subscribe endpoint's per-client limit and a send's `--rate`.

GCRA (the generic cell rate algorithm): a leaky bucket kept as one "theoretical arrival time"
per key. `limit` events may come at once; after that, one more every `window / limit` seconds.
A per-client sliding window would need a list of timestamps per client; this needs one float.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class RateLimiter:
    """At most `limit` events per `window` seconds per key; a limit of 0 disables it.

    `retry_after` refuses what is over the limit (the service answers 429); `reserve` always
    grants and says how long to wait first (a send keeps its pace). Memory is bounded: beyond
    `max_keys` the key seen least recently is forgotten. State lives in one process.
    """

    def __init__(
        self,
        limit: float,
        window: float = 60.0,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = window / limit if limit else 0.0
        self.tolerance = window - self.interval  # how far ahead of now the bucket may run
        self.max_keys, self.clock = max_keys, clock
        self._due: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> float:
        """0 if the event may go ahead (and counts it); otherwise seconds to wait."""
        if not self.interval:
            return 0.0
        with self._lock:
            now = self.clock()
            due = max(self._due.pop(key, now), now)
            wait = due - self.tolerance - now
            self._remember(key, due if wait > 0 else due + self.interval)
        return max(wait, 0.0)

    def reserve(self, key: str = "") -> float:
        """Count the event now and return how long to wait before it may happen."""
        if not self.interval:
            return 0.0
        with self._lock:
            now = self.clock()
            due = max(self._due.pop(key, now), now)
            self._remember(key, due + self.interval)
        return max(due - self.tolerance - now, 0.0)

    def _remember(self, key: str, due: float) -> None:
        self._due[key] = due
        if len(self._due) > self.max_keys:
            self._due.popitem(last=False)
