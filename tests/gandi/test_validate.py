"""The validators the client and the config flow share."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.esddns.gandi import (
    MAX_TTL,
    MIN_TTL,
    GandiInputError,
    RecordType,
    normalize_domain,
    normalize_name,
    normalize_type,
    validate_ttl,
    validate_values,
)


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("example.com", "example.com"),
        (" Example.COM. ", "example.com"),
        ("sub.example.co.uk", "sub.example.co.uk"),
        ("Bücher.example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
        ("a1-b.example", "a1-b.example"),
    ],
)
def test_normalize_domain(domain: str, expected: str) -> None:
    assert normalize_domain(domain) == expected


@pytest.mark.parametrize(
    "domain",
    ["", ".", "com", "example..com", "-example.com", "example-.com", "exa_mple.com",
     "example.123", "xn--zz-.example", "xn--a.example", "a" * 64 + ".com",
     ".".join(["a" * 60] * 5), "exa mple.com", "☃\u200d.example", 42, None],
)  # fmt: skip
def test_normalize_domain_refuses(domain: Any) -> None:
    with pytest.raises(GandiInputError):
        normalize_domain(domain)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("@", "@"),
        (" @ ", "@"),
        ("Home", "home"),
        ("*", "*"),
        ("*.Lab", "*.lab"),
        ("_vpn", "_vpn"),
        ("a.b-c.d_e", "a.b-c.d_e"),
        ("Café", "xn--caf-dma"),
    ],
)
def test_normalize_name(name: str, expected: str) -> None:
    assert normalize_name(name) == expected


@pytest.mark.parametrize(
    "name",
    ["", "   ", "home.", "a..b", "a.*", "**", "*x", "-a", "a-", "ho me", "a/b", "a@b", "%40",
     "a" * 64, ".".join(["a" * 60] * 5), 7],
)  # fmt: skip
def test_normalize_name_refuses(name: Any) -> None:
    with pytest.raises(GandiInputError):
        normalize_name(name)


def test_normalize_type() -> None:
    assert normalize_type("a") is RecordType.A
    assert normalize_type(" aaaa ") is RecordType.AAAA
    assert normalize_type(RecordType.AAAA) is RecordType.AAAA
    for bad in ("CNAME", "", 4, None):
        with pytest.raises(GandiInputError):
            normalize_type(bad)  # type: ignore[arg-type]


def test_validate_ttl() -> None:
    assert validate_ttl(MIN_TTL) == 300
    assert validate_ttl(MAX_TTL) == 2_592_000
    for bad in (MIN_TTL - 1, MAX_TTL + 1, 0, -300, 300.0, "300", True, None):
        with pytest.raises(GandiInputError):
            validate_ttl(bad)  # type: ignore[arg-type]


def test_validate_values() -> None:
    assert validate_values(["81.2.69.142", " 81.2.69.142 ", "81.2.69.143"], "A") == (
        "81.2.69.142",
        "81.2.69.143",
    )
    assert validate_values(("2001:DB8::0:1", "::ffff:81.2.69.142"), RecordType.AAAA) == (
        "2001:db8::1",
        "::ffff:81.2.69.142",
    )
    assert validate_values(iter(["81.2.69.142"]), "a") == ("81.2.69.142",)


@pytest.mark.parametrize(
    ("values", "rtype"),
    [
        ([], "A"), ("81.2.69.142", "A"), (b"81.2.69.142", "A"), (42, "A"), (["1.2.3"], "A"),
        (["01.2.3.4"], "A"), (["2001:db8::1"], "A"), (["81.2.69.142"], "AAAA"),
        (["fe80::1%eth0"], "AAAA"), ([None], "A"), (["81.2.69.142"], "MX"),
    ],
)  # fmt: skip
def test_validate_values_refuses(values: Any, rtype: str) -> None:
    with pytest.raises(GandiInputError):
        validate_values(values, rtype)
