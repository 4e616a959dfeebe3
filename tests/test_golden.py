"""A golden-file mismatch shows what changed, as a unified diff."""

from __future__ import annotations

import pytest

from golden import GOLDEN, assert_golden


def test_a_mismatch_prints_a_unified_diff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRESS_UPDATE_GOLDEN", raising=False)
    name = "digest/2026-11-21-email.txt"
    changed = (GOLDEN / name).read_bytes().replace(b"Read more", b"Read on", 1)
    with pytest.raises(AssertionError) as failure:
        assert_golden(name, changed)
    message = str(failure.value)
    assert f"--- golden/{name}" in message and "+++ generated" in message
    assert "\n-Read more" in message and "\n+Read on" in message
