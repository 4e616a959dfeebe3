"""A real DNS server (dnslib) on 127.0.0.1 answering from a dict the test can change:
`zone[(name, type)] = [values]`. Names without a trailing dot; TXT values are whole strings
(split into 255-byte character strings on the wire, as a real zone does)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from dnslib import AAAA, MX, QTYPE, RCODE, RR, TXT, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer

Zone = dict[tuple[str, str], list[str]]


class DictResolver(BaseResolver):
    def __init__(self, zone: Zone) -> None:
        self.zone = zone
        self.lock = threading.Lock()
        self.queries: list[tuple[str, str]] = []

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        with self.lock:
            self.queries.append((name, qtype))
            values = list(self.zone.get((name, qtype), []))
            known = any(key[0] == name for key in self.zone)
        for value in values:
            reply.add_answer(RR(name, getattr(QTYPE, qtype), rdata=_rdata(qtype, value), ttl=60))
        if not values and not known:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


def _rdata(qtype: str, value: str):
    if qtype == "TXT":
        raw = value.encode()
        return TXT([raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""])
    if qtype == "MX":
        preference, host = value.split()
        return MX(host, int(preference))
    return {"A": A, "AAAA": AAAA}[qtype](value)


@contextmanager
def dns_server(zone: Zone | None = None) -> Iterator[tuple[str, DictResolver]]:
    """Yields ('127.0.0.1:PORT', resolver); the zone dict stays live while it runs."""
    resolver = DictResolver(zone if zone is not None else {})
    server = DNSServer(resolver, address="127.0.0.1", port=0, logger=DNSLogger(logf=lambda _: None))
    server.start_thread()
    try:
        yield f"127.0.0.1:{server.server.server_address[1]}", resolver
    finally:
        server.stop()
        server.server.server_close()
