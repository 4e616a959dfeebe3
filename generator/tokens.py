"""Signed tokens for unsubscribe and confirmation links (HMAC-SHA256, constant-time checks).

The key comes from the environment (PRESS_SIGNING_KEY), never from a file in the repository.
A token is `base64url(purpose|subject|expiry).base64url(mac)`; the purpose is part of what is
signed, so an unsubscribe token can never be replayed as a confirmation token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from generator.errors import PressError

KEY_VARIABLE = "PRESS_SIGNING_KEY"
# Only for previews: messages signed with it are never sent (press send requires the real key).
PREVIEW_KEY = b"preview-key-not-secret"


class TokenError(PressError, ValueError):
    """Forged, tampered, expired or malformed."""


class InvalidToken(TokenError):
    """Not a token we signed for this purpose: forged, tampered, cut short or malformed."""


class ExpiredToken(TokenError):
    """Genuine, but past its expiry."""


@dataclass(frozen=True)
class Signer:
    key: bytes

    @classmethod
    def from_environment(cls, allow_preview: bool = False) -> Signer:
        value = os.environ.get(KEY_VARIABLE, "")
        if len(value) >= 16:
            return cls(value.encode("utf-8"))
        if allow_preview:
            return cls(PREVIEW_KEY)
        raise TokenError(f"set {KEY_VARIABLE} to a random secret of at least 16 characters")

    @cached_property
    def _pads(self) -> tuple[Any, Any]:
        """HMAC-SHA256 (RFC 2104) with the key's inner and outer pads hashed once.

        `sign` runs once per email of a send, in several threads. `hmac.digest` releases the
        interpreter lock on every call and must win it back from the other senders; copying a
        prepared hash object never lets go of it."""
        key = self.key if len(self.key) <= 64 else hashlib.sha256(self.key).digest()
        key = key.ljust(64, b"\0")
        inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
        return inner, outer

    @cached_property
    def _short_key(self) -> bytes:
        # Its own key, derived once, so these MACs and the HMAC tokens never share one.
        return hashlib.sha256(b"press short mac|" + self.key).digest()

    def short_mac(self, payload: bytes, size: int = 12) -> bytes:
        """A keyed BLAKE2b MAC of `size` bytes: one hash pass, a third of an HMAC's cost, for
        the values made once per email and link (click_links.py)."""
        return self.short_hasher(payload, size).digest()

    def short_hasher(self, prefix: bytes, size: int = 12) -> Any:
        """The short MAC's hash state after `prefix`: `copy()`, `update(rest)` and `digest()`
        give short_mac(prefix + rest) without keying a new hash each time."""
        return hashlib.blake2b(prefix, key=self._short_key, digest_size=size)

    def mac(self, payload: bytes) -> bytes:
        inner_pad, outer_pad = self._pads
        inner = inner_pad.copy()
        inner.update(payload)
        outer = outer_pad.copy()
        outer.update(inner.digest())
        return outer.digest()[:20]

    def sign(self, purpose: str, subject: str, expires: int = 0) -> str:
        return self.sign_bytes(purpose, subject, expires).decode("ascii")

    def sign_bytes(self, purpose: str, subject: str, expires: int = 0) -> bytes:
        """`sign` as ASCII bytes, for a message being assembled as bytes."""
        payload = f"{purpose}|{subject}|{expires}".encode()
        return b64url(payload) + b"." + b64url(self.mac(payload))

    def verify(self, purpose: str, token: str, now: int = 0) -> str:
        """The subject signed into `token`; raises TokenError unless it is genuine and current."""
        try:
            encoded, _, given = token.partition(".")
            payload, mac = _unb64(encoded), _unb64(given)
        except ValueError as exc:
            raise InvalidToken("malformed token") from exc
        expected = self.mac(payload)
        if not hmac.compare_digest(mac, expected):
            raise InvalidToken("invalid token")
        kind, _, rest = payload.decode("utf-8").partition("|")
        subject, _, expires = rest.rpartition("|")
        if kind != purpose:
            raise InvalidToken("token is for another purpose")
        if int(expires) and now > int(expires):
            raise ExpiredToken("token has expired")
        return subject


def subscription_subject(email: str, generation: int) -> str:
    """What an unsubscribe token signs: the address and the subscription it was issued for
    (`generation`, from when it was confirmed), so a link from before a reader left and came
    back changes nothing about the new subscription."""
    return f"{email}|{generation}"


def parse_subscription_subject(subject: str) -> tuple[str, int | None]:
    """(address, generation); generation None for a token made before tokens carried it."""
    email, _, generation = subject.rpartition("|")
    if email and generation.isdigit():
        return email, int(generation)
    return subject, None


_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = str.maketrans("-_", "+/")


def b64url(data: bytes) -> bytes:
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=")


def _unb64(text: str) -> bytes:
    """Strict base64url without padding: a token has exactly one accepted spelling, so
    padding, stray characters or non-zero spare bits are refused, never tolerated."""
    if not text or not text.isascii():
        raise ValueError("empty or not ASCII")
    try:
        data = base64.b64decode(
            text.translate(_FROM_URLSAFE) + "=" * (-len(text) % 4), validate=True
        )
    except binascii.Error as exc:
        raise ValueError(str(exc)) from exc
    if b64url(data) != text.encode("ascii"):
        raise ValueError("not the canonical spelling")
    return data
