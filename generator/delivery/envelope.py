"""The envelope sender of each digest: where bounces go, and with VERP, whose bounce it is.

With `email.verp`, the sender of a recipient's copy is `bounces+<id>-<mac>@domain`: the
subscriber id and a short HMAC of it, so a bounce names its reader even when the report does
not, and nobody can make a bounce count against another reader by forging the address.
"""

from __future__ import annotations

import base64
import hmac
import re

from generator.content.site_config import SiteConfig
from generator.tokens import Signer

_TAG = re.compile(r"\+(\d{1,12})-([a-z2-7]{13})@", re.I)


class Envelope:
    def __init__(self, site: SiteConfig, signer: Signer) -> None:
        address = site.email.bounce_address or site.email.from_address
        self.local, _, self.domain = address.rpartition("@")
        self.verp, self.key = site.email.verp, signer.key
        self.plain = address  # for mail that is not to a subscriber, and without VERP

    def sender(self, subscriber_id: int) -> str:
        if not self.verp:
            return self.plain
        return f"{self.local}+{subscriber_id}-{self._mac(subscriber_id)}@{self.domain}"

    def subscriber_of(self, address: str) -> int | None:
        """The subscriber a VERP address was made for; None if it is not one of ours."""
        found = _TAG.search(address)
        if not found or not hmac.compare_digest(found[2].lower(), self._mac(int(found[1]))):
            return None
        return int(found[1])

    def _mac(self, subscriber_id: int) -> str:
        digest = hmac.digest(self.key, f"bounce|{subscriber_id}".encode(), "sha256")
        return base64.b32encode(digest[:8]).decode("ascii").rstrip("=").lower()
