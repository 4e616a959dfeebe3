"""Reading what mail servers send back after accepting a message: delivery status notifications
(RFC 3464), the plain-text bounces some servers still write, and complaint reports (RFC 5965,
ARF, from mailbox providers' feedback loops). Parsed with the standard library's email package.

Each message becomes one `Feedback` per recipient it names, or nothing: a message that fits no
known shape is reported as unclassified, never guessed at.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import mailbox
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage, Message
from pathlib import Path

from generator.errors import PressError

HARD, SOFT, COMPLAINT = "hard", "soft", "complaint"
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")


VerpLookup = Callable[[str], str | None]


@dataclass(frozen=True)
class Feedback:
    kind: str  # hard, soft or complaint
    recipient: str  # lower case
    detail: str  # the status code or feedback type, for the report


@dataclass(frozen=True)
class Incoming:
    key: str  # the message's Message-ID (what makes ingesting twice count once)
    source: str  # where it was read from, for people
    feedback: tuple[Feedback, ...]  # empty: not a bounce or complaint we can read


class NotAMailFile(PressError, ValueError):
    """A path that is not a regular file (a FIFO, device or socket): never opened, since
    reading one can block forever (a cron job would hang)."""


def read_messages(path: Path) -> Iterator[tuple[str, bytes]]:
    """(where, raw bytes) for a Maildir, an mbox file, one .eml file or a folder of them.
    Every file is checked before any is read, so a special file stops the run up front."""
    if path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir():
        found = sorted(_maildir_files(path))
        for _, file in found:
            _regular(file)
        for key, file in found:
            yield f"{path}/{key}", file.read_bytes()
    elif path.is_dir():
        files = sorted(path.rglob("*.eml"))
        for file in files:
            _regular(file)
        for file in files:
            yield str(file), file.read_bytes()
    elif _regular(path).read_bytes()[:5] == b"From ":
        for index, message in enumerate(mailbox.mbox(path, create=False)):
            yield f"{path}#{index + 1}", message.as_bytes()
    else:
        yield str(path), path.read_bytes()


def _maildir_files(path: Path) -> Iterator[tuple[str, Path]]:
    """(key, file) of each message in new/ and cur/, as mailbox.Maildir names them."""
    for folder in ("new", "cur"):
        for file in (path / folder).iterdir():
            if not file.name.startswith("."):
                yield file.name.split(":", 1)[0], file


def _regular(file: Path) -> Path:
    try:
        mode = os.stat(file).st_mode
    except OSError as exc:
        raise NotAMailFile(f"{file}: cannot be read ({exc.strerror})") from exc
    if not stat.S_ISREG(mode):
        raise NotAMailFile(f"{file}: not a regular file (a FIFO, device or socket is never read)")
    return file


def classify(raw: bytes, source: str, verp: VerpLookup | None = None) -> Incoming:
    """`verp` names the subscriber a VERP bounce address was made for (None: not ours)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    key = str(message.get("Message-ID", "")).strip() or "sha256:" + hashlib.sha256(raw).hexdigest()
    report = message.get_param("report-type", header="content-type") or ""
    tagged = _verp_recipient(message, verp)
    if message.get_content_type() == "multipart/report" and report == "feedback-report":
        found = _complaint(message)
    elif message.get_content_type() == "multipart/report" and report == "delivery-status":
        found = _delivery_status(message, tagged)
    else:
        found = _failed_recipients_header(message, tagged)
    return Incoming(key, source, tuple(found))


def _verp_recipient(message: EmailMessage, verp: VerpLookup | None) -> str:
    """The reader a bounce was for, from the VERP address it was sent back to."""
    if verp is None:
        return ""
    for header in ("X-Original-To", "Delivered-To", "Envelope-To", "To"):
        for address in _ADDRESS.findall(str(message.get(header, ""))):
            found = verp(address)
            if found:
                return found.lower()
    return ""


def _delivery_status(message: EmailMessage, tagged: str = "") -> list[Feedback]:
    """RFC 3464: one block per recipient with Action and Status; failed is hard (5.x.x),
    delayed is soft (4.x.x); delivered, relayed and expanded say nothing about the reader."""
    found = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in _status_blocks(part):
            named = block.get("Final-Recipient") or block.get("Original-Recipient")
            recipient = _address(named) or tagged  # VERP names the reader when the DSN does not
            action = str(block.get("Action", "")).strip().lower()
            status = _STATUS.search(str(block.get("Status", "")))
            if not recipient or not status:
                continue
            if action == "failed" and status[1] == "5":
                found.append(Feedback(HARD, recipient, status[0]))
            elif action in ("failed", "delayed") and status[1] == "4":
                found.append(Feedback(SOFT, recipient, status[0]))
    return found


def _status_blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)][1:]
    # Some servers send the blocks as text: parse them as header groups.
    text = payload if isinstance(payload, str) else ""
    groups = [g for g in re.split(r"\r?\n\s*\r?\n", text.strip()) if g.strip()]
    return [email.message_from_string(g + "\n") for g in groups[1:]]


def _failed_recipients_header(message: EmailMessage, tagged: str = "") -> list[Feedback]:
    """Exim's plain-text bounces name the failed addresses in X-Failed-Recipients; a text
    bounce to a VERP address names its reader by that address. The text must say what kind
    of failure it is, or the message is left unclassified (an out-of-office reply is not)."""
    header = str(message.get("X-Failed-Recipients", ""))
    recipients = _ADDRESS.findall(header) or ([tagged] if tagged else [])
    if not recipients:
        return []
    body = message.get_body(("plain",))
    text = (body.get_content() if body is not None else "").lower()
    status = _STATUS.search(text)
    if "permanent" in text or (status and status[1] == "5"):
        kind, detail = HARD, status[0] if status else "5.0.0"
    elif "temporary" in text or (status and status[1] == "4"):
        kind, detail = SOFT, status[0] if status else "4.0.0"
    elif header:
        kind, detail = HARD, "5.0.0"  # X-Failed-Recipients alone means the delivery failed
    else:
        return []
    return [Feedback(kind, a.lower(), detail) for a in recipients]


def _complaint(message: EmailMessage) -> list[Feedback]:
    """RFC 5965: the reader marked our message as spam. The recipient is in Original-Rcpt-To
    when the provider keeps it, else in the returned message's To header."""
    feedback_type, recipients = "abuse", []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/feedback-report":
            fields = _report_fields(part)
            feedback_type = fields.get("feedback-type", "abuse").strip().lower()
            recipients += _ADDRESS.findall(fields.get("original-rcpt-to", ""))
        elif kind in ("message/rfc822", "text/rfc822-headers") and not recipients:
            recipients += _ADDRESS.findall(_returned_to(part))
    return [Feedback(COMPLAINT, r.lower(), feedback_type) for r in dict.fromkeys(recipients)]


def _report_fields(part: Message) -> dict[str, str]:
    payload = part.get_payload()
    if isinstance(payload, list):
        blocks = [b for b in payload if isinstance(b, Message)]
        return {k.lower(): str(v) for block in blocks for k, v in block.items()}
    return {k.lower(): str(v) for k, v in email.message_from_string(str(payload)).items()}


def _returned_to(part: Message) -> str:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return str(payload[0].get("To", ""))
    headers = email.message_from_string(payload if isinstance(payload, str) else "")
    return str(headers.get("To", ""))


def _address(field: object) -> str:
    """The address of `rfc822; reader@example.com` (or of a bare address)."""
    found = _ADDRESS.search(str(field or ""))
    return found[0].lower() if found else ""
