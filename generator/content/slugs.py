"""URL slugs from titles, in any script.

Latin letters lose their accents (`Café` → `cafe`, as URLs here always had); every other
letter and digit is kept as it is, lower-cased, as Material's `pymdownx.slugs` does with
Unicode: a Cyrillic, Greek, Chinese or Arabic title gets a readable slug, not a shared
fallback. Browsers show such paths as text and send them percent-encoded.
"""

from __future__ import annotations

import re
import unicodedata

# Letters and digits of any script, joined by single hyphens.
SLUG = re.compile(r"^[^\W_]+(?:-[^\W_]+)*$")
_SEPARATORS = re.compile(r"[\W_]+")


def slugify(title: str) -> str:
    """The slug of a title; '' when it has no letter or digit at all."""
    decomposed = unicodedata.normalize("NFKD", title)
    kept = []
    for char in decomposed:
        if unicodedata.combining(char) and kept and kept[-1].isascii():
            continue  # an accent on a Latin letter: café → cafe
        kept.append(char)
    text = unicodedata.normalize("NFC", "".join(kept)).lower()
    return _SEPARATORS.sub("-", text).strip("-")


def is_slug(text: str) -> bool:
    return bool(SLUG.match(text)) and text == text.lower()
