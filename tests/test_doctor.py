"""`press doctor` against a real DNS server on 127.0.0.1 (dnslib) serving good, missing and
wrong records; and the SPF evaluator on the record shapes senders publish."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import rsa

from generator.cli.main import main
from generator.deliverability.lookups import Lookups
from generator.deliverability.spf import check_spf
from generator.delivery.dkim import load_signing_keys, public_record

from dns_server import dns_server
from test_dkim import DOMAIN, signing_project

RELAY_IP = "192.0.2.10"
MAIL_HOST = f"mail.{DOMAIN}"


def good_zone(keys) -> dict:
    return {
        (DOMAIN, "TXT"): ["v=spf1 mx include:_spf.relay.example.net -all"],
        (DOMAIN, "MX"): [f"10 {MAIL_HOST}"],
        (MAIL_HOST, "A"): [RELAY_IP],
        ("_spf.relay.example.net", "TXT"): ["v=spf1 ip4:198.51.100.0/24 -all"],
        (f"press2026b._domainkey.{DOMAIN}", "TXT"): [public_record(keys[0])],
        (f"press2026e._domainkey.{DOMAIN}", "TXT"): [public_record(keys[1])],
        (f"press2026a._domainkey.{DOMAIN}", "TXT"): ["v=DKIM1; k=rsa; p=MIIBIjAN"],
        (f"_dmarc.{DOMAIN}", "TXT"): [f"v=DMARC1; p=quarantine; rua=mailto:dmarc@{DOMAIN}"],
    }


@pytest.fixture
def sending_project(project: Path, monkeypatch: pytest.MonkeyPatch, key_env) -> Path:
    signing_project(project)
    config = project / "site_config" / "site.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("maildir:var/outbox", f"smtp://{MAIL_HOST}:587"))
    monkeypatch.chdir(project)
    monkeypatch.setenv("PRESS_DKIM_PRIVATE_KEY", key_env["PRESS_DKIM_PRIVATE_KEY"])
    return project


def doctor(nameserver: str, *args: str):
    return CliRunner().invoke(main, ["doctor", "--dns", nameserver, *args])


def lines_of(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines()]


def test_good_records_pass(sending_project: Path, keys):
    with dns_server(good_zone(keys)) as (nameserver, _):
        result = doctor(nameserver)
    assert result.exit_code == 0, result.output
    lines = lines_of(result.output)
    assert f"ok    SPF {DOMAIN}: allows the relay {MAIL_HOST} ({RELAY_IP}): " in result.output
    assert any(
        f"DKIM press2026b._domainkey.{DOMAIN}: matches the private key (rsa)" in x for x in lines
    )
    assert any("press2026e" in x and "matches the private key (ed25519)" in x for x in lines)
    assert any("press2026a" in x and "still published" in x for x in lines)
    assert any(f"DMARC _dmarc.{DOMAIN}: published, p=quarantine" in x for x in lines)
    assert any("SPF and DKIM aligned" in x for x in lines)
    assert any(f"MX {DOMAIN}: bounces go to {MAIL_HOST}" in x for x in lines)
    assert "FAIL" not in result.output and lines[-1] == "Receivers will find what they look for."


def test_missing_records_each_say_what_to_publish(sending_project: Path, keys):
    with dns_server({(MAIL_HOST, "A"): [RELAY_IP]}) as (nameserver, _):
        result = doctor(nameserver)
    assert result.exit_code == 1
    publish = [
        x.removeprefix("publish: ") for x in lines_of(result.output) if x.startswith("publish")
    ]
    assert publish == [
        f'{DOMAIN} TXT "v=spf1 ip4:{RELAY_IP} -all"',
        f'press2026b._domainkey.{DOMAIN} TXT "{public_record(keys[0])}"',
        f'press2026e._domainkey.{DOMAIN} TXT "{public_record(keys[1])}"',
        f'_dmarc.{DOMAIN} TXT "v=DMARC1; p=none; rua=mailto:dmarc@{DOMAIN}"',
        f"{DOMAIN} MX 10 mail.{DOMAIN}",
    ]
    assert "listed for rotation but not published" in result.output
    assert lines_of(result.output)[-1].startswith("5 requirement(s) of bulk senders not met")


def test_wrong_records_are_named(sending_project: Path, keys):
    zone = good_zone(keys)
    zone[(DOMAIN, "TXT")] = ["v=spf1 ip4:203.0.113.5 ~all"]
    zone[(f"press2026b._domainkey.{DOMAIN}", "TXT")] = [
        public_record(rsa.generate_private_key(65537, 2048))
    ]
    zone[(f"press2026e._domainkey.{DOMAIN}", "TXT")] = [public_record(keys[0])]
    with dns_server(zone) as (nameserver, _):
        result = doctor(nameserver)
    assert result.exit_code == 1
    out = result.output
    assert f"FAIL  SPF {DOMAIN}: softfail for the relay {MAIL_HOST} ({RELAY_IP})" in out
    assert f'publish: {DOMAIN} TXT "v=spf1 ip4:{RELAY_IP} ip4:203.0.113.5 ~all"' in out
    assert "press2026b" in out and "the published key is not the private key's" in out
    assert "k=rsa, but press signs with ed25519" in out


def test_dmarc_alignment_and_policy(sending_project: Path, keys):
    config = sending_project / "site_config" / "site.yml"
    text = config.read_text(encoding="utf-8")
    text = text.replace(f"domain: {DOMAIN}", "domain: mailer.example.net")
    config.write_text(
        text.replace("  verp: false\n", "  verp: false\n  bounce_address: b@bounces.example.net\n")
    )
    zone = good_zone(keys)
    for selector in ("press2026b", "press2026e", "press2026a"):
        zone[(f"{selector}._domainkey.mailer.example.net", "TXT")] = zone.pop(
            (f"{selector}._domainkey.{DOMAIN}", "TXT")
        )
    zone[("bounces.example.net", "TXT")] = [f"v=spf1 ip4:{RELAY_IP} -all"]
    zone[("bounces.example.net", "MX")] = ["10 mx.example.net"]
    with dns_server(zone) as (nameserver, _):
        result = doctor(nameserver)
    assert result.exit_code == 1
    assert "FAIL  alignment with From" in result.output
    assert f"set email.dkim.domain to {DOMAIN}" in result.output
    assert "ok    SPF bounces.example.net: allows the relay" in result.output
    zone[(f"_dmarc.{DOMAIN}", "TXT")] = ["v=DMARC1; p=maybe"]
    with dns_server(zone) as (nameserver, _):
        assert "p=maybe is not a DMARC policy" in doctor(nameserver).output


def test_no_dkim_settings_fail_unless_the_relay_signs(project: Path, monkeypatch, keys):
    monkeypatch.chdir(project)
    config = project / "site_config" / "site.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("maildir:var/outbox", f"smtp://{MAIL_HOST}:587"))
    with dns_server(good_zone(keys)) as (nameserver, _):
        unsigned = doctor(nameserver)
        relayed = doctor(nameserver, "--relay-signs")
    assert unsigned.exit_code == 1 and "FAIL  DKIM: press signs nothing" in unsigned.output
    assert relayed.exit_code == 0, relayed.output


def test_an_unreachable_dns_server_is_one_line(sending_project: Path):
    from asgi_server import free_port

    result = doctor(f"127.0.0.1:{free_port()}")
    assert result.exit_code == 1
    assert (
        result.output.startswith("Error: no DNS server answered")
        and "Traceback" not in result.output
    )


SPF_ZONE = {
    ("example.org", "TXT"): ["v=spf1 a/24 ip6:2001:db8::/32 include:inc.example.org -all"],
    ("example.org", "A"): ["192.0.2.1"],
    ("inc.example.org", "TXT"): ["v=spf1 redirect=redir.example.org"],
    ("redir.example.org", "TXT"): ["v=spf1 mx:mail.example.org ?all"],
    ("mail.example.org", "MX"): ["10 mx1.example.org"],
    ("mx1.example.org", "A"): ["198.51.100.7"],
    ("two.example.org", "TXT"): ["v=spf1 -all", "v=spf1 +all"],
    ("macro.example.org", "TXT"): ["v=spf1 exists:%{i}.rbl.example.org -all"],
    **{
        (f"l{i}.example.org", "TXT"): [f"v=spf1 include:l{i + 1}.example.org -all"]
        for i in range(12)
    },
}


@pytest.mark.parametrize(
    ("domain", "address", "verdict"),
    [
        ("example.org", "192.0.2.200", "pass"),  # a/24
        ("example.org", "2001:db8::5", "pass"),
        ("example.org", "198.51.100.7", "pass"),  # include → redirect → mx
        ("example.org", "203.0.113.1", "fail"),  # the include's ?all is no match: -all
        ("redir.example.org", "203.0.113.1", "neutral"),
        ("two.example.org", "192.0.2.1", "permerror"),
        ("macro.example.org", "192.0.2.1", "unknown"),
        ("l0.example.org", "192.0.2.1", "permerror"),  # more than 10 look-ups
        ("nothing.example.org", "192.0.2.1", "none"),
    ],
)
def test_spf_verdicts(domain: str, address: str, verdict: str):
    with dns_server(SPF_ZONE) as (nameserver, _):
        assert check_spf(Lookups.using(nameserver), domain, address).verdict == verdict


def test_the_published_record_is_the_signing_keys(key_env, keys):
    loaded = load_signing_keys(key_env)
    assert public_record(loaded.rsa) == public_record(keys[0])
    assert public_record(loaded.ed25519).startswith("v=DKIM1; k=ed25519; p=")
