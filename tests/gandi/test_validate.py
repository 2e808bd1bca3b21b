"""The validators the client and the config flow share."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.esddns.gandi import (
    MAX_TTL,
    MIN_TTL,
    Credential,
    CredentialKind,
    GandiInputError,
    RecordType,
    check_record_length,
    normalize_api_url,
    normalize_domain,
    normalize_name,
    normalize_secret,
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


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("home.example.com", "home"),
        ("HOME.Example.COM", "home"),
        ("home.example.com.", "home"),
        ("example.com", "@"),
        ("Example.COM.", "@"),
        ("*.lab.example.com", "*.lab"),
        ("a.b.example.com", "a.b"),
        ("home", "home"),
        ("home.example.org", "home.example.org"),  # relative, as typed: inside example.com
        ("home.bücher.example.com", "home.xn--bcher-kva"),
    ],
)
def test_normalize_name_inside_its_domain(name: str, expected: str) -> None:
    """A full name pasted into the name field means the relative name inside the domain."""
    assert normalize_name(name, "example.com") == expected


def test_normalize_name_inside_an_idn_domain() -> None:
    assert normalize_name("Home.Bücher.de.", "xn--bcher-kva.de") == "home"


@pytest.mark.parametrize("name", ["home.example.org.", "home.", "example.com.example.org."])
def test_normalize_name_refuses_a_full_name_elsewhere(name: str) -> None:
    """A final dot makes the name absolute: outside the domain, it names another zone."""
    with pytest.raises(GandiInputError) as caught:
        normalize_name(name, "example.com")
    assert caught.value.code == "name_outside_domain"
    assert caught.value.value == name


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


# ----- what a user pastes: the secret and the API URL -------------------------------------------


@pytest.mark.parametrize(
    "pasted",
    ["tok-123", " tok-123", "tok-123\n", "\ttok-123 \r\n", "\n\ntok-123\n\n", "\u00a0tok-123"],
)
def test_normalize_secret_strips_what_a_copy_brings(pasted: str) -> None:
    assert normalize_secret(pasted) == "tok-123"
    credential = Credential(CredentialKind.TOKEN, pasted)
    assert credential.secret == "tok-123"
    assert credential.authorization() == "Bearer tok-123"
    assert credential == Credential(CredentialKind.TOKEN, "tok-123")


@pytest.mark.parametrize(
    "secret",
    ["", "  \n\t", "tok 123", "tok\t123", "tok\n123", "naïve-tok", "tok\x00x", "tok\x7f",
     "t\u200bok", 42, None, b"tok"],
)  # fmt: skip
def test_normalize_secret_refuses_without_echoing(secret: Any) -> None:
    for call in (lambda: normalize_secret(secret), lambda: Credential("token", secret)):  # type: ignore[arg-type]
        with pytest.raises(GandiInputError) as caught:
            call()
        error = caught.value
        assert error.code == "invalid_secret"
        assert error.value is None  # the UI never gets the secret back
        if isinstance(secret, str) and secret.strip():
            for text in (str(error), repr(error), error.message):
                assert secret.strip() not in text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.gandi.net/v5/livedns", "https://api.gandi.net/v5/livedns"),
        (" https://API.Gandi.net/v5/livedns/\n", "https://api.gandi.net/v5/livedns"),
        ("https://api.sandbox.gandi.net/v5/livedns//", "https://api.sandbox.gandi.net/v5/livedns"),
        ("http://127.0.0.1:8053/v5/livedns", "http://127.0.0.1:8053/v5/livedns"),
        ("https://[::1]:8443/v5/livedns", "https://[::1]:8443/v5/livedns"),
        ("https://bücher.example/v5", "https://xn--bcher-kva.example/v5"),
        ("https://proxy.lan", "https://proxy.lan"),
    ],
)
def test_normalize_api_url(url: str, expected: str) -> None:
    assert normalize_api_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://api.gandi.net/v5/livedns?x=1",
        "https://api.gandi.net/v5/livedns?",
        "https://api.gandi.net/v5/livedns#top",
        "https://api.gandi.net/v5/livedns#",
        "ftp://api.gandi.net/v5/livedns",
        "file:///etc/passwd",
        "api.gandi.net/v5/livedns",
        "https:///v5/livedns",
        "https://",
        "https://api.gandi .net/v5",
        "https://api.gandi.net:99999/v5",
        "https://[::1/v5",
        "",
        "   ",
        42,
        None,
    ],
)
def test_normalize_api_url_refuses(url: Any) -> None:
    with pytest.raises(GandiInputError) as caught:
        normalize_api_url(url)
    assert caught.value.code == "invalid_api_url"
    assert caught.value.value is None or len(caught.value.value) <= 64


@pytest.mark.parametrize(
    "url", ["https://user:pa55word@api.gandi.net/v5/livedns", "https://pa55word@api.gandi.net/v5"]
)
def test_an_api_url_with_credentials_is_refused_without_showing_them(url: str) -> None:
    with pytest.raises(GandiInputError) as caught:
        normalize_api_url(url)
    error = caught.value
    assert error.code == "invalid_api_url"
    assert all("pa55word" not in text for text in (str(error), repr(error), str(error.value)))


def test_check_record_length() -> None:
    domain = "example.com"  # 11 characters: a 241-character name makes exactly 253
    name = ".".join(["a" * 60] * 4)  # 243 characters
    check_record_length(domain, "@")
    check_record_length(domain, name[:241])
    with pytest.raises(GandiInputError) as caught:
        check_record_length(domain, name[:242])
    assert caught.value.code == "name_too_long"
    assert caught.value.value is not None
    assert len(caught.value.value) <= 64


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda: normalize_domain("com"), "invalid_domain"),
        (lambda: normalize_domain("exa mple.com"), "invalid_domain"),
        (lambda: normalize_domain("☃\u200d.example"), "invalid_domain"),
        (lambda: normalize_domain(None), "invalid_domain"),
        (lambda: normalize_name("a/b"), "invalid_name"),
        (lambda: normalize_name("home."), "invalid_name"),
        (lambda: normalize_name(""), "invalid_name"),
        (lambda: normalize_name(".".join(["a" * 60] * 5)), "name_too_long"),
        (lambda: normalize_type("CNAME"), "invalid_type"),
        (lambda: validate_ttl(299), "invalid_ttl"),
        (lambda: validate_ttl("300"), "invalid_ttl"),
        (lambda: validate_values(["1.2.3"], "A"), "invalid_value"),
        (lambda: validate_values([], "A"), "invalid_value"),
        (lambda: validate_values("81.2.69.142", "A"), "invalid_value"),
        (lambda: validate_values(42, "A"), "invalid_value"),
        (lambda: validate_values([None], "A"), "invalid_value"),
        (lambda: validate_values(["fe80::1%eth0"], "AAAA"), "invalid_value"),
    ],
)
def test_every_refusal_carries_a_code_and_a_short_value(call: Any, code: str) -> None:
    with pytest.raises(GandiInputError) as caught:
        call()
    assert caught.value.code == code
    assert caught.value.value is not None
    assert len(caught.value.value) <= 64
    assert f"code={code!r}" in repr(caught.value)


def test_a_long_refused_value_is_shortened_for_the_ui() -> None:
    with pytest.raises(GandiInputError) as caught:
        normalize_domain("x" * 300 + "\n.example")
    assert caught.value.value is not None
    assert len(caught.value.value) == 64
    assert caught.value.value.endswith("…")
    assert "\n" not in caught.value.value


def test_a_swapped_credential_never_shows_the_secret() -> None:
    with pytest.raises(GandiInputError) as caught:
        Credential("tok-secret-123", "token")  # type: ignore[arg-type]
    assert caught.value.code == "invalid_credential_kind"
    assert caught.value.value is None
    assert "tok-secret-123" not in f"{caught.value} {caught.value!r}"
