"""Write generated files into a staging tree, refusing to write any path twice."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from generator.errors import PressError


class OutputCollision(PressError):
    pass


def write_outputs(root: Path, files: Mapping[str, bytes]) -> None:
    """A path that already exists (from MkDocs or another writer) is a URL collision."""
    for relative, data in files.items():
        path = root / relative
        if path.exists():
            raise OutputCollision(f"two outputs want /{relative}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
