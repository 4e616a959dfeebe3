"""Run a function in a forked copy of this process and take its result back later.

The child shares nothing after the fork and sends its pickled result (or its exception) down
a pipe; `result()` reads it, waits for the child and returns or raises it. Leaving the
`forked` block without asking for the result still reaps the child.
"""

from __future__ import annotations

import os
import pickle
import signal
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class ForkedError(RuntimeError):
    """The child failed in a way that could not be sent back as its own exception."""


class Forked(Generic[T]):
    def __init__(self, work: Callable[[], T]) -> None:
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the caller's code
            os.close(reader)
            _run_child(work, writer)
        os.close(writer)
        self.pid, self.reader = pid, reader
        self.done = False

    def result(self) -> T:
        with os.fdopen(self.reader, "rb") as source:
            data = source.read()
        self._reap()
        try:
            kind, payload = pickle.loads(data)
        except Exception as exc:
            raise ForkedError("the forked process ended without a result") from exc
        if kind == "error":
            raise payload
        return payload

    def abandon(self) -> None:
        if not self.done:
            os.kill(self.pid, signal.SIGKILL)
            os.close(self.reader)
            self._reap()

    def _reap(self) -> None:
        if not self.done:
            os.waitpid(self.pid, 0)
            self.done = True


@contextmanager
def forked(work: Callable[[], T]) -> Iterator[Forked[T]]:
    job = Forked(work)
    try:
        yield job
    finally:
        job.abandon()


def _run_child(work: Callable[[], Any], writer: int) -> None:
    code = 0
    try:
        payload: Any = ("ok", work())
    except BaseException as exc:
        code = 1
        payload = ("error", exc)
        try:
            pickle.dumps(payload)
        except Exception:
            payload = ("error", ForkedError(f"{exc}\n{traceback.format_exc()}"))
    try:
        with os.fdopen(writer, "wb") as out:
            pickle.dump(payload, out, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        os._exit(code)
