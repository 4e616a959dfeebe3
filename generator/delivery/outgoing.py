"""The transport every outgoing message takes: the configured one, behind a DKIM signer when
`email.dkim` is set, so the digest, the confirmation and the welcome are all signed at the one
place they leave press."""

from __future__ import annotations

from collections.abc import Mapping

from generator.content.site_config import SiteConfig
from generator.delivery.dkim import DkimSigner, load_signing_keys
from generator.delivery.transports import Transport, TransportFactory, transport_factory


class SigningTransport:
    """Signs each message, then hands it to the transport it wraps."""

    def __init__(self, inner: Transport, signer: DkimSigner) -> None:
        self.inner, self.signer = inner, signer

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        self.inner.send(sender, recipient, self.signer.sign(message))

    def close(self) -> None:
        self.inner.close()


def dkim_signer(site: SiteConfig, environ: Mapping[str, str] | None = None) -> DkimSigner | None:
    """The site's signer with its key parsed once; None when the site does not sign."""
    if site.email.dkim is None:
        return None
    return DkimSigner(site.email.dkim, load_signing_keys(environ, site.root))


def outgoing_transport(
    site: SiteConfig, url: str | None = None, environ: Mapping[str, str] | None = None
) -> TransportFactory:
    """Raises TransportConfigError or DkimKeyError with a message the user can act on."""
    factory = transport_factory(url or site.email.transport, site.root)
    signer = dkim_signer(site, environ)
    if signer is None:
        return factory
    return lambda: SigningTransport(factory(), signer)
