"""Pictures are decoded before the build and reported at the `image:` line; active content in
an SVG picture or in the body is reported where it starts."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from generator.content.loader import read_content

from conftest import make_project

ARTICLE = """---
title: With a picture
date: 2026-11-10
authors: [amara]
image: assets/{name}
image_alt: A picture
---

Opening.

<!-- more -->

{body}
"""
IMAGE_LINE = 5


def png(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def problems_for(tmp_path: Path, name: str, data: bytes, body: str = "Body.") -> list[str]:
    project = make_project(
        tmp_path / "p", {"2026-11-10-pic.md": ARTICLE.format(name=name, body=body)}
    )
    (project / "content" / "assets" / name).write_bytes(data)
    _, _, problems = read_content(project)
    return [p.format() for p in problems if "2026-11-10-pic.md" in p.path]


@pytest.fixture(scope="module")
def big_png(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real 20000×20000 PNG: of one colour, it compresses to about 60 KB."""
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "complaint"),
    [
        ("text.png", b"This is a text file, not a picture.\n", "is not a PNG image"),
        ("cut.png", png()[:-40], "cannot be decoded"),
        ("jpeg-named.png", None, "is a JPEG file, not the PNG its name says"),
        ("empty.webp", b"", "is not a WEBP image"),
    ],
)
def test_a_picture_that_is_not_what_it_says_is_an_error_at_its_line(
    tmp_path: Path, name: str, data: bytes | None, complaint: str
):
    if data is None:
        out = io.BytesIO()
        Image.new("RGB", (10, 10)).save(out, "JPEG")
        data = out.getvalue()
    found = problems_for(tmp_path, name, data)
    assert len(found) == 1, found
    assert found[0].startswith(f"content/posts/2026-11-10-pic.md:{IMAGE_LINE}:8: image: ")
    assert complaint in found[0] and "warning" not in found[0]


def test_a_decompression_bomb_is_refused_at_its_line_without_decoding_it(
    tmp_path: Path, big_png: bytes
):
    found = problems_for(tmp_path, "huge.png", big_png)
    assert len(found) == 1 and f"pic.md:{IMAGE_LINE}:8: image:" in found[0], found
    assert "20000×20000 pixels" in found[0] or "too large to decode" in found[0]


def test_a_good_picture_passes(tmp_path: Path):
    assert problems_for(tmp_path, "fine.png", png()) == []


@pytest.mark.parametrize(
    ("svg", "complaint"),
    [
        ('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "<script>"),
        ('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>', "'onload'"),
        (
            '<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)">x</a></svg>',
            "javascript:",
        ),
        (
            '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><iframe src="x">'
            "</iframe></foreignObject></svg>",
            "<foreignObject>",
        ),
    ],
)
def test_an_svg_picture_with_active_content_is_a_warning_at_its_line(
    tmp_path: Path, svg: str, complaint: str
):
    found = problems_for(tmp_path, "active.svg", svg.encode())
    assert len(found) == 1, found
    assert f"pic.md:{IMAGE_LINE}:8: warning: image:" in found[0] and complaint in found[0]


def test_a_file_named_svg_without_an_svg_is_an_error(tmp_path: Path):
    found = problems_for(tmp_path, "not.svg", b"<html><body>hello</body></html>")
    assert len(found) == 1 and "is not an SVG image" in found[0] and "warning" not in found[0]


BODY = """Text <iframe src="https://x.example/"></iframe> here.

<div>
    <iframe src="https://y.example/"></iframe>
</div>

```html
<iframe src="https://shown.example/"></iframe>
```

    <script>shown as code</script>

<div markdown>
    <script>code inside a Markdown block</script>
</div>

<IFRAME
src=z></IFRAME>"""
BODY_LINE = 13  # the line of {body} in ARTICLE


def test_body_active_content_is_reported_at_its_line_and_code_samples_are_not(tmp_path: Path):
    found = problems_for(tmp_path, "fine.png", png(), body=BODY)
    places = [line.split(": warning:")[0].rsplit(":", 2)[-2:] for line in found]
    assert places == [
        [str(BODY_LINE), "6"],  # inline
        [str(BODY_LINE + 3), "5"],  # indented, but inside a raw HTML block: it runs
        [str(BODY_LINE + 16), "1"],  # split over two lines
    ], found
    assert all("<iframe> in the body" in line for line in found)
