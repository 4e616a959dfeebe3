"""Email addresses as the store keeps them: validated, normalised, ASCII, lower case."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from generator.errors import PressError

MAX_LENGTH = 254  # RFC 5321 path limit


class InvalidAddress(PressError, ValueError):
    """The text is not an address we can send to; the message says why, for a person."""


def normalise_address(text: str, check_deliverability: bool = False) -> str:
    """The canonical form used as the subscriber key.

    International domains become their IDNA (ASCII) form and non-ASCII local parts are
    refused, because the digest is sent without SMTPUTF8. The whole address is lower-cased:
    mailbox providers treat local parts case-insensitively in practice, and one reader typing
    `Ann@` and `ann@` must not become two subscribers.
    """
    candidate = text.strip()
    if not candidate:
        raise InvalidAddress("the address is empty")
    if len(candidate) > MAX_LENGTH:
        raise InvalidAddress(f"the address is longer than {MAX_LENGTH} characters")
    try:
        result = validate_email(
            candidate, check_deliverability=check_deliverability, allow_smtputf8=False
        )
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from exc
    return (result.ascii_email or result.normalized).lower()
