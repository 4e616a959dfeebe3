"""Article pictures, checked before a build: the file is the image its name says, whole, and
of a size a share card and a reader's browser can decode; an SVG carries no active content.

A text file named `.png`, a truncated download or a 20000×20000 "decompression bomb" would
otherwise publish a broken picture or end the build inside Pillow, naming neither the article
nor its `image:` line."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from selectolax.lexbor import LexborHTMLParser

MAX_PIXELS = 40_000_000  # 40 megapixels: far above any web picture, far below a bomb
FORMATS = {  # what Pillow must find inside a file of each suffix
    ".png": {"PNG"},
    ".jpg": {"JPEG", "MPO"},
    ".jpeg": {"JPEG", "MPO"},
    ".gif": {"GIF"},
    ".webp": {"WEBP"},
    ".avif": {"AVIF"},
}
_ACTIVE_SVG = "script, foreignobject, iframe, embed, object"


@dataclass(frozen=True)
class PictureProblem:
    message: str  # completes "the picture …"
    warning: bool = False  # published anyway (active SVG content); an error otherwise


def picture_problem(path: Path) -> PictureProblem | None:
    """Why the picture at `path` should not be published, or None."""
    stat = path.stat()
    return _checked(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=4096)
def _checked(path: str, size: int, mtime_ns: int) -> PictureProblem | None:
    # Keyed by size and modification time: a preview session decodes each picture once.
    suffix = Path(path).suffix.lower()
    if suffix == ".svg":
        return _svg_problem(Path(path))
    message = _bitmap_problem(Path(path), suffix)
    return PictureProblem(message) if message else None


def _bitmap_problem(path: Path, suffix: str) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as picture:
                found = picture.format or "?"
                if found not in FORMATS[suffix]:
                    return f"is a {found} file, not the {suffix[1:].upper()} its name says"
                width, height = picture.size
                if width * height > MAX_PIXELS:
                    return (
                        f"is {width}×{height} pixels, more than {MAX_PIXELS // 1_000_000} "
                        "megapixels (resize it for the web)"
                    )
                picture.load()  # every byte decoded: a truncated file fails here
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        return f"is too large to decode safely ({exc})"
    except UnidentifiedImageError:
        return f"is not a {suffix[1:].upper()} image (the file's content is not a picture)"
    except (OSError, SyntaxError, ValueError) as exc:
        return f"cannot be decoded ({exc}); the file may be truncated or damaged"
    return ""


def _svg_problem(path: Path) -> PictureProblem | None:
    tree = LexborHTMLParser(path.read_bytes().decode("utf-8", errors="replace"))
    if tree.css_first("svg") is None:
        return PictureProblem("is not an SVG image (no <svg> element)")
    active = _svg_active_part(tree)
    return (
        PictureProblem(f"holds {active}, which runs in readers' browsers", True) if active else None
    )


def _svg_active_part(tree: LexborHTMLParser) -> str:
    for node in tree.css(_ACTIVE_SVG):
        return f"a <{node.tag}> element"
    for node in tree.css("*"):
        for name, value in node.attributes.items():
            if name.lower().startswith("on"):
                return f"an '{name}' attribute on <{node.tag}>"
            if "javascript:" in (value or "").lower().replace(" ", ""):
                return f"a javascript: link on <{node.tag}>"
    return ""
