"""Progress of a long send on the terminal: done / total, rate and time left."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TextIO


class Progress:
    """Redraws one line on a terminal (at most 5 times a second); elsewhere, as in CI logs,
    prints a line every `log_every` seconds."""

    def __init__(
        self,
        total: int,
        stream: TextIO,
        clock: Callable[[], float] = time.monotonic,
        log_every: float = 10.0,
    ) -> None:
        self.total, self.stream, self.clock = total, stream, clock
        self.tty = stream.isatty()
        self.interval = 0.2 if self.tty else log_every
        self.sent = self.failed = 0
        self.started = self.last = clock()
        self._lock = threading.Lock()

    def advance(self, sent: int = 0, failed: int = 0) -> None:
        with self._lock:
            self.sent += sent
            self.failed += failed
            now = self.clock()
            if now - self.last >= self.interval:
                self.last = now
                self._draw(now)

    def line(self, now: float | None = None) -> str:
        elapsed = max((now or self.clock()) - self.started, 1e-9)
        done = self.sent + self.failed
        rate = done / elapsed
        left = max(self.total - done, 0) / rate if rate else 0.0
        shown = f"{rate:,.1f}" if rate < 10 else f"{rate:,.0f}"  # a --rate 2 send is not "0"
        return (
            f"sent {self.sent:,}/{self.total:,}  failed {self.failed:,}  "
            f"{shown} msg/s  {_clock_time(left)} left"
        )

    def _draw(self, now: float) -> None:
        end = "\r" if self.tty else "\n"
        self.stream.write(self.line(now) + end)
        self.stream.flush()

    def finish(self) -> None:
        if self.tty:
            self.stream.write(self.line() + "\n")
            self.stream.flush()


def _clock_time(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02}:{whole % 60:02}"
