"""Where messages go: a narrow interface with SMTP, Maildir and in-memory implementations.

A transport sends one message to one recipient and says how it failed: `TransientError` for
what may work later (4xx, dropped connection, timeout) and `PermanentError` for what will
not (5xx). Everything about retries and bookkeeping lives in the caller.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from generator.errors import PressError

PASSWORD_VARIABLE = "PRESS_SMTP_PASSWORD"
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class DeliveryError(PressError):
    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.code = code


class TransientError(DeliveryError):
    """Try again later."""


class PermanentError(DeliveryError):
    """Never retry this recipient for this message. `phase` says which step refused it
    (RCPT or DATA): only some refusals are about the recipient, see `names_recipient`."""

    def __init__(self, message: str, code: int = 0, phase: str = "") -> None:
        super().__init__(message, code)
        self.phase = phase

    @property
    def names_recipient(self) -> bool:
        """550/551/553 to RCPT: the mailbox itself is refused (no such user, relaying denied
        for it, bad address). Other permanent answers may be the relay's: see the send loop."""
        return self.phase == "rcpt" and self.code in (550, 551, 553)


class _Refused(smtplib.SMTPResponseException):
    """An SMTP refusal, with the step of the transaction that got it."""

    def __init__(self, code: int, text: bytes | str, phase: str) -> None:
        super().__init__(code, text)
        self.phase = phase


class SetupError(DeliveryError):
    """The transport itself cannot be used (no connection, login refused, TLS failed, no
    STARTTLS): nothing to do with the recipient, so it must never count against them."""


class TransportConfigError(PressError, ValueError):
    """The transport URL cannot be used; the message says why."""


class Transport(Protocol):
    def send(self, sender: str, recipient: str, message: bytes) -> None: ...

    def close(self) -> None: ...


TransportFactory = Callable[[], Transport]


@dataclass
class MemoryTransport:
    """Keeps messages in a list shared by every transport the factory makes (for tests)."""

    outbox: list[tuple[str, str, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        with self.lock:
            self.outbox.append((sender, recipient, message))

    def close(self) -> None:
        pass


class MaildirTransport:
    """Delivers into a Maildir (tmp/ then rename into new/), readable by any mail client."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._counter = 0
        for sub in ("tmp", "new", "cur"):
            (path / sub).mkdir(parents=True, exist_ok=True)

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        self._counter += 1
        name = f"{os.getpid()}.{threading.get_ident()}.{self._counter}.{os.urandom(4).hex()}"
        tmp = self.path / "tmp" / name
        tmp.write_bytes(message)
        os.replace(tmp, self.path / "new" / f"{name}.press")

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class SMTPSettings:
    host: str
    port: int
    user: str
    password: str
    implicit_tls: bool
    starttls: str  # "required", "optional" or "off" (plain SMTP, loopback only)
    timeout: float
    cafile: str = ""  # a private CA to trust instead of the system's (internal relays)


class SMTPTransport:
    """One SMTP connection, opened on first use and reopened after a drop."""

    def __init__(self, settings: SMTPSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        smtp = self._smtp or self._connect_or_explain()
        try:
            _transaction(smtp, sender, recipient, message)
        except smtplib.SMTPResponseException as exc:
            self._reset_after(exc.smtp_code)
            phase = getattr(exc, "phase", "")
            if phase == "mail" and exc.smtp_code >= 500:
                # A refused sender (530 authentication required, 553 sender rejected, 554)
                # is the relay's answer to us, whoever the recipient.
                raise SetupError(f"the mail server refused the sender: {exc}") from exc
            raise _classified(exc.smtp_code, exc.smtp_error, phase) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise TransientError(f"connection failed: {exc or type(exc).__name__}") from exc

    def _connect_or_explain(self) -> smtplib.SMTP:
        try:
            return self._connect()
        except (
            smtplib.SMTPAuthenticationError,
            smtplib.SMTPNotSupportedError,
            ssl.SSLError,
        ) as exc:
            self._drop()
            raise SetupError(f"{self.settings.host}: {exc}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            where = f"{self.settings.host}:{self.settings.port}"
            raise SetupError(f"cannot connect to {where}: {exc or type(exc).__name__}") from exc

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context(cafile=s.cafile or None)
        if s.implicit_tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        self._smtp = smtp  # so that a failure below closes it
        smtp.ehlo()
        if not s.implicit_tls and s.starttls != "off":
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            elif s.starttls == "required":
                self._drop()
                raise SetupError(f"{s.host} does not offer STARTTLS; refusing to send in clear")
        if s.user:
            smtp.login(s.user, s.password)
        self._smtp = smtp
        return smtp

    def _reset_after(self, code: int) -> None:
        if code == 421:  # the server is closing the connection
            self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._drop()


def _transaction(smtp: smtplib.SMTP, sender: str, recipient: str, message: bytes) -> None:
    """smtplib's sendmail for one recipient, one step at a time: each refusal keeps its own
    code, and anything but a 421 leaves the connection reset and reusable."""
    for phase, command, argument, accepted in (
        ("mail", smtp.mail, sender, (250,)),
        ("rcpt", smtp.rcpt, recipient, (250, 251)),
    ):
        code, text = command(argument)
        if code not in accepted:
            if code != 421:
                smtp.rset()
            raise _Refused(code, text, phase)
    code, text = smtp.data(message)
    if code != 250:
        raise _Refused(code, text, "data")


def _classified(code: int, text: bytes | str, phase: str = "") -> DeliveryError:
    message = f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
    return PermanentError(message, code, phase) if code >= 500 else TransientError(message, code)


def transport_factory(url: str, root: Path) -> TransportFactory:
    """A factory of transports for `url`: smtp://, smtps://, maildir:PATH or memory:."""
    if url.startswith("maildir:"):
        path = Path(url.removeprefix("maildir:"))
        target = path if path.is_absolute() else root / path
        return lambda: MaildirTransport(target)
    if url == "memory:":
        shared = MemoryTransport()
        return lambda: shared
    settings = smtp_settings(url)
    return lambda: SMTPTransport(settings)


def smtp_settings(url: str) -> SMTPSettings:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise TransportConfigError(
            f"'{url}' is not a transport: use smtp://user@host:587, smtps://user@host:465 "
            "or maildir:PATH"
        )
    if parts.password:
        raise TransportConfigError(
            f"put the SMTP password in {PASSWORD_VARIABLE}, not in the transport URL"
        )
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    host = parts.hostname
    starttls = query.get("starttls", "optional" if host in LOOPBACK else "required")
    if starttls not in ("required", "optional", "off"):
        raise TransportConfigError("starttls must be required, optional or off")
    if starttls == "off" and host not in LOOPBACK:
        raise TransportConfigError("starttls=off is only allowed for a server on this machine")
    user = unquote(parts.username or "")
    password = os.environ.get(PASSWORD_VARIABLE, "")
    if user and not password:
        raise TransportConfigError(f"set {PASSWORD_VARIABLE} for SMTP user '{user}'")
    implicit = parts.scheme == "smtps"
    try:
        port = parts.port or (465 if implicit else 587)
        timeout = float(query.get("timeout", 30))
    except ValueError as exc:
        raise TransportConfigError(f"'{url}': {exc} (ports are 1 to 65535)") from exc
    if not 0 < timeout <= 3600:
        raise TransportConfigError(f"'{url}': timeout must be between 0 and 3600 seconds")
    return SMTPSettings(
        host=host,
        port=port,
        user=user,
        password=password,
        implicit_tls=implicit,
        starttls=starttls,
        timeout=timeout,
        cafile=query.get("cafile", ""),
    )
