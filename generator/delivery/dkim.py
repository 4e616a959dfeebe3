"""DKIM signatures (RFC 6376) on every message press sends: rsa-sha256, and optionally a second
ed25519-sha256 signature (RFC 8463) for receivers that check the newer algorithm.

Signed with `cryptography` directly rather than through dkimpy's `sign`: the key is parsed
once, OpenSSL does the RSA (dkimpy does it in Python and parses the PEM on every call), and no
`t=` tag is written, so a resumed send repeats a message byte for byte. The tests verify every
signature with dkimpy, an independent implementation, against keys served by a local DNS
server.

Canonicalisation is relaxed/relaxed: the form that survives relays which re-fold headers or
trim trailing spaces.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from generator.content.site_config import DkimSettings
from generator.errors import PressError

KEY_VARIABLE = "PRESS_DKIM_PRIVATE_KEY"
KEY_FILE_VARIABLE = "PRESS_DKIM_KEY_FILE"
MIN_RSA_BITS = 2048
# Signed once per instance present and once more, so that nobody on the way can add a second
# From or Subject that a mail client would show instead (RFC 6376 section 8.15).
OVERSIGNED = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "reply-to",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "list-id",
    "mime-version",
    "content-type",
)
SIGNED_IF_PRESENT = ("content-transfer-encoding", "auto-submitted", "list-archive")

_WSP = re.compile(rb"[ \t]+")
# The same runs, less the single spaces that are already canonical: far fewer replacements.
_WSP_TO_COLLAPSE = re.compile(rb"\t[ \t]*| [ \t]+")
_WSP_BEFORE_CRLF = re.compile(rb" \r\n")
_FIELD_NAME = re.compile(rb"^([!-9;-~]+)[ \t]*:", re.M)


class DkimKeyError(PressError, ValueError):
    """The signing key is missing, unreadable, of the wrong kind or too short."""


@dataclass(frozen=True)
class SigningKeys:
    rsa: rsa.RSAPrivateKey
    ed25519: ed25519.Ed25519PrivateKey | None = None


def load_signing_keys(
    environ: Mapping[str, str] | None = None, project: Path | None = None
) -> SigningKeys:
    """The private keys from PRESS_DKIM_PRIVATE_KEY (PEM text) or PRESS_DKIM_KEY_FILE (a PEM
    file outside the project). Either may hold one RSA key and, optionally, one Ed25519 key."""
    env = os.environ if environ is None else environ
    text = env.get(KEY_VARIABLE, "").strip()
    path = env.get(KEY_FILE_VARIABLE, "").strip()
    if text and path:
        raise DkimKeyError(f"set {KEY_VARIABLE} or {KEY_FILE_VARIABLE}, not both")
    if path:
        text = _read_key_file(Path(path), project)
    if not text:
        raise DkimKeyError(
            f"email.dkim is set: put the private key's PEM text in {KEY_VARIABLE}, or its path "
            f"in {KEY_FILE_VARIABLE} (outside the project folder)"
        )
    return _parse_keys(text)


def _read_key_file(path: Path, project: Path | None) -> str:
    if project is not None and path.resolve().is_relative_to(project.resolve()):
        raise DkimKeyError(
            f"{KEY_FILE_VARIABLE}: {path} is inside the project; keep the key outside it "
            "(a key in the repository is a key anyone can sign with)"
        )
    if not path.is_file():
        raise DkimKeyError(f"{KEY_FILE_VARIABLE}: {path} is not a file")
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise DkimKeyError(f"{KEY_FILE_VARIABLE}: cannot read {path}: {exc}") from exc


_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", re.S)


def _parse_keys(text: str) -> SigningKeys:
    rsa_key, ed_key = None, None
    blocks = _PEM_BLOCK.findall(text)
    if not blocks:
        raise DkimKeyError("the DKIM key is not PEM text (-----BEGIN PRIVATE KEY----- ...)")
    for block in blocks:
        try:
            key = serialization.load_pem_private_key(block.encode("ascii"), password=None)
        except (ValueError, TypeError) as exc:
            raise DkimKeyError(f"the DKIM key cannot be read: {exc}") from exc
        if isinstance(key, rsa.RSAPrivateKey) and rsa_key is None:
            if key.key_size < MIN_RSA_BITS:
                raise DkimKeyError(
                    f"the DKIM RSA key has {key.key_size} bits; receivers want {MIN_RSA_BITS}"
                )
            rsa_key = key
        elif isinstance(key, ed25519.Ed25519PrivateKey) and ed_key is None:
            ed_key = key
        else:
            raise DkimKeyError("the DKIM keys must be one RSA key and at most one Ed25519 key")
    if rsa_key is None:
        raise DkimKeyError(
            "the DKIM keys need an RSA key (rsa-sha256 is what every receiver checks)"
        )
    return SigningKeys(rsa_key, ed_key)


def public_record(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> str:
    """The TXT record that publishes the key at `<selector>._domainkey.<domain>`."""
    public = key.public_key()
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return f"v=DKIM1; k=ed25519; p={base64.b64encode(raw).decode()}"
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"


class DkimSigner:
    """Adds the DKIM-Signature fields to a whole message (bytes with CRLF line ends)."""

    def __init__(self, settings: DkimSettings, keys: SigningKeys) -> None:
        self.domain = settings.domain.encode("ascii")
        self.signatures: list[tuple[bytes, bytes, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey]]
        self.signatures = [(b"rsa-sha256", settings.selectors[0].encode("ascii"), keys.rsa)]
        if settings.ed25519_selector:
            if keys.ed25519 is None:
                raise DkimKeyError(
                    "email.dkim.ed25519_selector is set but the DKIM keys hold no Ed25519 key"
                )
            selector = settings.ed25519_selector.encode("ascii")
            self.signatures.append((b"ed25519-sha256", selector, keys.ed25519))

    def sign(self, message: bytes) -> bytes:
        head, separator, body = message.partition(b"\r\n\r\n")
        fields = _fields(head + b"\r\n")
        names, signed = _signed_fields(fields)
        body_hash = base64.b64encode(hashlib.sha256(relaxed_body(body)).digest())
        added = b""
        for algorithm, selector, key in self.signatures:
            tags = (
                b"v=1; a=" + algorithm + b"; c=relaxed/relaxed; d=" + self.domain
                + b"; s=" + selector + b";\r\n\th=" + b":".join(names)
                + b";\r\n\tbh=" + body_hash + b";\r\n\tb="
            )  # fmt: skip
            data = signed + relaxed_header(b"DKIM-Signature: " + tags)[:-2]
            added = b"DKIM-Signature: " + tags + _signature(key, data) + b"\r\n" + added
        return added + message if separator else message


def _signature(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey, data: bytes) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        # RFC 8463: Ed25519 signs the SHA-256 hash of the data, not the data itself.
        return base64.b64encode(key.sign(hashlib.sha256(data).digest()))
    return base64.b64encode(key.sign(data, padding.PKCS1v15(), hashes.SHA256()))


def _fields(head: bytes) -> list[tuple[bytes, bytes]]:
    """Each header field as (lower-case name, the field's exact bytes with its CRLF)."""
    starts = [m.start() for m in _FIELD_NAME.finditer(head)]
    out = []
    for start, end in zip(starts, [*starts[1:], len(head)], strict=True):
        field = head[start:end]
        out.append((field.split(b":", 1)[0].rstrip(b" \t").lower(), field))
    return out


def _signed_fields(fields: list[tuple[bytes, bytes]]) -> tuple[list[bytes], bytes]:
    """The h= names and the canonical text they cover, instances taken from the bottom up."""
    by_name: dict[bytes, list[bytes]] = {}
    for name, field in fields:
        by_name.setdefault(name, []).append(field)
    names: list[bytes] = []
    signed: list[bytes] = []
    for text in OVERSIGNED + SIGNED_IF_PRESENT:
        name = text.encode()
        present = by_name.get(name, [])
        for field in reversed(present):
            names.append(name)
            signed.append(relaxed_header(field))
        if text in OVERSIGNED and present:
            names.append(name)  # an instance that is not there signs as empty
    return names, b"".join(signed)


def relaxed_header(field: bytes) -> bytes:
    """RFC 6376 3.4.2: lower-case name, unfolded, runs of space collapsed, ends trimmed."""
    name, _, value = field.partition(b":")
    value = _WSP.sub(b" ", value.replace(b"\r\n", b"")).strip(b" ")
    return name.rstrip(b" \t").lower() + b":" + value + b"\r\n"


def relaxed_body(body: bytes) -> bytes:
    """RFC 6376 3.4.4: runs of space collapsed, none at line ends, no empty lines at the end."""
    body = _WSP_TO_COLLAPSE.sub(b" ", body)
    if b" \r\n" in body:  # quoted-printable never ends a line in a space: skip the pass
        body = _WSP_BEFORE_CRLF.sub(b"\r\n", body)
    body = body.removesuffix(b" ")
    end = len(body)
    while end >= 2 and body.startswith(b"\r\n", end - 2):
        end -= 2
    return body[:end] + b"\r\n" if end else b""
