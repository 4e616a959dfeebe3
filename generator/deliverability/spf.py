"""Does a domain's SPF record (RFC 7208) allow an address to send its mail?

A small evaluator over `Lookups` rather than pyspf: pyspf resolves through dnspython's
process-wide default resolver, so it cannot be pointed at one server (a test's, or the one an
operator names) without patching a module global. It covers what senders publish: ip4, ip6,
a, mx, include, exists (without macros), all and redirect, with the limit of 10 look-ups; a
record with macros is reported as not evaluated rather than guessed at.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from generator.deliverability.lookups import Lookups

MAX_LOOKUPS = 10  # RFC 7208 4.6.4: more is a permerror
QUALIFIERS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}


@dataclass(frozen=True)
class SpfResult:
    verdict: str  # pass, fail, softfail, neutral, none, permerror, unknown
    record: str  # the domain's own v=spf1 record ('' when there is none)
    reason: str = ""


class _PermError(Exception):
    pass


class _Unknown(Exception):
    """Something the evaluator does not interpret (macros, ptr)."""


def spf_records(lookups: Lookups, domain: str) -> list[str]:
    return [r for r in lookups.txt(domain) if r.lower().split(" ")[0] == "v=spf1"]


def check_spf(lookups: Lookups, domain: str, address: str) -> SpfResult:
    records = spf_records(lookups, domain)
    if not records:
        return SpfResult("none", "", f"{domain} publishes no SPF record")
    if len(records) > 1:
        return SpfResult("permerror", records[0], f"{domain} has {len(records)} SPF records")
    budget = [MAX_LOOKUPS]
    try:
        verdict = _evaluate(lookups, domain, records[0], ipaddress.ip_address(address), budget)
    except _PermError as exc:
        return SpfResult("permerror", records[0], str(exc))
    except _Unknown as exc:
        return SpfResult("unknown", records[0], str(exc))
    return SpfResult(verdict, records[0])


def _evaluate(lookups: Lookups, domain: str, record: str, ip, budget: list[int]) -> str:
    redirect = ""
    for term in record.split()[1:]:
        if "%" in term:
            raise _Unknown(f"'{term}' uses macros, which this check does not expand")
        name, _, value = term.partition("=")
        if value and ":" not in name and "/" not in name:
            if name.lower() == "redirect":
                redirect = value
            continue  # exp= and unknown modifiers change no verdict
        qualifier = QUALIFIERS.get(term[0], "")
        mechanism = term[1:] if qualifier else term
        if _matches(lookups, domain, mechanism, ip, budget):
            return qualifier or "pass"
    if redirect:
        _spend(budget, redirect)
        records = spf_records(lookups, redirect)
        if len(records) != 1:
            raise _PermError(f"redirect={redirect} leads to {len(records)} SPF records")
        return _evaluate(lookups, redirect, records[0], ip, budget)
    return "neutral"


def _matches(lookups: Lookups, domain: str, mechanism: str, ip, budget: list[int]) -> bool:
    kind, _, argument = mechanism.partition(":")
    kind, _, prefix = kind.lower().partition("/")
    if kind == "all":
        return True
    if kind in ("ip4", "ip6"):
        try:
            return ip in ipaddress.ip_network(argument, strict=False)
        except ValueError as exc:
            raise _PermError(f"'{mechanism}' is not a network") from exc
    target, _, given = argument.partition("/")
    target, prefix = target or domain, given or prefix
    if kind == "ptr":
        raise _Unknown("'ptr' is deprecated (RFC 7208 5.5) and not evaluated here")
    if kind not in ("include", "a", "mx", "exists"):
        raise _PermError(f"'{mechanism}' is not an SPF mechanism")
    _spend(budget, target)
    bits = int(prefix) if prefix.isdigit() else None
    if kind == "include":
        records = spf_records(lookups, target)
        if len(records) != 1:
            raise _PermError(f"include:{target} has {len(records)} SPF records")
        return _evaluate(lookups, target, records[0], ip, budget) == "pass"
    if kind == "a":
        return _in_any(ip, lookups.addresses(target), bits)
    if kind == "mx":
        return any(_in_any(ip, lookups.addresses(host), bits) for host in lookups.mx(target)[:10])
    return bool(lookups.addresses(target))  # exists


def _in_any(ip, addresses: list[str], cidr: int | None) -> bool:
    for address in addresses:
        candidate = ipaddress.ip_address(address)
        if candidate.version != ip.version:
            continue
        bits = cidr if cidr is not None and candidate.version == 4 else candidate.max_prefixlen
        if ip in ipaddress.ip_network(f"{address}/{bits}", strict=False):
            return True
    return False


def _spend(budget: list[int], name: str) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise _PermError(f"more than {MAX_LOOKUPS} DNS look-ups (at {name}): receivers give up")
