"""What counts as a public address."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from custom_components.esddns.wan import (
    PUBLIC_ONLY,
    AddressClass,
    AddressPolicy,
    classify_address,
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
