"""Share cards: a 1200×630 PNG per post for Open Graph and Twitter, drawn with Pillow.

Material's social plugin would fetch its fonts from Google Fonts during the build and needs
cairo; these cards use the DejaVu fonts shipped in `fonts/` (Latin, Greek, Cyrillic and more)
and Pillow alone, so a build makes no request and the same inputs give the same bytes. Each
card is cached in `.cache/press/cards/` under a hash of everything drawn on it, the fonts and
the Pillow version.
"""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path

import PIL
from PIL import Image, ImageChops, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from generator.content.articles import Article
from generator.content.site_config import SiteConfig

WIDTH, HEIGHT = 1200, 630
FORMAT = "press-card-1"
FONTS = Path(__file__).resolve().parent / "fonts"
BOLD, REGULAR = FONTS / "DejaVuSans-Bold.ttf", FONTS / "DejaVuSans.ttf"
# The theme's colours (templates/theme/assets/press.css): primary dark teal, light accent.
BACKGROUND, ACCENT, TEXT = (0, 77, 64), (128, 203, 196), (255, 255, 255)
MARGIN = 80
TITLE_SIZES = (76, 66, 58, 50, 44)  # the largest that fits in TITLE_LINES wins
TITLE_LINES = 4
TITLE_TOP, TITLE_BOTTOM = 140, HEIGHT - 150  # the byline starts below TITLE_BOTTOM


@dataclass(frozen=True)
class CardText:
    blog: str
    title: str
    byline: str  # "Written by … · Published DD/MM/YYYY"
    domain: str


def card_path(article: Article) -> str:
    """Where a post's card is published, relative to the site root."""
    return f"assets/cards/{article.slug}.png"


def card_alt(article: Article, site: SiteConfig) -> str:
    return f"{article.title}, by {_names(article)}, on {site.name}"


def build_cards(
    site: SiteConfig, articles: list[Article], cache_dir: Path | None, jobs: int = 1
) -> dict[str, bytes]:
    """Every article's card, by output path; drawn only when the cache lacks it, across
    `jobs` processes when there are many to draw."""
    if jobs > 1 and len(articles) >= 4 * jobs:
        global _drawing
        _drawing = partial(_draw_one, site, articles, cache_dir)  # forked workers inherit it
        context = multiprocessing.get_context("fork")
        chunk = max(1, len(articles) // (4 * jobs))
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            cards = list(pool.map(_draw_nth, range(len(articles)), chunksize=chunk))
    else:
        cards = [share_card(site, a, cache_dir) for a in articles]
    return {card_path(a): card for a, card in zip(articles, cards, strict=True)}


_drawing: Callable[[int], bytes] | None = None


def _draw_one(site: SiteConfig, articles: list[Article], cache_dir: Path | None, n: int) -> bytes:
    return share_card(site, articles[n], cache_dir)


def _draw_nth(n: int) -> bytes:
    assert _drawing is not None
    return _drawing(n)


def write_cards(cards: dict[str, bytes], site_dir: Path) -> None:
    for path, png in cards.items():
        target = site_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(png)


def share_card(site: SiteConfig, article: Article, cache_dir: Path | None) -> bytes:
    text = CardText(
        blog=site.name,
        title=article.title,
        byline=f"Written by {_names(article)} · Published {article.published:%d/%m/%Y}",
        domain=site.domain,
    )
    picture = _picture(site, article)
    key = _key(text, picture)
    cached = cache_dir / key[:2] / f"{key}.png" if cache_dir else None
    if cached is not None:
        found = _read(cached, key)
        if found is not None:
            return found
    png = draw_card(text, picture, key)
    if cached is not None:
        _write(cached, png)
    return png


def draw_card(text: CardText, picture: bytes | None = None, key: str = "") -> bytes:
    white, accent = _masks(text)
    card = _on_picture(picture, white, accent) if picture else _on_colour(white, accent)
    out = io.BytesIO()
    label = PngInfo()
    label.add_text(_LABEL, key)  # no date or software chunk: same inputs, same bytes
    card.save(out, format="PNG", compress_level=1, pnginfo=label)
    return out.getvalue()


def _masks(text: CardText) -> tuple[Image.Image, Image.Image]:
    """Where the white and the accent-coloured ink goes, antialiased (0 to 255)."""
    white, accent = Image.new("L", (WIDTH, HEIGHT)), Image.new("L", (WIDTH, HEIGHT))
    ink, mark = ImageDraw.Draw(white), ImageDraw.Draw(accent)
    mark.rectangle((0, 0, 16, HEIGHT), fill=255)
    mark.text((MARGIN, 64), text.blog, font=_font(BOLD, 34), fill=255)
    size, lines = fit_title(text.title, WIDTH - 2 * MARGIN)
    font, y = _font(BOLD, size), TITLE_TOP
    for line in lines:
        ink.text((MARGIN, y), line, font=font, fill=255)
        y += _leading(size)
    ink.text((MARGIN, HEIGHT - 128), text.byline, font=_font(REGULAR, 30), fill=255)
    mark.text((MARGIN, HEIGHT - 80), text.domain, font=_font(BOLD, 28), fill=255)
    return white, accent


def _on_colour(white: Image.Image, accent: Image.Image) -> Image.Image:
    """A 256-colour card: every pixel is the background blended towards white or the accent,
    so a palette holds it exactly; it encodes several times faster and smaller than RGB."""
    to_white = white.point([v * 127 // 255 for v in range(256)])
    to_accent = accent.point([0] + [128 + v * 127 // 255 for v in range(1, 256)])
    card = Image.frombytes("P", (WIDTH, HEIGHT), ImageChops.add(to_white, to_accent).tobytes())
    card.putpalette(_PALETTE)
    return card


def _on_picture(picture: bytes, white: Image.Image, accent: Image.Image) -> Image.Image:
    card = _background(picture)
    card.paste(TEXT, (0, 0, WIDTH, HEIGHT), white)
    card.paste(ACCENT, (0, 0, WIDTH, HEIGHT), accent)
    return card


def _ramp(start: tuple[int, int, int], end: tuple[int, int, int]) -> list[int]:
    pairs = list(zip(start, end, strict=True))
    return [round(a + (b - a) * i / 127) for i in range(128) for a, b in pairs]


_PALETTE = _ramp(BACKGROUND, TEXT) + _ramp(BACKGROUND, ACCENT)


def fit_title(title: str, width: int) -> tuple[int, list[str]]:
    """The largest size whose wrapped lines fit; at the smallest, the last line is cut."""
    for size in TITLE_SIZES:
        lines = wrap(title, _font(BOLD, size), width)
        if len(lines) <= _lines_that_fit(size):
            return size, lines
    size = TITLE_SIZES[-1]
    font = _font(BOLD, size)
    lines = wrap(title, font, width)[: _lines_that_fit(size)]
    last = lines[-1]
    while last and font.getlength(last + "…") > width:
        last = last[:-1].rstrip()
    lines[-1] = last + "…"
    return size, lines


def _leading(size: int) -> int:
    return round(size * 1.2)


def _lines_that_fit(size: int) -> int:
    return min(TITLE_LINES, (TITLE_BOTTOM - TITLE_TOP) // _leading(size))


def wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Words greedily onto lines no wider than `width`; a word wider than a line is split."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while font.getlength(word) > width:
            cut = max(1, _fitting_prefix(word, font, width))
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines


def _fitting_prefix(word: str, font: ImageFont.FreeTypeFont, width: int) -> int:
    cut = len(word)
    while cut > 1 and font.getlength(word[:cut]) > width:
        cut -= 1
    return cut


def _background(picture: bytes | None) -> Image.Image:
    card = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    if picture is None:
        return card
    try:
        photo = Image.open(io.BytesIO(picture)).convert("RGB")
    except (OSError, ValueError):
        return card  # a picture Pillow cannot read (SVG, say): the plain card
    scale = max(WIDTH / photo.width, HEIGHT / photo.height)
    size = (max(WIDTH, round(photo.width * scale)), max(HEIGHT, round(photo.height * scale)))
    photo = photo.resize(size, Image.Resampling.LANCZOS)
    left, top = (photo.width - WIDTH) // 2, (photo.height - HEIGHT) // 2
    photo = photo.crop((left, top, left + WIDTH, top + HEIGHT))
    # The article's picture under a veil of the site colour, so white text stays legible.
    return Image.blend(photo, card, 0.78)


@cache
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    # The basic layout engine: the same glyph positions wherever the card is drawn.
    return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.BASIC)


@cache
def _font_digest() -> str:
    return hashlib.sha256(BOLD.read_bytes() + REGULAR.read_bytes()).hexdigest()


def _key(text: CardText, picture: bytes | None) -> str:
    parts = [FORMAT, PIL.__version__, _font_digest(), *vars(text).values()]
    parts.append(hashlib.sha256(picture).hexdigest() if picture else "")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _picture(site: SiteConfig, article: Article) -> bytes | None:
    if not article.image:
        return None
    try:
        return (site.content_dir / article.image).read_bytes()
    except OSError:
        return None


def _names(article: Article) -> str:
    names = [a.name for a in article.authors]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


_LABEL = "press-card"


def _read(path: Path, key: str) -> bytes | None:
    """A cached card, if it is an intact PNG drawn for `key`; otherwise it is drawn again."""
    try:
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG" or image.info.get(_LABEL) != key:
                return None
            image.verify()  # every chunk's CRC: a flipped bit is caught
    except (OSError, ValueError, SyntaxError):
        return None
    return data


def _write(path: Path, png: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".card-", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(png)
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written only costs time
