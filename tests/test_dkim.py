"""DKIM signing: what a real SMTP server on 127.0.0.1 receives verifies with dkimpy (an
independent implementation) against keys a real DNS server on 127.0.0.1 serves, and stops
verifying after one header or body byte changes."""

from __future__ import annotations

import re
from pathlib import Path

import dkim
import dns.resolver
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from test_send import press_send
from test_subscription_service import confirm_link_in, path_of, start, subscribe, wait_until

from generator.content.site_config import load_site
from generator.delivery.dkim import (
    DkimKeyError,
    DkimSigner,
    load_signing_keys,
    public_record,
    relaxed_body,
)
from generator.delivery.outgoing import outgoing_transport
from generator.subscribers.mail_queue import MailQueue
from generator.subscribers.store import SubscriberStore

from conftest import pem
from dns_server import dns_server
from smtp_server import smtp_server

DOMAIN = "leadership-press.example.org"
DKIM_CONFIG = (
    "  dkim:\n"
    f"    domain: {DOMAIN}\n"
    "    selector: [press2026b, press2026a]\n"
    "    ed25519_selector: press2026e\n"
)


@pytest.fixture
def published(keys):
    """A DNS server publishing both keys under their selectors."""
    zone = {
        (f"press2026b._domainkey.{DOMAIN}", "TXT"): [public_record(keys[0])],
        (f"press2026e._domainkey.{DOMAIN}", "TXT"): [public_record(keys[1])],
    }
    with dns_server(zone) as (address, _):
        yield address


def signing_project(root: Path) -> Path:
    config = root / "site_config" / "site.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("  verp: false\n", "  verp: false\n" + DKIM_CONFIG))
    return root


def verified(message: bytes, nameserver: str) -> list[bool]:
    """dkimpy's verdict on each DKIM-Signature of the message, keys looked up over DNS."""
    host, port = nameserver.split(":")
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port = [host], int(port)

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        try:
            answer = resolver.resolve(name.decode().rstrip("."), "TXT", lifetime=timeout)
        except dns.resolver.NXDOMAIN:
            return None
        return b"".join(answer[0].strings)

    count = len(re.findall(rb"(?im)^DKIM-Signature:", message.split(b"\r\n\r\n")[0]))
    checker = dkim.DKIM(message)

    def passes(index: int) -> bool:
        try:
            return bool(checker.verify(idx=index, dnsfunc=lookup))
        except dkim.ValidationError:  # a body hash mismatch is raised, not returned
            return False

    return [passes(i) for i in range(count)]


def tampered(message: bytes, old: bytes, new: bytes) -> bytes:
    assert old in message
    return message.replace(old, new, 1)


def test_a_digest_send_is_signed_twice_and_any_changed_byte_breaks_it(
    mail_project, key_env, published
):
    root, url, populate = mail_project
    signing_project(root)
    populate(5)
    with smtp_server() as (smtp, server):
        result = press_send(root, url, "--transport", smtp, env=key_env)
        assert result.returncode == 0, result.stderr
    assert len(server.received) == 5
    for received in server.received:
        assert verified(received.data, published) == [True, True]
    message = server.received[0].data
    head = message.split(b"\r\n\r\n")[0].decode()
    signature = re.search(r"DKIM-Signature: (.*?)\r\n(?!\s)", head, re.S)[1]
    names = re.search(r"h=([^;]+);", signature)[1].replace("\r\n", "").replace("\t", "")
    for name in ("from", "to", "subject", "date", "message-id", "list-unsubscribe"):
        assert name in names.split(":"), names
    assert "list-unsubscribe-post" in names.split(":")
    assert f"d={DOMAIN}" in signature and "s=press2026" in signature and "t=" not in signature
    subject = re.search(rb"Subject: The", message)[0]
    assert verified(tampered(message, subject, b"Subject: Tha"), published) == [False, False]
    one_click = b"List-Unsubscribe=One-Click"
    assert verified(tampered(message, one_click, b"List-Unsubscribe=One-Clack"), published) == [
        False,
        False,
    ]
    body = message.split(b"\r\n\r\n", 1)[1]
    word = re.search(rb"Leadership", body)[0]
    changed = message.replace(body, tampered(body, word, b"Leaderships"))
    assert verified(changed, published) == [False, False]


def test_confirmation_and_welcome_are_signed(
    project: Path, store: SubscriberStore, key_env, published
):
    site = load_site(signing_project(project))
    with smtp_server() as (smtp, recorder):
        factory = outgoing_transport(site, smtp, key_env)
        server, _, _ = start(project, store, transport=factory)
        with server as url, httpx.Client(base_url=url) as client:
            assert subscribe(client, "new@example.com").status_code == 200
            wait_until(lambda: recorder.count() == 1)
            link = confirm_link_in(recorder.received[-1].data)
            assert client.get(path_of(link)).status_code == 200
            wait_until(lambda: recorder.count() == 2)
            wait_until(lambda: MailQueue(store.engine).pending() == 0)
    kinds = [r.message_id.split(".")[0] for r in recorder.received]
    assert kinds == ["confirm", "welcome"]
    for received in recorder.received:
        assert verified(received.data, published) == [True, True]


def test_a_key_that_does_not_match_the_published_one_fails(project: Path, keys, key_env):
    site = load_site(signing_project(project))
    signer = DkimSigner(site.email.dkim, load_signing_keys(key_env))
    other = rsa.generate_private_key(65537, 2048)
    zone = {
        (f"press2026b._domainkey.{DOMAIN}", "TXT"): [public_record(other)],
        (f"press2026e._domainkey.{DOMAIN}", "TXT"): [public_record(keys[1])],
    }
    message = (
        b"From: a@leadership-press.example.org\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
    )
    with dns_server(zone) as (address, _):
        assert verified(signer.sign(message), address) == [True, False]  # ed25519 first


def test_signing_is_deterministic_and_the_body_hash_is_dkimpys(project: Path, key_env):
    site = load_site(signing_project(project))
    signer = DkimSigner(site.email.dkim, load_signing_keys(key_env))
    body = b"Hello  there \t\r\n\r\n  indented\r\n\r\n\r\n"
    message = b"From: a@leadership-press.example.org\r\nSubject:  x\r\n  folded\r\n\r\n" + body
    assert signer.sign(message) == signer.sign(message)
    theirs = dkim.sign(
        message,
        b"press2026b",
        DOMAIN.encode(),
        key_env["PRESS_DKIM_PRIVATE_KEY"].split("-----END PRIVATE KEY-----")[0].encode()
        + b"-----END PRIVATE KEY-----\n",
        canonicalize=(b"relaxed", b"relaxed"),
    )
    their_hash = re.search(rb"bh=([^;]+);", theirs.replace(b"\r\n", b""))[1].strip()
    ours = re.search(rb"bh=([^;]+);", signer.sign(message))[1]
    assert ours == their_hash
    assert relaxed_body(b"") == b"" and relaxed_body(b"\r\n\r\n") == b""
    assert relaxed_body(b"a \r\nb") == b"a\r\nb\r\n"


def test_keys_come_from_the_environment_and_never_from_the_project(tmp_path: Path, keys, key_env):
    with pytest.raises(DkimKeyError, match="PRESS_DKIM_PRIVATE_KEY"):
        load_signing_keys({})
    inside = tmp_path / "project" / "dkim.pem"
    inside.parent.mkdir()
    inside.write_text(pem(keys[0]))
    with pytest.raises(DkimKeyError, match="inside the project"):
        load_signing_keys({"PRESS_DKIM_KEY_FILE": str(inside)}, tmp_path / "project")
    outside = tmp_path / "dkim.pem"
    outside.write_text(pem(keys[0]))
    loaded = load_signing_keys({"PRESS_DKIM_KEY_FILE": str(outside)}, tmp_path / "project")
    assert loaded.rsa.key_size == 2048 and loaded.ed25519 is None
    weak = rsa.generate_private_key(65537, 1024)
    with pytest.raises(DkimKeyError, match="1024 bits"):
        load_signing_keys({"PRESS_DKIM_PRIVATE_KEY": pem(weak)})
    with pytest.raises(DkimKeyError, match="not PEM"):
        load_signing_keys({"PRESS_DKIM_PRIVATE_KEY": "hunter2"})
    with pytest.raises(DkimKeyError, match="need an RSA key"):
        load_signing_keys({"PRESS_DKIM_PRIVATE_KEY": pem(keys[1])})


def test_press_send_without_the_key_stops_before_sending(mail_project):
    root, url, populate = mail_project
    signing_project(root)
    populate(2)
    with smtp_server() as (smtp, server):
        result = press_send(root, url, "--transport", smtp)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("Error: email.dkim is set")
    assert "Traceback" not in result.stderr and server.count() == 0


def test_a_bad_dkim_setting_is_reported_at_its_line(project: Path):
    from test_check_errors import run_press

    config = project / "site_config" / "site.yml"
    text = config.read_text(encoding="utf-8")
    bad = "  dkim:\n    domain: not a domain\n    selector: [ok, 'bad selector']\n"
    config.write_text(text.replace("  verp: false\n", "  verp: false\n" + bad))
    result = run_press(project, "check")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert (
        "site_config/site.yml:45:3: dkim.domain: 'not a domain' is not a domain name"
        in "\n".join(lines)
    )
    assert "site_config/site.yml:45:3: dkim selector 'bad selector' is not a DNS label" in lines[0]
