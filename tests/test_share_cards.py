"""Share cards: size, wrapping without overflow, fonts that cover the title, exact bytes."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from generator.site import cards
from generator.site.build import build_all
from generator.site.cards import MARGIN, WIDTH, CardText, draw_card, fit_title
from generator.site.options import BuildOptions

from conftest import NOW
from golden import assert_golden

BYLINE = "Written by Amara Okafor · Published 23/11/2026"
TITLES = {
    "short": "Quiet voices in loud rooms",
    "long": (
        "When every meeting turns into a status update, the quiet engineers who see the "
        "risks first stop speaking, and the team slowly loses its early warning system "
        "for everything that matters"
    ),
    "non-latin": "Тихие голоса в шумных комнатах: Ήσυχες φωνές σε θορυβώδη δωμάτια",
}


def card(title: str) -> bytes:
    return draw_card(
        CardText("The Leadership Press", title, BYLINE, "leadership-press.example.org")
    )


def test_three_cards_match_their_golden_hashes() -> None:
    lines = [f"{name} {hashlib.sha256(card(t)).hexdigest()}\n" for name, t in TITLES.items()]
    assert_golden("share-cards.sha256", "".join(lines).encode())


@pytest.mark.parametrize("name", TITLES)
def test_cards_are_1200_by_630_and_nothing_overflows(name: str) -> None:
    image = Image.open(io.BytesIO(card(TITLES[name])))
    assert image.format == "PNG" and image.size == (1200, 630)
    white, _ = cards._masks(CardText("Blog", TITLES[name], BYLINE, "example.org"))
    left, _, right, bottom = white.getbbox()
    assert left >= MARGIN and right <= WIDTH - MARGIN and bottom <= 630 - 64
    size, lines = fit_title(TITLES[name], WIDTH - 2 * MARGIN)
    assert len(lines) * cards._leading(size) <= cards.TITLE_BOTTOM - cards.TITLE_TOP
    shown = " ".join(lines).removesuffix("…")
    if name == "long":
        assert lines[-1].endswith("…") and TITLES[name].startswith(shown)
    else:
        assert shown == TITLES[name]


def test_the_shipped_fonts_draw_every_letter_of_the_non_latin_title() -> None:
    font = cards._font(cards.BOLD, 60)

    def glyph(char: str) -> bytes:
        image = Image.new("L", (90, 90))
        ImageDraw.Draw(image).text((10, 5), char, font=font, fill=255)
        return image.tobytes()

    missing = glyph("\ue000")  # a private-use character: the font's missing-glyph box
    letters = set(TITLES["non-latin"]) - {" ", ":"}
    assert {c for c in letters if glyph(c) == missing} == set()
    assert glyph("\u4e2d") == missing  # CJK is not covered: the check can tell


def test_every_post_links_its_card_and_a_second_build_draws_none(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[str] = []
    real = cards.draw_card
    monkeypatch.setattr(
        cards, "draw_card", lambda text, *a: drawn.append(text.title) or real(text, *a)
    )
    report = build_all(example_project, BuildOptions(now=NOW), jobs=1)
    assert len(drawn) == report.published
    for page in (report.site_dir / "posts").glob("*/index.html"):
        meta = {
            m.attributes["property"]: m.attributes["content"]
            for m in HTMLParser(page.read_text()).css("meta[property^='og:image']")
        }
        assert meta["og:image:width"] == "1200" and meta["og:image:height"] == "630"
        assert meta["og:image:alt"].startswith(HTMLParser(page.read_text()).css_first("h1").text())
        path = meta["og:image"].removeprefix("https://leadership-press.example.org/")
        assert Image.open(report.site_dir / path).size == (1200, 630)

    drawn.clear()
    build_all(example_project, BuildOptions(now=NOW), jobs=1, force=True)
    assert drawn == []
