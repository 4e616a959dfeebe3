"""The digest as an email: built once as a byte template, personalised per subscriber by
joining precomputed segments (Personaliser), so the cost per recipient is a signature, a hash
and a join.

Bodies are quoted-printable. Each placeholder is cut out of the text before encoding and the
encoded pieces are joined with soft line breaks (`=` CRLF), which decode to nothing; so a
substituted URL never breaks the 76-column rule and never needs the whole body re-encoded.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from generator.content.site_config import SiteConfig
from generator.digest.click_links import ReaderMarks, link_url
from generator.digest.render import (
    LINK_PLACEHOLDER,
    PREFERENCES_PLACEHOLDER,
    UNSUBSCRIBE_PLACEHOLDER,
    RenderedDigest,
)
from generator.digest.schedule import send_moment
from generator.tokens import Signer, subscription_subject

CRLF = b"\r\n"
_HEADER_BREAKING = re.compile(r"[\r\n<>]")
SOFT_BREAK = b"=\r\n"


@dataclass(frozen=True)
class MessageTemplate:
    issue: str
    segments: tuple[bytes | str, ...]  # str items name a per-recipient value
    links: tuple[str, ...] = ()  # the site paths behind the slots `link:<n>` (counted)

    @property
    def fingerprint(self) -> str:
        """A short hash of the issue's bytes before personalisation: the preview an editor
        approved and the message a send delivers have the same fingerprint, or differ."""
        digest = hashlib.sha256()
        for segment in self.segments:
            digest.update(segment if isinstance(segment, bytes) else f"\0{segment}\0".encode())
        for link in self.links:
            digest.update(f"\0{link}\0".encode())
        return digest.hexdigest()[:12]


def build_message_template(site: SiteConfig, digest: RenderedDigest) -> MessageTemplate:
    boundary = "=_press_" + hashlib.sha256(digest.html.encode()).hexdigest()[:24]
    parts: list[bytes | str] = [_static_headers(site, digest, boundary)]
    parts += [b"To: ", "to", CRLF, b"Message-ID: <", "message_id", b">", CRLF]
    parts += [b"List-Unsubscribe: <", "unsubscribe_url", b">,", CRLF, b" <", "mailto", b">", CRLF]
    parts += [CRLF]
    for subtype, body in (("plain", digest.text), ("html", digest.html)):
        parts += [f"--{boundary}\r\n".encode()]
        parts += [f'Content-Type: text/{subtype}; charset="utf-8"\r\n'.encode()]
        parts += [b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"]
        parts += _body_segments(body)
        parts += [CRLF]
    parts += [f"--{boundary}--\r\n".encode()]
    return MessageTemplate(digest.issue.isoformat(), tuple(_merge(parts)), digest.links)


def _static_headers(site: SiteConfig, digest: RenderedDigest, boundary: str) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = site.email.sender()
    msg["Reply-To"] = site.email.reply_to
    msg["Subject"] = digest.subject  # EmailMessage refuses CR/LF: no header injection
    msg["Date"] = format_datetime(send_moment(site, digest.issue))
    msg["List-Id"] = f"{site.name} <digest.{site.domain}>"
    msg["List-Archive"] = f"<{site.absolute('newsletter/')}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["MIME-Version"] = "1.0"
    msg["Content-Type"] = f'multipart/alternative; boundary="{boundary}"'
    return msg.as_bytes().split(CRLF + CRLF, 1)[0] + CRLF


_PLACEHOLDERS = re.compile(f"({UNSUBSCRIBE_PLACEHOLDER}|{PREFERENCES_PLACEHOLDER}|PRESSLINK\\d+X)")


def _body_segments(text: str) -> list[bytes | str]:
    """The body quoted-printable, with each placeholder cut out as the slot(s) that fill it."""
    pieces = _PLACEHOLDERS.split(text)
    out: list[bytes | str] = []
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            out.append(qp_encode(piece))
            continue
        if out[-1] and not out[-1].endswith(CRLF):
            out.append(SOFT_BREAK)
        out += [*_slots(piece), SOFT_BREAK]
    return out


def _slots(placeholder: str) -> list[bytes | str]:
    if placeholder == UNSUBSCRIBE_PLACEHOLDER:
        return ["unsubscribe_qp"]
    if placeholder == PREFERENCES_PLACEHOLDER:
        return ["preferences_qp"]
    number = LINK_PLACEHOLDER.fullmatch(placeholder)
    assert number is not None
    return [f"link:{number[1]}", SOFT_BREAK, "reader_qp"]


def qp_encode(text: str) -> bytes:
    encoded = binascii.b2a_qp(text.replace("\r\n", "\n").encode("utf-8"), istext=True)
    # b2a_qp soft-breaks with a bare LF unless the input had CRLF; mail wants CRLF everywhere.
    return encoded.replace(b"\r\n", b"\n").replace(b"\n", CRLF)


def _merge(parts: list[bytes | str]) -> list[bytes | str]:
    merged: list[bytes | str] = []
    for part in parts:
        if isinstance(part, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] += part
        else:
            merged.append(part)
    return merged


class MessageIds:
    """Deterministic Message-IDs, `<kind>.<label>.<hash of label|key>@<domain>`: the same
    inputs always give the same id, so a resumed send repeats it exactly and a mail client
    shows a re-sent copy as the same message. What does not depend on the key is hashed once.
    """

    def __init__(self, kind: str, label: str, domain: str) -> None:
        self._hash = hashlib.sha256(f"{label}|".encode())
        self._prefix = f"{kind}.{label}.".encode() if label else f"{kind}.".encode()
        self._suffix = f"@{domain}".encode()

    def make(self, key: str) -> bytes:
        digest = self._hash.copy()
        digest.update(key.encode())
        return self._prefix + digest.hexdigest()[:24].encode() + self._suffix


def digest_message_ids(site: SiteConfig, issue: str) -> MessageIds:
    """One issue's ids, keyed by the recipient's address in lower case."""
    return MessageIds("digest", issue, site.domain)


class Personaliser:
    """Fills a template in for one recipient after another. Everything that does not depend
    on the recipient is worked out once here: per message, a send pays only for its tokens
    (HMACs), a hash and a join (it runs between SMTP transactions, once per subscriber)."""

    def __init__(self, site: SiteConfig, template: MessageTemplate, signer: Signer) -> None:
        self.signer = signer
        self.issue = template.issue
        self.unsubscribe_url = site.email.unsubscribe_url.encode("ascii")
        self.preferences_url = site.service_url("preferences/").encode("ascii")
        self.per_reader = site.email.click_readers
        # Tokens are base64url and '.', safe in a URL query: only the space needs escaping.
        self.mailto = f"mailto:{site.email.unsubscribe_mailto}?subject=unsubscribe%20".encode()
        self.message_ids = digest_message_ids(site, template.issue)
        self.marks = ReaderMarks(signer, template.issue)
        # Each counted link's URL up to its reader part is the same for every recipient: made
        # once per send and written into the segments, so only the reader part is a slot.
        links = {
            f"link:{n}": qp_url(link_url(site, signer, template.issue, target) + "?r=")
            for n, target in enumerate(template.links)
        }
        self.counted = bool(links)
        segments = _merge([links.get(s, s) if isinstance(s, str) else s for s in template.segments])
        # The reader part recurs in every counted link (dozens of times): the message is the
        # chunks between those joined with it, in C; only the few chunks holding another slot
        # are filled per recipient.
        pieces: list[list[bytes | str]] = [[]]
        for segment in segments:
            if segment == "reader_qp":
                pieces.append([])
            else:
                pieces[-1].append(segment)
        self.chunks = [b"".join(p) if _static(p) else b"" for p in pieces]  # type: ignore[arg-type]
        self.filled = [
            (index, piece, [(i, name) for i, name in enumerate(piece) if isinstance(name, str)])
            for index, piece in enumerate(pieces)
            if not _static(piece)
        ]

    def message(
        self,
        address: str,
        generation: int = 0,
        subscriber_id: int | None = None,
        sent_at: int = 0,
    ) -> bytes:
        """`generation` names the reader's current subscription in the unsubscribe and
        preferences links; `sent_at` (epoch seconds) goes into the counted links' reader part,
        and `subscriber_id` too when clicks are counted per reader."""
        if not address.isascii() or _HEADER_BREAKING.search(address):
            raise ValueError(f"address {address!r} cannot be written into a header")
        subject = subscription_subject(address, generation)
        token = self.signer.sign_bytes("unsubscribe", subject)
        url = self.unsubscribe_url + token
        values = {
            "to": address.encode(),
            "message_id": self.message_ids.make(address.lower()),
            "unsubscribe_url": url,
            "mailto": self.mailto + token,
            "unsubscribe_qp": qp_url(url),
            # The preferences page carries the unsubscribe token: it can do no more than
            # unsubscribe can (its own button does that), so one token serves both links.
            "preferences_qp": qp_url(self.preferences_url + token),
        }
        chunks = self.chunks.copy()
        for index, chunk, slots in self.filled:
            parts = chunk.copy()
            for at, name in slots:
                parts[at] = values[name]
            chunks[index] = b"".join(parts)  # type: ignore[arg-type]
        if not self.counted:
            return chunks[0]
        who = subscriber_id if self.per_reader else None
        name = self.marks.name(address, who)
        # Base64url, digits and dots, under 76 characters: quoted-printable leaves it as it is.
        return self.marks.token(name, sent_at).join(chunks)


def _static(piece: list[bytes | str]) -> bool:
    return all(isinstance(part, bytes) for part in piece)


# What quoted-printable leaves as it is: printable ASCII but "=" (a lone "." is encoded too).
_QP_LITERAL = re.compile(rb"[!-<>-~]{2,}")
QP_LINE = 76


def qp_url(url: bytes | str) -> bytes:
    """A URL quoted-printable: it has no line breaks, so b2a_qp's soft breaks are its only LFs.

    A URL of literal characters (a token link always is) needs only those soft breaks: every
    75 characters, the last line up to 76. Cut here directly, it costs a fifth of b2a_qp,
    twice per email."""
    raw = url.encode("ascii") if isinstance(url, str) else url
    if not _QP_LITERAL.fullmatch(raw):
        return binascii.b2a_qp(raw, istext=True).replace(b"\n", CRLF)
    lines, start = [], 0
    while len(raw) - start > QP_LINE:
        lines.append(raw[start : start + QP_LINE - 1])
        start += QP_LINE - 1
    lines.append(raw[start:])
    return SOFT_BREAK.join(lines)


def personalised_message(
    site: SiteConfig,
    template: MessageTemplate,
    signer: Signer,
    address: str,
    generation: int = 0,
    sent_at: int = 0,
) -> bytes:
    return Personaliser(site, template, signer).message(address, generation, sent_at=sent_at)
