"""The service's log: one line per event on standard error, `level=… event=… key=value`,
for journald (which adds the time) or any log shipper that splits on spaces.

Values with spaces, quotes or '=' are double-quoted with backslash escapes, and a traceback
is folded into the `exc` field, so one event is always one line. Addresses are not logged:
a subscriber's identity stays in the store, the log says what happened.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, TextIO

LOGGER = logging.getLogger("press")
_PLAIN = re.compile(r"^[^\s\"=\\]+$")


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {"level": record.levelname.lower()}
        if record.name != LOGGER.name:
            fields["logger"] = record.name  # uvicorn's own records
        fields["event"] = record.getMessage()
        fields.update(getattr(record, "fields", {}))
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        return " ".join(f"{key}={quoted(value)}" for key, value in fields.items())


def quoted(value: object) -> str:
    text = str(value)
    if text and _PLAIN.match(text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r") + '"'


def configure_logging(stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """Every record (press's and uvicorn's) as one key=value line on `stream`."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True


def log_event(event: str, level: int = logging.INFO, **fields: object) -> None:
    LOGGER.log(level, event, extra={"fields": fields})
