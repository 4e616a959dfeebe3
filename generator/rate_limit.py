"""Per-client request limit for the subscribe endpoint: a sliding window kept in memory."""

from __future__ import annotations

import threading
from collections import OrderedDict, deque


class RateLimiter:
    """At most `limit` requests per `window` seconds per client; 0 disables it.

    Memory is bounded: beyond `max_clients` the least recently seen client is forgotten. The
    state lives in one process; several service machines each keep their own (see README).
    """

    def __init__(self, limit: int, window: float = 60.0, max_clients: int = 100_000) -> None:
        self.limit, self.window, self.max_clients = limit, window, max_clients
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, client: str, now: float) -> float:
        """0 if the request may go ahead (and counts it); otherwise seconds to wait."""
        if not self.limit:
            return 0.0
        with self._lock:
            hits = self._hits.pop(client, None) or deque()
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            self._hits[client] = hits
            if len(self._hits) > self.max_clients:
                self._hits.popitem(last=False)
            if len(hits) >= self.limit:
                return hits[0] + self.window - now
            hits.append(now)
            return 0.0
