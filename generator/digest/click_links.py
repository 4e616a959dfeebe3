"""The signed parts of a counted link: `/r/<issue>/<mac>/<path>?r=<reader>` on the service.

`<mac>` signs the issue and the article's path on the site, so the service redirects only to a
page of the site that press put in that issue (never an open redirect: the target is always
the site's URL plus that path). `<reader>` is `<name>.<seconds>.<mac>`: who clicked, as a
pseudonym that is stable within one issue and unrelated across issues (the address is not in
it and cannot be read back without the signing key and the subscriber list), or as the
subscriber's id when the operator counts per reader; and the moment the message was made, so
a link scanner's fetch seconds after delivery is told apart from a reader's click.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from generator.content.site_config import SiteConfig
from generator.tokens import InvalidToken, Signer, b64url

MAC_BYTES = 12  # 96 bits: a forged link or reader would take ~2^95 tries on average


@dataclass(frozen=True)
class Reader:
    name: str  # a pseudonym, or "id-<subscriber id>"
    sent_at: int  # seconds since the epoch when the message was made


def _mac(signer: Signer, *parts: str) -> str:
    return b64url(signer.short_mac("|".join(parts).encode(), MAC_BYTES)).decode("ascii")


def site_path(site: SiteConfig, url: str) -> str | None:
    """`url` as a path on the site, or None for a URL elsewhere (left uncounted)."""
    return url[len(site.url) :] if url.startswith(site.url) else None


def link_url(site: SiteConfig, signer: Signer, issue: str, path: str) -> str:
    """The counted URL of the site's page `path` in `issue`, up to its reader part."""
    return site.service_url(f"r/{issue}/{_mac(signer, 'click', issue, path)}/{path}")


def link_genuine(signer: Signer, issue: str, mac: str, path: str) -> bool:
    return hmac.compare_digest(mac.encode(), _mac(signer, "click", issue, path).encode())


class ReaderMarks:
    """The reader parts of one issue's links. A send makes one per email: the keyed hashes of
    what every reader's parts share are made once here."""

    def __init__(self, signer: Signer, issue: str) -> None:
        self._pseudonym = signer.short_hasher(f"pseudonym|{issue}|".encode(), MAC_BYTES)
        self._reader = signer.short_hasher(f"reader|{issue}|".encode(), MAC_BYTES)

    def name(self, address: str, subscriber_id: int | None) -> bytes:
        if subscriber_id is not None:
            return b"id-%d" % subscriber_id
        mac = self._pseudonym.copy()
        mac.update(address.lower().encode())
        return b64url(mac.digest())

    def token(self, name: bytes, sent_at: int) -> bytes:
        """`<name>.<sent_at>.<mac>`: base64url, digits and dots."""
        signed = b"%s|%d" % (name, sent_at)
        mac = self._reader.copy()
        mac.update(signed)
        return b"%s.%d.%s" % (name, sent_at, b64url(mac.digest()))


def reader_name(signer: Signer, issue: str, address: str, subscriber_id: int | None) -> str:
    return ReaderMarks(signer, issue).name(address, subscriber_id).decode("ascii")


def reader_token(signer: Signer, issue: str, name: str, sent_at: int) -> bytes:
    return ReaderMarks(signer, issue).token(name.encode("ascii"), sent_at)


def read_reader(signer: Signer, issue: str, token: str) -> Reader:
    """Who a reader part names; InvalidToken unless we made exactly that for this issue."""
    name, _, rest = token.partition(".")
    sent_at, _, mac = rest.partition(".")
    if not (name and sent_at.isdigit() and len(sent_at) < 12 and mac.isascii()):
        raise InvalidToken("malformed reader")
    expected = _mac(signer, "reader", issue, name, sent_at)
    if not hmac.compare_digest(mac.encode(), expected.encode()):
        raise InvalidToken("invalid reader")
    return Reader(name, int(sent_at))
