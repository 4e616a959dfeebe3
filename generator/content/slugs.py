"""URL slugs from titles, in any script.

Latin letters lose their accents (`Café` → `cafe`, as URLs here always had); every other
letter and digit is kept as it is, lower-cased, as Material's `pymdownx.slugs` does with
Unicode: a Cyrillic, Greek, Chinese or Arabic title gets a readable slug, not a shared
fallback. Browsers show such paths as text and send them percent-encoded.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Longer slugs are cut at a hyphen and end in a hash of the whole: a URL stays readable, a
# file name stays far below the 255 bytes file systems allow, and two long titles that share
# their first words still get two URLs (a true collision is still reported as one).
MAX_SLUG_BYTES = 80
_HASH_CHARS = 8

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
    return bounded(_SEPARATORS.sub("-", text).strip("-"))


def bounded(slug: str) -> str:
    if len(slug.encode("utf-8")) <= MAX_SLUG_BYTES:
        return slug
    suffix = "-" + hashlib.sha256(slug.encode("utf-8")).hexdigest()[:_HASH_CHARS]
    room = MAX_SLUG_BYTES - len(suffix)
    head = slug.encode("utf-8")[:room].decode("utf-8", "ignore")
    if "-" in head[len(head) // 2 :]:
        head = head[: head.rindex("-")]  # end at a word when one ends in the second half
    return head.strip("-") + suffix


def is_slug(text: str) -> bool:
    return bool(SLUG.match(text)) and text == text.lower()
