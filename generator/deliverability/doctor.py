"""`press doctor`: the records Gmail, Yahoo and Outlook.com look up before they accept bulk
mail, checked against what press actually sends (From, envelope sender, relay, DKIM key).

Each check says what it found and, when something is missing or wrong, the exact record to
publish. A failed check is one of the bulk senders' requirements (SPF allowing the relay,
DKIM verifying, DMARC published and aligned with From, somewhere for bounces to go).
"""

from __future__ import annotations

import base64
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

from generator.content.site_config import SiteConfig
from generator.deliverability.lookups import Lookups
from generator.deliverability.spf import check_spf, spf_records
from generator.delivery.dkim import DkimKeyError, SigningKeys, load_signing_keys, public_record

_SUFFIXES = PublicSuffixList()


@dataclass(frozen=True)
class Check:
    status: str  # ok, warn or fail
    subject: str  # what was checked: "SPF example.org"
    finding: str
    publish: str = ""  # the record to publish, as NAME TYPE "VALUE"


@dataclass(frozen=True)
class Sender:
    """What the receivers see of press's mail."""

    from_domain: str
    envelope_domain: str
    relay: str  # the SMTP host press hands mail to ('' for maildir: and memory:)
    dkim_domain: str  # '' when press does not sign


def sender_of(site: SiteConfig) -> Sender:
    envelope = site.email.bounce_address or site.email.from_address
    transport = site.email.transport
    relay = (urlsplit(transport).hostname or "") if transport.startswith("smtp") else ""
    dkim = site.email.dkim.domain if site.email.dkim else ""
    return Sender(_domain(site.email.from_address), _domain(envelope), relay, dkim)


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


def organisational(domain: str) -> str:
    return _SUFFIXES.privatesuffix(domain) or domain


def aligned(one: str, other: str, strict: bool) -> bool:
    if strict:
        return one == other
    return bool(one and other) and organisational(one) == organisational(other)


def run_checks(
    site: SiteConfig, lookups: Lookups, relay: str = "", relay_signs: bool = False
) -> list[Check]:
    sender = sender_of(site)
    relay = relay or sender.relay
    checks = check_spf_domains(lookups, sender, relay)
    checks += check_dkim(site, lookups) if not relay_signs else []
    checks += check_dmarc(lookups, sender, relay_signs)
    checks.append(check_bounces(lookups, sender.envelope_domain))
    return checks


def check_spf_domains(lookups: Lookups, sender: Sender, relay: str) -> list[Check]:
    addresses = _relay_addresses(lookups, relay)
    checks = []
    for domain in dict.fromkeys((sender.envelope_domain, sender.from_domain)):
        checks.append(_spf_check(lookups, domain, relay, addresses))
    return checks


def _relay_addresses(lookups: Lookups, relay: str) -> list[str]:
    if not relay:
        return []
    try:
        return [str(ipaddress.ip_address(relay))]
    except ValueError:
        return lookups.addresses(relay)


def _spf_check(lookups: Lookups, domain: str, relay: str, addresses: list[str]) -> Check:
    subject = f"SPF {domain}"
    mechanisms = " ".join(_mechanism(a) for a in addresses) or "a mx"
    if not relay or not addresses:
        records = spf_records(lookups, domain)
        why = (
            "no relay to check: the transport is not SMTP"
            if not relay
            else (f"the relay {relay} has no address in DNS")
        )
        if not records:
            return Check(
                "fail", subject, f"no SPF record ({why})", _txt(domain, f"v=spf1 {mechanisms} -all")
            )
        return Check("warn", subject, f"{records[0]} ({why}, so whether it allows it is unknown)")
    verdicts = [(address, check_spf(lookups, domain, address)) for address in addresses]
    refused = [(a, r) for a, r in verdicts if r.verdict != "pass"]
    record = verdicts[0][1].record
    if not refused:
        return Check("ok", subject, f"allows the relay {relay} ({', '.join(addresses)}): {record}")
    address, result = refused[0]
    if result.verdict == "none":
        return Check("fail", subject, "no SPF record", _txt(domain, f"v=spf1 {mechanisms} -all"))
    if result.verdict in ("permerror", "unknown"):
        return Check("fail", subject, f"{result.record}: {result.reason}")
    fixed = _with_mechanisms(record, [_mechanism(a) for a, _ in refused])
    return Check(
        "fail",
        subject,
        f"{result.verdict} for the relay {relay} ({address}): {record}",
        _txt(domain, fixed),
    )


def _mechanism(address: str) -> str:
    return f"ip{ipaddress.ip_address(address).version}:{address}"


def _with_mechanisms(record: str, added: list[str]) -> str:
    terms = record.split()
    return " ".join([terms[0], *added, *terms[1:]])


def check_dkim(site: SiteConfig, lookups: Lookups) -> list[Check]:
    settings = site.email.dkim
    if settings is None:
        return [
            Check(
                "fail",
                "DKIM",
                "press signs nothing: set email.dkim (domain, selector) in site_config/site.yml "
                "and the key in PRESS_DKIM_PRIVATE_KEY; if your relay signs for you, run "
                "press doctor --relay-signs",
            )
        ]
    checks = []
    keys: SigningKeys | None = None
    try:
        keys = load_signing_keys(project=site.root)
    except DkimKeyError as exc:
        checks.append(Check("fail", "DKIM key", str(exc)))
    wanted = [(settings.selectors[0], keys.rsa if keys else None, "rsa")]
    if settings.ed25519_selector:
        wanted.append((settings.ed25519_selector, keys.ed25519 if keys else None, "ed25519"))
    for selector, key, kind in wanted:
        checks.append(_selector_check(lookups, settings.domain, selector, key, kind))
    for selector in settings.selectors[1:]:
        checks.append(_retired_selector_check(lookups, settings.domain, selector))
    return checks


def _selector_check(lookups: Lookups, domain: str, selector: str, key, kind: str) -> Check:
    name = f"{selector}._domainkey.{domain}"
    subject = f"DKIM {name}"
    publish = _txt(name, public_record(key)) if key is not None else ""
    tags = _dkim_tags(lookups.txt(name))
    if tags is None:
        return Check("fail", subject, "no DKIM key record", publish)
    if tags.get("k", "rsa").lower() != kind:
        return Check(
            "fail", subject, f"k={tags.get('k', 'rsa')}, but press signs with {kind}", publish
        )
    if not tags.get("p"):
        return Check("fail", subject, "the key is revoked (empty p=)", publish)
    if key is None:
        return Check("warn", subject, "published; cannot compare it without the private key")
    if _decoded(tags["p"]) != _decoded(_dkim_tags([public_record(key)])["p"]):
        return Check("fail", subject, "the published key is not the private key's", publish)
    return Check("ok", subject, f"matches the private key ({kind})")


def _retired_selector_check(lookups: Lookups, domain: str, selector: str) -> Check:
    name = f"{selector}._domainkey.{domain}"
    if _dkim_tags(lookups.txt(name)) is None:
        return Check(
            "warn",
            f"DKIM {name}",
            "listed for rotation but not published: mail signed with it no longer verifies "
            "(remove it from email.dkim.selector once that mail is delivered)",
        )
    return Check("ok", f"DKIM {name}", "still published (the previous key, for mail in flight)")


def _dkim_tags(records: list[str]) -> dict[str, str] | None:
    for record in records:
        tags = _tag_list(record)
        if tags.get("v", "DKIM1") == "DKIM1" and "p" in tags:
            return tags
    return None


def _tag_list(record: str) -> dict[str, str]:
    pairs = (part.partition("=") for part in record.split(";"))
    return {name.strip().lower(): "".join(value.split()) for name, sep, value in pairs if sep}


def _decoded(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        return b""


def check_dmarc(lookups: Lookups, sender: Sender, relay_signs: bool) -> list[Check]:
    domain = sender.from_domain
    found = _dmarc_record(lookups, domain)
    if found is None:
        publish = _txt(f"_dmarc.{domain}", f"v=DMARC1; p=none; rua=mailto:dmarc@{domain}")
        return [Check("fail", f"DMARC {domain}", "no DMARC record", publish)]
    where, tags = found
    policy = tags.get("p", "")
    subject = f"DMARC {where}"
    if policy not in ("none", "quarantine", "reject"):
        return [Check("fail", subject, f"p={policy or '(missing)'} is not a DMARC policy")]
    checks = [Check("ok", subject, f"published, p={policy}")]
    spf_ok = aligned(sender.envelope_domain, domain, tags.get("aspf") == "s")
    dkim_ok = relay_signs or aligned(sender.dkim_domain, domain, tags.get("adkim") == "s")
    if spf_ok or dkim_ok:
        how = " and ".join(n for n, ok in (("SPF", spf_ok), ("DKIM", dkim_ok)) if ok)
        checks.append(Check("ok", f"alignment with From {domain}", f"{how} aligned"))
    else:
        checks.append(
            Check(
                "fail",
                f"alignment with From {domain}",
                f"neither the envelope domain ({sender.envelope_domain}) nor the DKIM domain "
                f"({sender.dkim_domain or 'none'}) is aligned with From: set email.dkim.domain "
                f"to {domain}",
            )
        )
    return checks


def _dmarc_record(lookups: Lookups, domain: str) -> tuple[str, dict[str, str]] | None:
    for candidate in dict.fromkeys((domain, organisational(domain))):
        for record in lookups.txt(f"_dmarc.{candidate}"):
            tags = _tag_list(record)
            if tags.get("v") == "DMARC1":
                return f"_dmarc.{candidate}", tags
    return None


def check_bounces(lookups: Lookups, domain: str) -> Check:
    hosts = lookups.mx(domain)
    if hosts:
        return Check("ok", f"MX {domain}", f"bounces go to {', '.join(hosts)}")
    return Check(
        "fail",
        f"MX {domain}",
        "no MX record: bounces to the envelope sender have nowhere to go",
        f"{domain} MX 10 mail.{domain}",
    )


def _txt(name: str, value: str) -> str:
    return f'{name} TXT "{value}"'
