"""Golden files for bytes we own. PRESS_UPDATE_GOLDEN=1 rewrites them; review the diff."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"


def assert_golden(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("PRESS_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert path.is_file(), f"no golden file {path}; run with PRESS_UPDATE_GOLDEN=1"
    expected = path.read_bytes()
    if data != expected:
        diff = difflib.unified_diff(
            expected.decode("utf-8", "replace").splitlines(keepends=True),
            data.decode("utf-8", "replace").splitlines(keepends=True),
            fromfile=f"golden/{name}",
            tofile="generated",
        )
        raise AssertionError(
            f"{name} differs from its golden file (PRESS_UPDATE_GOLDEN=1 rewrites it):\n"
            + "".join(diff)
        )
