"""The build clock: the one place that reads the time, so outputs can be reproduced."""

from __future__ import annotations

import os
from datetime import UTC, datetime


def current_time() -> datetime:
    """`SOURCE_DATE_EPOCH` when set (reproducible builds), otherwise the wall clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    return datetime.now(tz=UTC)
