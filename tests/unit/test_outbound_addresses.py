"""Which addresses outbound channels may reach: IP literals in every spelling, and what names resolve to."""

from __future__ import annotations

import ipaddress

import pytest

from adapters import outbound_addresses
from adapters.outbound_addresses import (
    IPAddress,
    NonPublicAddress,
    check_public_host,
    is_public,
    parse_ip_literal,
)


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),  # decimal
        ("0x7f.1", "127.0.0.1"),  # hex, short
        ("0x7f000001", "127.0.0.1"),  # hex
        ("0177.0.0.1", "127.0.0.1"),  # octal
        ("017700000001", "127.0.0.1"),  # octal, one part
        ("127.1", "127.0.0.1"),  # short form
        ("10.1", "10.0.0.1"),
        ("0", "0.0.0.0"),
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1"),
        ("fe80::1%25eth0", "fe80::1"),  # a zone, as a URL spells it
        ("8.8.8.8", "8.8.8.8"),
    ],
)
def test_every_spelling_of_an_ip_literal_is_read_as_the_resolver_reads_it(host: str, address: str) -> None:
    assert parse_ip_literal(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["example.com", "localhost", "1.2.3.4.5", "0x7g.1", "", "hooks.slack.com"])
def test_a_name_is_no_ip_literal(host: str) -> None:
    assert parse_ip_literal(host) is None


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # the cloud metadata address
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),  # broadcast
        ("100.64.0.1", "not a public address"),  # carrier-grade NAT
        ("192.0.2.1", "private"),  # documentation
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
        ("::7f00:1", "reserved"),  # IPv4-compatible, deprecated
        ("fec0::1", "site-local"),  # deprecated, but still routed inward by some networks
    ],
)
def test_addresses_that_are_not_public(address: str, kind: str) -> None:
    ip = ipaddress.ip_address(address)

    assert not is_public(ip)
    assert outbound_addresses.kind(ip) == kind


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"],
)
def test_public_addresses(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("host", "says"),
    [
        ("10.0.0.1", "target must be a public address; 10.0.0.1 is private"),
        ("0x7f.1", "target must be a public address; 0x7f.1 (127.0.0.1) is loopback"),
        ("2130706433", "target must be a public address; 2130706433 (127.0.0.1) is loopback"),
        ("169.254.169.254", "target must be a public address; 169.254.169.254 is link-local"),
    ],
)
def test_a_literal_that_is_not_public_is_refused_in_words(host: str, says: str) -> None:
    with pytest.raises(NonPublicAddress) as refused:
        check_public_host(host, allow_private=False)

    assert refused.value.message == f"{says} (use --allow-private-targets for local development)"


def test_every_address_a_name_resolves_to_must_be_public(monkeypatch: pytest.MonkeyPatch) -> None:
    answers: dict[str, list[IPAddress]] = {
        "public.example": [ipaddress.ip_address("93.184.216.34")],
        "split.example": [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.0.0.7")],
    }
    monkeypatch.setattr(outbound_addresses, "resolve", lambda host: answers[host])

    check_public_host("public.example", allow_private=False)
    with pytest.raises(NonPublicAddress, match=r"split\.example resolves to 10\.0\.0\.7, which is private"):
        check_public_host("split.example", allow_private=False)


def test_localhost_resolves_inward_and_is_refused() -> None:
    with pytest.raises(NonPublicAddress, match=r"localhost resolves to \S+, which is loopback"):
        check_public_host("localhost", allow_private=False)


def test_a_name_that_does_not_resolve_yet_is_accepted() -> None:
    check_public_host("no-such-host.invalid", allow_private=False)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.0.0.1", "[::1]", "169.254.169.254"])
def test_allowing_private_targets_lifts_the_check(host: str) -> None:
    check_public_host(host, allow_private=True)


def test_a_long_name_is_not_repeated_in_full(monkeypatch: pytest.MonkeyPatch) -> None:
    name = ".".join(["internal-" + "x" * 50] * 4)
    monkeypatch.setattr(outbound_addresses, "resolve", lambda host: [ipaddress.ip_address("10.0.0.1")])

    with pytest.raises(NonPublicAddress) as refused:
        check_public_host(name, allow_private=False)

    assert name not in refused.value.message
    assert name[:59] in refused.value.message
    assert name[:101] not in refused.value.message
