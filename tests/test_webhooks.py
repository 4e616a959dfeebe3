"""Relay webhooks: a genuine, fresh event changes the store like an ingested report; a forged,
replayed or malformed request gets 4xx and changes nothing; an unconfigured relay is 404."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from test_subscription_service import KEY, Clock

from generator.content.site_config import load_site
from generator.delivery.transports import MemoryTransport
from generator.rate_limit import RateLimiter
from generator.service.app import Service, create_app
from generator.subscribers.store import NewSubscriber, SubscriberStore

from asgi_server import running
from conftest import NOW

READER = "reader@example.com"
CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:press-bounces"


@pytest.fixture
def reader(store: SubscriberStore) -> SubscriberStore:
    store.add(NewSubscriber(READER), NOW)
    return store


def serve(project: Path, store: SubscriberStore, fetch=None):
    service = Service(
        load_site(project),
        store,
        KEY,
        MemoryTransport,
        Clock(),
        RateLimiter(0),
        fetch=fetch or (lambda url: b""),
    )
    return running(create_app(service))


CONTENT_TYPES = {"ses": "text/plain; charset=UTF-8"}  # what each relay sends; others JSON


def post(url: str, relay: str, body: bytes, headers: dict[str, str] | None = None):
    sent = {"Content-Type": CONTENT_TYPES.get(relay, "application/json"), **(headers or {})}
    return httpx.post(f"{url}/webhooks/{relay}", content=body, headers=sent, timeout=10)


def test_an_unconfigured_relay_has_no_webhook(project: Path, reader: SubscriberStore):
    with serve(project, reader) as url:
        assert post(url, "mailgun", b"{}").status_code == 404
        assert post(url, "nosuchrelay", b"{}").status_code == 404


def mailgun_body(
    secret: str, event: dict, when=NOW, signature: str | None = None, token: str | None = None
) -> bytes:
    """Mailgun signs a fresh token per event: by default one derived from the event id."""
    token = token or hashlib.sha256(str(event.get("id")).encode()).hexdigest()[:50]
    timestamp = str(int(when.timestamp()))
    mac = hmac.new(secret.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    data = {"signature": {"timestamp": timestamp, "token": token, "signature": signature or mac}}
    return json.dumps({**data, "event-data": event}).encode()


def test_mailgun(project: Path, reader: SubscriberStore, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PRESS_MAILGUN_SIGNING_KEY", "mailgun-secret")
    failed = {
        "event": "failed",
        "severity": "permanent",
        "recipient": READER,
        "id": "e1",
        "delivery-status": {"code": 550},
    }
    with serve(project, reader) as url:
        forged = post(url, "mailgun", mailgun_body("mailgun-secret", failed, signature="0" * 64))
        old = post(
            url, "mailgun", mailgun_body("mailgun-secret", failed, NOW - timedelta(minutes=6))
        )
        broken = post(url, "mailgun", b"{not json")
        assert (forged.status_code, old.status_code, broken.status_code) == (401, 400, 400)
        assert reader.get(READER).bounce_count == 0
        first = post(url, "mailgun", mailgun_body("mailgun-secret", failed))
        again = post(url, "mailgun", mailgun_body("mailgun-secret", failed))  # a retried delivery
        assert first.status_code == again.status_code == 200
        complaint = {"event": "complained", "recipient": READER, "id": "e2"}
        assert post(url, "mailgun", mailgun_body("mailgun-secret", complaint)).status_code == 200
    assert reader.get(READER).bounce_count == 1  # counted once
    assert reader.get(READER).status == "complained"


def test_postmark(project: Path, reader: SubscriberStore, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PRESS_POSTMARK_WEBHOOK_USER", "postmark")
    monkeypatch.setenv("PRESS_POSTMARK_WEBHOOK_PASSWORD", "s3cret")
    good = {"Authorization": "Basic " + base64.b64encode(b"postmark:s3cret").decode()}
    bad = {"Authorization": "Basic " + base64.b64encode(b"postmark:guess").decode()}
    bounce = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "Email": READER,
        "ID": 42,
        "BouncedAt": NOW.isoformat(),
    }
    stale = {**bounce, "ID": 43, "BouncedAt": (NOW - timedelta(hours=1)).isoformat()}
    unsubscribe = {
        "RecordType": "SubscriptionChange",
        "Recipient": READER,
        "ID": 44,
        "SuppressSending": True,
        "ChangedAt": NOW.isoformat(),
    }
    with serve(project, reader) as url:
        assert post(url, "postmark", json.dumps(bounce).encode(), bad).status_code == 401
        assert post(url, "postmark", json.dumps(bounce).encode()).status_code == 401
        assert post(url, "postmark", json.dumps(stale).encode(), good).status_code == 400
        assert post(url, "postmark", b'{"RecordType": 1}', good).status_code == 400
        assert reader.get(READER).bounce_count == 0
        assert post(url, "postmark", json.dumps(bounce).encode(), good).status_code == 200
        assert reader.get(READER).bounce_count == 1
        assert post(url, "postmark", json.dumps(unsubscribe).encode(), good).status_code == 200
    assert reader.get(READER).status == "unsubscribed"


def test_sendgrid(project: Path, reader: SubscriberStore, monkeypatch: pytest.MonkeyPatch):
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    monkeypatch.setenv("PRESS_SENDGRID_PUBLIC_KEY", base64.b64encode(der).decode())

    def signed(events: list, when=NOW, key=private) -> tuple[bytes, dict[str, str]]:
        body, timestamp = json.dumps(events).encode(), str(int(when.timestamp()))
        signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        headers = {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        }
        return body, headers

    events = [
        {"event": "bounce", "email": READER, "sg_event_id": "s1", "status": "5.1.1"},
        {"event": "spamreport", "email": READER, "sg_event_id": "s2"},
        {"event": "open", "email": READER, "sg_event_id": "s3"},
    ]
    with serve(project, reader) as url:
        assert (
            post(
                url, "sendgrid", *signed(events, key=ec.generate_private_key(ec.SECP256R1()))
            ).status_code
            == 401
        )
        body, headers = signed(events)
        assert post(url, "sendgrid", body.replace(b"5.1.1", b"4.0.0"), headers).status_code == 401
        assert (
            post(url, "sendgrid", *signed(events, NOW - timedelta(minutes=10))).status_code == 400
        )
        assert post(url, "sendgrid", *signed({"not": "a list"})).status_code == 400
        assert reader.get(READER).status == "active"
        assert post(url, "sendgrid", body, headers).status_code == 200
    assert reader.get(READER).status == "complained"
    assert reader.get(READER).bounce_count == 1


def sns_keys() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return key, certificate.public_bytes(serialization.Encoding.PEM)


def sns_message(key, kind: str, fields: dict, when=NOW, cert_url: str = CERT_URL) -> bytes:
    data = {
        "Type": kind,
        "MessageId": fields.pop("MessageId", "m1"),
        "TopicArn": TOPIC,
        "Timestamp": when.isoformat().replace("+00:00", "Z"),
        "SignatureVersion": "2",
        "SigningCertURL": cert_url,
        **fields,
    }
    order = {
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
    }[kind]
    canonical = "".join(f"{n}\n{data[n]}\n" for n in order if n in data).encode()
    signature = key.sign(canonical, padding.PKCS1v15(), hashes.SHA256())
    data["Signature"] = base64.b64encode(signature).decode()
    return json.dumps(data).encode()


def test_ses_through_sns(project: Path, reader: SubscriberStore, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PRESS_SES_TOPIC_ARN", TOPIC)
    key, pem = sns_keys()
    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        return pem if url == CERT_URL else b"confirmed"

    subscribe_url = "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=t"
    confirmation = sns_message(
        key,
        "SubscriptionConfirmation",
        {"Message": "confirm", "SubscribeURL": subscribe_url, "Token": "t"},
    )
    bounce = {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bouncedRecipients": [{"emailAddress": READER, "status": "5.1.1"}],
        },
    }
    notification = sns_message(key, "Notification", {"Message": json.dumps(bounce)})
    complaint = {
        "notificationType": "Complaint",
        "complaint": {
            "complainedRecipients": [{"emailAddress": READER}],
            "complaintFeedbackType": "abuse",
        },
    }
    complained = sns_message(
        key, "Notification", {"Message": json.dumps(complaint), "MessageId": "m2"}
    )
    with serve(project, reader, fetch) as url:
        assert post(url, "ses", confirmation).status_code == 200
        assert fetched == [CERT_URL, subscribe_url]  # checked, then the subscription confirmed
        elsewhere = sns_message(
            key,
            "Notification",
            {"Message": json.dumps(bounce)},
            cert_url="https://attacker.example/cert.pem",
        )
        assert post(url, "ses", elsewhere).status_code == 401
        other_key, _ = sns_keys()
        assert (
            post(
                url, "ses", sns_message(other_key, "Notification", {"Message": json.dumps(bounce)})
            ).status_code
            == 401
        )
        late = sns_message(
            key, "Notification", {"Message": json.dumps(bounce)}, NOW - timedelta(minutes=30)
        )
        assert post(url, "ses", late).status_code == 400
        assert post(url, "ses", b"[]").status_code == 400
        assert reader.get(READER).bounce_count == 0
        assert post(url, "ses", notification).status_code == 200
        assert post(url, "ses", notification).status_code == 200  # SNS retries: counted once
        assert reader.get(READER).bounce_count == 1
        assert post(url, "ses", complained).status_code == 200
    assert reader.get(READER).status == "complained"
    assert "attacker.example" not in " ".join(fetched)


def test_hostile_requests_get_4xx_and_change_nothing(
    project: Path, reader: SubscriberStore, monkeypatch: pytest.MonkeyPatch
):
    secret = "mailgun-secret"
    monkeypatch.setenv("PRESS_MAILGUN_SIGNING_KEY", secret)
    monkeypatch.setenv("PRESS_POSTMARK_WEBHOOK_USER", "postmark")
    monkeypatch.setenv("PRESS_POSTMARK_WEBHOOK_PASSWORD", "pässwörd")
    monkeypatch.setenv("PRESS_SES_TOPIC_ARN", TOPIC)
    delivered = {"event": "delivered", "recipient": READER, "id": "d1"}
    complained = {"event": "complained", "recipient": READER, "id": "c9"}

    def mailgun_raw(event: dict, timestamp: str, token: str, signature: str | None = None):
        mac = hmac.new(secret.encode(), (timestamp + token).encode("utf-8", "surrogatepass"),
                       hashlib.sha256).hexdigest()  # fmt: skip
        sig = {"timestamp": timestamp, "token": token, "signature": signature or mac}
        return json.dumps({"signature": sig, "event-data": event}).encode()

    now = str(int(NOW.timestamp()))
    basic = {"Authorization": "Basic " + base64.b64encode("postmark:pässwörd".encode()).decode()}
    wrong = {"Authorization": "Basic " + base64.b64encode("postmark:wröng".encode()).decode()}
    bounce = {"RecordType": "Bounce", "Type": "HardBounce", "ID": 7, "BouncedAt": NOW.isoformat()}
    with serve(project, reader) as url:
        token = "b" * 50
        assert post(url, "mailgun", mailgun_raw(delivered, now, token)).status_code == 200
        # The same signature carrying other event data inside its window: refused.
        assert post(url, "mailgun", mailgun_raw(complained, now, token)).status_code == 409
        assert post(url, "mailgun", mailgun_raw(delivered, now, token)).status_code == 200  # retry
        surrogate = {**complained, "recipient": "a\udc00@x.org"}
        pm_reader = json.dumps({**bounce, "Email": READER}).encode()
        pm_nobody = json.dumps({**bounce, "Email": "nope"}).encode()
        ses_list = json.dumps({"Type": ["Notification"], "TopicArn": TOPIC}).encode()
        ses_port = {
            "Type": "Notification",
            "TopicArn": TOPIC,
            "Message": "{}",
            "MessageId": "m",
            "Timestamp": NOW.isoformat(),
            "Signature": "AAAA",
            "SigningCertURL": "https://sns.eu-west-1.amazonaws.com:99999/x.pem",
        }
        plain = {"Content-Type": "text/plain"}
        answers = {
            "non-ASCII signature": post(
                url, "mailgun", mailgun_raw(delivered, now, "c" * 50, "é" * 64)
            ),
            "lone surrogate token": post(url, "mailgun", mailgun_raw(delivered, now, "\ud800")),
            "timestamp 10^17": post(url, "mailgun", mailgun_raw(complained, str(10**17), "d" * 50)),
            "surrogate address": post(url, "mailgun", mailgun_raw(surrogate, now, "e" * 50)),
            "event data not an object": post(url, "mailgun", mailgun_raw([1], now, "f" * 50)),
            "wrong content type": post(
                url, "mailgun", mailgun_raw(complained, now, "g" * 50), plain
            ),
            "over 1 MiB": post(url, "mailgun", b"{" + b" " * (1 << 20) + b"}"),
            "non-ASCII wrong password": post(url, "postmark", pm_reader, wrong),
            "postmark bad address": post(url, "postmark", pm_nobody, basic),
            "SES Type a list": post(url, "ses", ses_list),
            "SES bad port": post(url, "ses", json.dumps(ses_port).encode()),
        }
        codes = {name: answer.status_code for name, answer in answers.items()}
        assert codes == {
            "non-ASCII signature": 401,
            "lone surrogate token": 400,
            "timestamp 10^17": 400,
            "surrogate address": 400,
            "event data not an object": 400,
            "wrong content type": 415,
            "over 1 MiB": 413,
            "non-ASCII wrong password": 401,
            "postmark bad address": 400,
            "SES Type a list": 400,
            "SES bad port": 400,
        }
        right = post(url, "postmark", pm_reader, basic)
        assert right.status_code == 200  # a non-ASCII password works when it is the right one
    assert reader.get(READER).status == "active"  # no complaint got through
    assert reader.get(READER).bounce_count == 1  # only the genuine Postmark bounce
