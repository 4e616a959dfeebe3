"""The SMTP transport over STARTTLS and implicit TLS, logging in with the password from the
environment, against aiosmtpd on 127.0.0.1 with a certificate made for the test."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from generator.delivery.transports import SetupError, transport_factory

from asgi_server import free_port
from smtp_server import Recorder

# The implicit-TLS test server must not insist on STARTTLS for AUTH (see start()); aiosmtpd warns.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return key, cert


def server_context(key: Path, cert: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def only_digest_user(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (b"digest", b"s3cret")
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


def start(recorder: Recorder, key: Path, cert: Path, implicit: bool) -> Controller:
    port = free_port()
    tls = server_context(key, cert)
    # aiosmtpd does not count implicit TLS as TLS for AUTH; the connection is encrypted anyway.
    options = (
        {"ssl_context": tls, "auth_require_tls": False}
        if implicit
        else {"tls_context": tls, "require_starttls": True}
    )
    controller = Controller(
        recorder, hostname="127.0.0.1", port=port, authenticator=only_digest_user,
        auth_required=True, auth_exclude_mechanism=["LOGIN"], **options,
    )  # fmt: skip
    controller.start()
    return controller


@pytest.mark.parametrize("scheme", ["smtp", "smtps"])
def test_tls_and_login_with_the_password_from_the_environment(
    scheme: str, certificate, monkeypatch, tmp_path: Path
):
    key, cert = certificate
    recorder = Recorder()
    controller = start(recorder, key, cert, implicit=scheme == "smtps")
    url = f"{scheme}://digest@127.0.0.1:{controller.port}?starttls=required&cafile={cert}"
    try:
        monkeypatch.setenv("PRESS_SMTP_PASSWORD", "s3cret")
        transport = transport_factory(url, tmp_path)()
        transport.send("digest@example.org", "reader@example.com", b"Subject: hi\r\n\r\nhello\r\n")
        transport.close()
        monkeypatch.setenv("PRESS_SMTP_PASSWORD", "wrong")
        refused = transport_factory(url, tmp_path)()
        with pytest.raises(SetupError, match="535"):
            refused.send("digest@example.org", "other@example.com", b"Subject: hi\r\n\r\nx\r\n")
        refused.close()
    finally:
        controller.stop()
    assert [r.recipient for r in recorder.received] == ["reader@example.com"]


def test_an_untrusted_certificate_is_refused(certificate, monkeypatch, tmp_path: Path):
    key, cert = certificate
    controller = start(Recorder(), key, cert, implicit=False)
    monkeypatch.setenv("PRESS_SMTP_PASSWORD", "s3cret")
    try:
        transport = transport_factory(f"smtp://digest@127.0.0.1:{controller.port}", tmp_path)()
        with pytest.raises(SetupError, match="CERTIFICATE_VERIFY_FAILED"):
            transport.send("digest@example.org", "reader@example.com", b"Subject: x\r\n\r\nx\r\n")
        transport.close()
    finally:
        controller.stop()
