"""DKIM signing per message: press's signer (cryptography, key parsed once, relaxed/relaxed)
against dkimpy's `dkim.sign` on the same digest message, the same RSA 2048 key and the same
canonicalisation, rounds alternating; both signatures are checked with dkimpy's verifier.

    .venv/bin/python bench/dkim_sign.py [--messages 300] [--rounds 3]

Prints milliseconds per message for each (best round) and their ratio.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import dkim
from corpus import NOW, make_corpus
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from generator.content.loader import load_content
from generator.content.site_config import DkimSettings
from generator.delivery.dkim import DkimSigner, SigningKeys, public_record
from generator.digest.message import personalised_message
from generator.digest.preview import prepare_digest
from generator.tokens import Signer


def digest_message(dest: Path) -> bytes:
    from datetime import date

    root = make_corpus(dest, 40)
    site, articles = load_content(root)
    template = prepare_digest(site, articles, date(2026, 11, 21), NOW).template
    return personalised_message(site, template, Signer(b"bench-key-0123456789"), "r@example.com")


def timed(sign, message: bytes, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        sign(message)
    return (time.perf_counter() - start) / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    key = rsa.generate_private_key(65537, 2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    ours = DkimSigner(DkimSettings("example.org", ("press",)), SigningKeys(key))
    names = [b"from", b"to", b"subject", b"date", b"message-id", b"list-unsubscribe"]

    def theirs(message: bytes) -> bytes:
        signature = dkim.sign(
            message,
            b"press",
            b"example.org",
            pem,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=[*names, b"list-unsubscribe-post"],
        )
        return signature + message

    record = public_record(key).encode()
    with tempfile.TemporaryDirectory() as tmp:
        message = digest_message(Path(tmp))
    for signed in (ours.sign(message), theirs(message)):
        assert dkim.verify(signed, dnsfunc=lambda name, timeout=5: record), "does not verify"
    press_ms, dkimpy_ms = [], []
    for _ in range(args.rounds):
        press_ms.append(timed(ours.sign, message, args.messages))
        dkimpy_ms.append(timed(theirs, message, args.messages))
    best_press, best_dkimpy = min(press_ms), min(dkimpy_ms)
    print(f"{len(message):,}-byte digest message, RSA 2048, relaxed/relaxed, {args.messages} each")
    print(f"press signer: {best_press:6.2f} ms/message ({1000 / best_press:,.0f}/s on one core)")
    print(f"dkimpy sign:  {best_dkimpy:6.2f} ms/message ({1000 / best_dkimpy:,.0f}/s on one core)")
    print(f"dkimpy / press: {best_dkimpy / best_press:.1f}x")


if __name__ == "__main__":
    main()
