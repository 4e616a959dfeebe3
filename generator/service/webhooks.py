"""Bounce, complaint and unsubscribe events from the relays people send through, verified.

Each relay's webhook is off (404) until its secret is in the environment. A request is applied
only if it is genuine (signature, token or certificate), fresh (signed or sent within
MAX_AGE) and well formed; anything else gets a 4xx and changes nothing. Events map to the same
store transitions as `press bounces ingest`, keyed by the relay's event id, so a retried
delivery of the same event counts once.

- Amazon SES through SNS: the SNS signature (RSA, SHA1 or SHA256) by a certificate fetched only
  from https://sns.<region>.amazonaws.com/; subscriptions are confirmed. PRESS_SES_TOPIC_ARN.
- Postmark: HTTP basic auth. PRESS_POSTMARK_WEBHOOK_USER and PRESS_POSTMARK_WEBHOOK_PASSWORD.
- Mailgun: HMAC-SHA256 of timestamp and token. PRESS_MAILGUN_SIGNING_KEY.
- SendGrid: the signed event webhook (ECDSA P-256 over timestamp and body).
  PRESS_SENDGRID_PUBLIC_KEY (base64, as SendGrid shows it).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import re
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from generator.subscribers.addresses import InvalidAddress, normalise_address

MAX_AGE = timedelta(minutes=5)
SNS_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")

Fetch = Callable[[str], bytes]


class WebhookRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


IGNORED = "ignored"  # an event that changes nothing (kept for its signature's claim)


@dataclass(frozen=True)
class Event:
    key: str  # relay and event id: applying it twice counts once
    kind: str  # hard, soft, complaint, unsubscribe, or IGNORED
    email: str
    detail: str
    # A signature that must vouch for one event only (Mailgun's signs a timestamp and token,
    # not the event): the token, claimed durably on first use.
    once: str = ""


def configured(environ: Mapping[str, str] = os.environ) -> set[str]:
    """The relays whose webhook is switched on by a secret in the environment."""
    wanted = {
        "ses": ("PRESS_SES_TOPIC_ARN",),
        "postmark": ("PRESS_POSTMARK_WEBHOOK_USER", "PRESS_POSTMARK_WEBHOOK_PASSWORD"),
        "mailgun": ("PRESS_MAILGUN_SIGNING_KEY",),
        "sendgrid": ("PRESS_SENDGRID_PUBLIC_KEY",),
    }
    return {name for name, keys in wanted.items() if all(environ.get(k) for k in keys)}


def fetch_https(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read(1 << 20)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookRefused(400, "the body is not JSON") from exc


def _utf8(text: str) -> bytes:
    """Text from a request as bytes, lone surrogates included: a comparison never fails on it."""
    return text.encode("utf-8", "surrogatepass")


def _content_type(headers: Mapping[str, str], wanted: str) -> None:
    given = headers.get("content-type", "").split(";")[0].strip().lower()
    if given != wanted:
        raise WebhookRefused(415, f"the relay sends {wanted}, not '{given or 'nothing'}'")


def _address(value: Any) -> str:
    """A recipient as the store keys it; anything else is a malformed event."""
    try:
        return normalise_address(value) if isinstance(value, str) else normalise_address("")
    except (InvalidAddress, UnicodeError) as exc:
        raise WebhookRefused(400, "the event's recipient is not an email address") from exc


def _fresh(moment: datetime, now: datetime) -> None:
    if abs(now - moment) > MAX_AGE:
        raise WebhookRefused(400, "the event is older than 5 minutes (or from the future)")


def _moment(text: Any) -> datetime:
    try:
        if isinstance(text, int | float) or (isinstance(text, str) and text.isdigit()):
            return datetime.fromtimestamp(int(text), tz=UTC)
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError) as exc:  # OSError: beyond the platform's range
        raise WebhookRefused(400, "the event has no readable time") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _field(data: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(data, dict) or name not in data:
            raise WebhookRefused(400, f"the event has no '{'.'.join(path)}'")
        data = data[name]
    return data


# Postmark ------------------------------------------------------------------------------------


def postmark_events(headers: Mapping[str, str], body: bytes, now: datetime) -> list[Event]:
    expected = (
        os.environ["PRESS_POSTMARK_WEBHOOK_USER"]
        + ":"
        + os.environ["PRESS_POSTMARK_WEBHOOK_PASSWORD"]
    )
    given = headers.get("authorization", "")
    try:
        decoded = base64.b64decode(given.removeprefix("Basic ").strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    if not given.startswith("Basic ") or not hmac.compare_digest(_utf8(decoded), _utf8(expected)):
        raise WebhookRefused(401, "wrong or missing credentials")
    _content_type(headers, "application/json")
    data = _json(body)
    record = _field(data, "RecordType")
    key = f"postmark:{record}:{_field(data, 'ID')}"
    if record == "Bounce":
        _fresh(_moment(_field(data, "BouncedAt")), now)
        kind = "hard" if _field(data, "Type") in ("HardBounce", "BadEmailAddress") else "soft"
        return [Event(key, kind, _address(_field(data, "Email")), str(data["Type"]))]
    if record == "SpamComplaint":
        _fresh(_moment(_field(data, "BouncedAt")), now)
        return [Event(key, "complaint", _address(_field(data, "Email")), "spam complaint")]
    if record == "SubscriptionChange" and data.get("SuppressSending"):
        _fresh(_moment(_field(data, "ChangedAt")), now)
        return [Event(key, "unsubscribe", _address(_field(data, "Recipient")), "postmark")]
    return []


# Mailgun -------------------------------------------------------------------------------------


def mailgun_events(headers: Mapping[str, str], body: bytes, now: datetime) -> list[Event]:
    _content_type(headers, "application/json")
    data = _json(body)
    timestamp = str(_field(data, "signature", "timestamp"))
    token = str(_field(data, "signature", "token"))
    signature = str(_field(data, "signature", "signature"))
    if not all(part.isascii() and part.isprintable() for part in (timestamp, token)):
        raise WebhookRefused(400, "the signature's timestamp or token is malformed")
    key = os.environ["PRESS_MAILGUN_SIGNING_KEY"].encode()
    expected = hmac.new(key, _utf8(timestamp + token), "sha256").hexdigest().encode()
    if not hmac.compare_digest(_utf8(signature), expected):
        raise WebhookRefused(401, "the signature does not match")
    _fresh(_moment(timestamp), now)
    event = _field(data, "event-data")
    if not isinstance(event, dict):
        raise WebhookRefused(400, "the event data is not an object")
    name, recipient = _field(event, "event"), _address(_field(event, "recipient"))
    key_id, once = f"mailgun:{_field(event, 'id')}", f"mailgun-token:{token}"
    if name == "failed":
        kind = "hard" if event.get("severity") == "permanent" else "soft"
        status = event.get("delivery-status")
        code = str(status.get("code", "")) if isinstance(status, dict) else ""
        return [Event(key_id, kind, recipient, code or kind, once)]
    if name == "complained":
        return [Event(key_id, "complaint", recipient, "complained", once)]
    if name == "unsubscribed":
        return [Event(key_id, "unsubscribe", recipient, "mailgun", once)]
    # Nothing to apply, but its token is claimed all the same: a "delivered" event's signature
    # must not vouch for a forged complaint later.
    return [Event(key_id, IGNORED, recipient, str(name), once)]


# SendGrid ------------------------------------------------------------------------------------

SENDGRID_SIGNATURE = "x-twilio-email-event-webhook-signature"
SENDGRID_TIMESTAMP = "x-twilio-email-event-webhook-timestamp"


def sendgrid_events(headers: Mapping[str, str], body: bytes, now: datetime) -> list[Event]:
    try:
        der = base64.b64decode(os.environ["PRESS_SENDGRID_PUBLIC_KEY"], validate=True)
        public = serialization.load_der_public_key(der)
        signature = base64.b64decode(headers.get(SENDGRID_SIGNATURE, ""), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookRefused(401, "no readable signature") from exc
    timestamp = headers.get(SENDGRID_TIMESTAMP, "")
    if not isinstance(public, ec.EllipticCurvePublicKey) or not signature or not timestamp:
        raise WebhookRefused(401, "no readable signature")
    try:
        public.verify(signature, timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise WebhookRefused(401, "the signature does not match") from exc
    _fresh(_moment(timestamp), now)
    _content_type(headers, "application/json")
    events = _json(body)
    if not isinstance(events, list):
        raise WebhookRefused(400, "the body is not a list of events")
    return [e for item in events for e in _sendgrid_event(item)]


def _sendgrid_event(item: Any) -> list[Event]:
    name = _field(item, "event")
    recipient = _address(_field(item, "email"))
    key = f"sendgrid:{_field(item, 'sg_event_id')}"
    if name in ("bounce", "dropped"):
        return [Event(key, "hard", recipient, str(item.get("status") or name))]
    if name == "deferred":
        return [Event(key, "soft", recipient, "deferred")]
    if name == "spamreport":
        return [Event(key, "complaint", recipient, "spam report")]
    if name in ("unsubscribe", "group_unsubscribe"):
        return [Event(key, "unsubscribe", recipient, "sendgrid")]
    return []


# Amazon SES through SNS ----------------------------------------------------------------------

_SNS_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}


def ses_events(headers: Mapping[str, str], body: bytes, now: datetime, fetch: Fetch) -> list[Event]:
    _content_type(headers, "text/plain")  # what SNS sends, JSON and all
    data = _json(body)
    kind = _field(data, "Type")
    if not isinstance(kind, str) or kind not in _SNS_FIELDS:
        raise WebhookRefused(400, "unexpected SNS message type")
    if _field(data, "TopicArn") != os.environ["PRESS_SES_TOPIC_ARN"]:
        raise WebhookRefused(403, "not the configured SNS topic")
    _verify_sns(data, kind, fetch)
    _fresh(_moment(_field(data, "Timestamp")), now)
    if kind == "SubscriptionConfirmation":
        fetch(_sns_url(_field(data, "SubscribeURL")))  # confirms the subscription
        return []
    message = _json(str(_field(data, "Message")).encode())
    return _ses_notification(message, str(_field(data, "MessageId")))


def _verify_sns(data: dict[str, Any], kind: str, fetch: Fetch) -> None:
    lines = []
    for name in _SNS_FIELDS[kind]:
        if name in data:
            lines += [name, str(data[name])]
    canonical = ("\n".join(lines) + "\n").encode()
    try:
        certificate = x509.load_pem_x509_certificate(
            fetch(_sns_url(_field(data, "SigningCertURL")))
        )
        signature = base64.b64decode(str(_field(data, "Signature")), validate=True)
    except (ValueError, binascii.Error, OSError) as exc:
        raise WebhookRefused(401, "no usable signing certificate or signature") from exc
    public = certificate.public_key()
    algorithm = hashes.SHA256() if str(data.get("SignatureVersion")) == "2" else hashes.SHA1()
    if not isinstance(public, rsa.RSAPublicKey):
        raise WebhookRefused(401, "the signing certificate is not RSA")
    try:
        public.verify(signature, canonical, padding.PKCS1v15(), algorithm)
    except InvalidSignature as exc:
        raise WebhookRefused(401, "the SNS signature does not match") from exc


def _sns_url(url: Any) -> str:
    """Only Amazon's SNS endpoints, over https: a forged message cannot point us elsewhere."""
    parts = urlsplit(str(url))
    try:
        port = parts.port
    except ValueError as exc:
        raise WebhookRefused(400, "the certificate or subscription URL is malformed") from exc
    host_ok = SNS_HOST.match(parts.hostname or "") and port in (None, 443)
    if parts.scheme != "https" or not host_ok or parts.username or parts.password:
        raise WebhookRefused(401, "the certificate or subscription is not on an SNS host")
    return str(url)


def _ses_notification(message: Any, message_id: str) -> list[Event]:
    kind = message.get("notificationType") if isinstance(message, dict) else None
    if kind == "Bounce":
        bounce = _field(message, "bounce")
        outcome = "hard" if bounce.get("bounceType") == "Permanent" else "soft"
        recipients = _field(bounce, "bouncedRecipients")
        return [
            Event(f"ses:{message_id}:{n}", outcome, _ses_address(r), str(r.get("status") or ""))
            for n, r in enumerate(recipients)
        ]
    if kind == "Complaint":
        complaint = _field(message, "complaint")
        detail = str(complaint.get("complaintFeedbackType") or "complaint")
        recipients = _field(complaint, "complainedRecipients")
        return [
            Event(f"ses:{message_id}:{n}", "complaint", _ses_address(r), detail)
            for n, r in enumerate(recipients)
        ]
    return []


def _ses_address(recipient: Any) -> str:
    return _address(_field(recipient, "emailAddress"))
