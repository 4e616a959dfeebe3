"""DNS look-ups for the checks: TXT, MX and addresses, each bounded in time.

A missing name or record is an answer (an empty list); a server that does not answer is a
`DnsUnavailable`, so a check never reports a record missing because the network was down.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dns.exception
import dns.name
import dns.resolver

from generator.errors import PressError

TIMEOUT = 5.0  # seconds for one look-up, retries included


class NotANameserver(PressError, ValueError):
    """--dns (or PRESS_DNS) names no usable server."""


class DnsUnavailable(PressError):
    """No DNS server answered; nothing can be said about the records."""


@dataclass
class Lookups:
    resolver: dns.resolver.Resolver
    count: int = 0  # look-ups made, for the SPF limit and for the report
    cache: dict[tuple[str, str], list] = field(default_factory=dict)

    @classmethod
    def using(cls, nameserver: str | None = None) -> Lookups:
        """The system's resolver, or one server given as HOST or HOST:PORT."""
        if not nameserver:
            return cls(dns.resolver.Resolver())
        host, port = _host_and_port(nameserver)
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [host]
        resolver.port = port
        return cls(resolver)

    def txt(self, name: str) -> list[str]:
        return [
            b"".join(record.strings).decode("utf-8", "replace")
            for record in self._answer(name, "TXT")
        ]

    def mx(self, name: str) -> list[str]:
        records = sorted(self._answer(name, "MX"), key=lambda r: r.preference)
        return [record.exchange.to_text().rstrip(".") for record in records]

    def addresses(self, name: str) -> list[str]:
        return [r.address for qtype in ("A", "AAAA") for r in self._answer(name, qtype)]

    def _answer(self, name: str, qtype: str) -> list:
        key = (name.lower().rstrip("."), qtype)
        if key in self.cache:
            return self.cache[key]
        self.count += 1
        try:
            answer = list(self.resolver.resolve(key[0] + ".", qtype, lifetime=TIMEOUT))
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            answer = []
        except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
            raise DnsUnavailable(f"no DNS server answered for {key[0]} {qtype}: {exc}") from exc
        except (dns.name.NameTooLong, dns.name.LabelTooLong, dns.name.EmptyLabel):
            answer = []  # a name that cannot exist has no records
        except dns.exception.DNSException as exc:
            raise DnsUnavailable(f"{key[0]} {qtype}: {exc}") from exc
        self.cache[key] = answer
        return answer


def _host_and_port(nameserver: str) -> tuple[str, int]:
    """HOST, HOST:PORT or [IPv6]:PORT."""
    if nameserver.startswith("["):
        host, _, port = nameserver[1:].partition("]:")
    elif nameserver.count(":") == 1:
        host, _, port = nameserver.partition(":")
    else:
        host, port = nameserver, ""
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise NotANameserver(f"'{nameserver}' is not a DNS server address (HOST or HOST:PORT)")
    return host, int(port or 53)
