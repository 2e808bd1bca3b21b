"""What counts as a public address."""

from __future__ import annotations

from ipaddress import ip_address, ip_network

import pytest

from custom_components.esddns.wan import (
    PUBLIC_ONLY,
    AddressClass,
    AddressPolicy,
    InvalidPrefixError,
    classify_address,
    hold_every_public,
    holds_public,
    parse_prefix,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("81.2.69.142", AddressClass.PUBLIC),
        ("8.8.8.8", AddressClass.PUBLIC),
        ("2a00:1450:4007:80e::200e", AddressClass.PUBLIC),
        ("10.1.2.3", AddressClass.PRIVATE),
        ("172.16.0.1", AddressClass.PRIVATE),
        ("172.31.255.255", AddressClass.PRIVATE),
        ("192.168.1.1", AddressClass.PRIVATE),
        ("fd12:3456::1", AddressClass.PRIVATE),
        ("100.64.0.1", AddressClass.SHARED),
        ("100.127.255.254", AddressClass.SHARED),
        ("127.0.0.1", AddressClass.LOOPBACK),
        ("::1", AddressClass.LOOPBACK),
        ("169.254.10.1", AddressClass.LINK_LOCAL),
        ("fe80::1", AddressClass.LINK_LOCAL),
        ("224.0.0.1", AddressClass.MULTICAST),
        ("239.255.255.250", AddressClass.MULTICAST),
        ("ff02::1", AddressClass.MULTICAST),
        ("0.0.0.0", AddressClass.UNSPECIFIED),
        ("::", AddressClass.UNSPECIFIED),
        ("0.1.2.3", AddressClass.RESERVED),
        ("240.0.0.1", AddressClass.RESERVED),
        ("255.255.255.255", AddressClass.RESERVED),
        ("192.0.0.8", AddressClass.RESERVED),
        ("192.0.2.1", AddressClass.DOCUMENTATION),
        ("198.51.100.7", AddressClass.DOCUMENTATION),
        ("203.0.113.9", AddressClass.DOCUMENTATION),
        ("2001:db8::1", AddressClass.DOCUMENTATION),
        ("3fff::1", AddressClass.DOCUMENTATION),
        ("198.18.0.1", AddressClass.BENCHMARKING),
        ("2001:2::1", AddressClass.BENCHMARKING),
        ("2002:5102:458e::1", AddressClass.TRANSITION),  # 6to4
        ("2001:0:4136:e378::1", AddressClass.TRANSITION),  # Teredo
        ("64:ff9b::5102:458e", AddressClass.TRANSITION),  # NAT64
        ("::ffff:81.2.69.142", AddressClass.TRANSITION),  # IPv4-mapped
        ("192.88.99.1", AddressClass.TRANSITION),
        ("fec0::1", AddressClass.RESERVED),
        ("4000::1", AddressClass.RESERVED),  # outside global unicast 2000::/3
        ("100::1", AddressClass.RESERVED),
    ],
)
def test_classify(text: str, expected: AddressClass) -> None:
    assert classify_address(ip_address(text)) is expected


def test_policies() -> None:
    cgnat = ip_address("100.64.1.2")
    assert PUBLIC_ONLY.rejects(ip_address("81.2.69.142")) is None
    assert PUBLIC_ONLY.rejects(cgnat) is AddressClass.SHARED
    assert AddressPolicy(frozenset(AddressClass)).rejects(ip_address("127.0.0.1")) is None
    relaxed = AddressPolicy(frozenset({AddressClass.PUBLIC, AddressClass.SHARED}))
    assert relaxed.rejects(cgnat) is None
    assert relaxed.rejects(ip_address("10.0.0.1")) is AddressClass.PRIVATE


@pytest.mark.parametrize(
    ("text", "version", "expected"),
    [
        ("81.2.64.0/18", 4, "81.2.64.0/18"),
        (" 81.2.69.142/18 ", 4, "81.2.64.0/18"),  # the user's own address with its length
        ("81.2.69.142", 4, "81.2.69.142/32"),
        ("2001:db8:1200::/40", 6, "2001:db8:1200::/40"),
        ("2001:db8:1234:5678::1/56", 6, "2001:db8:1234:5600::/56"),
        ("2a00:1450::1", 6, "2a00:1450::1/128"),
    ],
)
def test_a_prefix_is_read_as_the_network_it_names(text: str, version: int, expected: str) -> None:
    assert str(parse_prefix(text, version)) == expected


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("81.2.64.0/33", 4),
        ("81.2.64", 4),
        ("my isp", 4),
        ("", 4),
        ("2001:db8::/40", 4),  # the other family
        ("81.2.64.0/18", 6),
        ("2001:db8::/129", 6),
        ("2001:db8::1%eth0", 6),
    ],
)
def test_what_is_not_a_prefix_of_the_family_is_refused(text: str, version: int) -> None:
    with pytest.raises(InvalidPrefixError):
        parse_prefix(text, version)


def test_filters_reject_never_and_outside_only_and_say_which() -> None:
    policy = AddressPolicy(
        never=(parse_prefix("81.2.69.160/28", 4),),
        only=(parse_prefix("81.2.64.0/18", 4), parse_prefix("93.184.216.0/24", 4)),
    )
    assert policy.filtered(ip_address("81.2.69.142")) is None
    assert policy.filtered(ip_address("93.184.216.34")) is None
    assert policy.filtered(ip_address("81.2.69.161")) == "in 81.2.69.160/28"
    assert policy.filtered(ip_address("8.8.8.8")) == "outside 81.2.64.0/18, 93.184.216.0/24"
    assert policy.accepts(ip_address("81.2.69.142"))
    assert not policy.accepts(ip_address("81.2.69.161"))
    assert not policy.accepts(ip_address("10.0.0.1"))  # inside no filter, but not public
    # No filters: every public address.
    assert PUBLIC_ONLY.filtered(ip_address("8.8.8.8")) is None
    assert PUBLIC_ONLY.accepts(ip_address("2a00:1450:4007:80e::200e"))


@pytest.mark.parametrize(
    ("prefix", "public"),
    [
        ("81.2.64.0/18", True),
        ("0.0.0.0/0", True),
        ("10.0.0.0/8", False),
        ("192.168.1.0/24", False),
        ("224.0.0.0/3", False),  # multicast and reserved, though no one row holds it all
        ("198.18.0.0/15", False),
        ("100.0.0.0/9", True),  # 100.0.0.0-100.63.255.255 is public, the rest shared
        ("2a01:4f8::/32", True),
        ("::/0", True),
        ("fd00::/8", False),
        ("fc00::/6", False),  # unique local, link-local and site-local
        ("2001::/32", False),  # Teredo
        ("2001::/16", True),
        ("4000::/3", False),  # outside global unicast
    ],
)
def test_a_prefix_holds_a_public_address_or_not(prefix: str, public: bool) -> None:
    assert holds_public(ip_network(prefix)) is public


@pytest.mark.parametrize(
    ("prefixes", "every"),
    [
        (["0.0.0.0/0"], True),
        (["0.0.0.0/1", "128.0.0.0/1"], True),
        (["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3"], True),  # 224.0.0.0/3 is never public
        (["0.0.0.0/1", "128.0.0.0/2"], False),
        (["2000::/3"], True),
        (["::/0"], True),
        (["2000::/4", "3000::/5", "3800::/6", "3c00::/7", "3e00::/8", "3f00::/9"], False),
        (
            [str(net) for net in ip_network("2000::/3").address_exclude(ip_network("3fff::/20"))],
            True,
        ),
        (
            [str(net) for net in ip_network("2000::/3").address_exclude(ip_network("2a01::/16"))],
            False,
        ),
        ([], False),
    ],
)
def test_prefixes_together_hold_every_public_address_or_not(
    prefixes: list[str], every: bool
) -> None:
    nets = [ip_network(prefix) for prefix in prefixes]
    version = nets[0].version if nets else 4
    assert hold_every_public(nets, version) is every
