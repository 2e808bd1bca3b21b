"""The Gandi client against the fake LiveDNS: operations, credentials, errors, secrets."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
import json
import logging
import socket
import traceback
import tracemalloc
from types import SimpleNamespace
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
import pytest

from custom_components.esddns.gandi import (
    PRODUCTION_URL,
    SANDBOX_URL,
    Credential,
    CredentialKind,
    GandiAuthError,
    GandiBadRequestError,
    GandiClient,
    GandiConflictError,
    GandiConnectionError,
    GandiCredentialError,
    GandiDomainNotFoundError,
    GandiError,
    GandiInputError,
    GandiNotFoundError,
    GandiPermissionError,
    GandiRateLimitError,
    GandiResponseError,
    GandiServerError,
    GandiTimeoutError,
    RecordType,
    Rrset,
    scrub,
)
from devtools.fakes.gandi import FakeGandi, compressed_zeros
from tests.fixtures_gandi import EXAMPLE_API_KEY, EXAMPLE_TOKEN, NO_RIGHTS_TOKEN


def make_client(
    session: aiohttp.ClientSession,
    fake: FakeGandi,
    secret: str = EXAMPLE_TOKEN,
    kind: CredentialKind = CredentialKind.TOKEN,
    timeout: float = 5.0,
) -> GandiClient:
    return GandiClient(session, Credential(kind, secret), fake.url, timeout=timeout)


# ----- operations ------------------------------------------------------------------------------


async def test_list_domains_gives_the_credentials_domains_sorted(
    client: GandiClient, fake_gandi: FakeGandi
) -> None:
    fake_gandi.add_domain("example.net")  # exists, but the token may not manage it
    fake_gandi.add_token("token-other", ["zz.example", "aa.example"])

    assert await client.list_domains() == ["example.com", "example.org"]

    [request] = fake_gandi.requests
    assert (request.method, request.path) == ("GET", "/v5/livedns/domains")
    assert (request.auth_scheme, request.principal, request.status) == (
        "Bearer",
        "example-token",
        200,
    )


async def test_list_domains_of_a_token_without_rights_is_empty(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi
) -> None:
    assert await make_client(session, fake_gandi, NO_RIGHTS_TOKEN).list_domains() == []


async def test_api_key_is_sent_with_the_apikey_scheme(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi
) -> None:
    client = make_client(session, fake_gandi, EXAMPLE_API_KEY, CredentialKind.API_KEY)

    assert await client.list_domains() == ["example.com", "example.org"]
    assert client.credential_kind == "api_key"
    assert [(r.auth_scheme, r.principal) for r in fake_gandi.requests] == [
        ("Apikey", "example-apikey")
    ]


async def test_get_rrset_of_an_absent_record_is_none(
    client: GandiClient, fake_gandi: FakeGandi
) -> None:
    assert await client.get_rrset("example.com", "home", RecordType.A) is None
    # The 404 alone cannot tell an absent record from an unknown domain: the domain is asked.
    assert [(r.path, r.status) for r in fake_gandi.requests] == [
        ("/v5/livedns/domains/example.com/records/home/A", 404),
        ("/v5/livedns/domains/example.com", 200),
    ]


async def test_get_rrset_reads_the_record_in_canonical_form(
    client: GandiClient, fake_gandi: FakeGandi
) -> None:
    fake_gandi.set_rrset("example.org", "home", "AAAA", ["2001:DB8:0:0::1", "2001:db8::2"], 600)

    rrset = await client.get_rrset("Example.ORG.", "HOME", "aaaa")

    assert rrset == Rrset("home", RecordType.AAAA, 600, ("2001:db8::1", "2001:db8::2"))


async def test_put_rrset_creates_then_replaces_the_record(
    client: GandiClient, fake_gandi: FakeGandi
) -> None:
    await client.put_rrset("example.com", "home", "A", ["81.2.69.142"], 300)
    await client.put_rrset("example.com", "home", "A", ["81.2.69.160", "81.2.69.161"], 900)

    stored = fake_gandi.get_rrset("example.com", "home", "A")
    assert stored is not None
    assert (stored.values, stored.ttl) == (["81.2.69.160", "81.2.69.161"], 900)
    writes = fake_gandi.writes()
    assert [(w.path, w.status, w.content_type) for w in writes] == [
        ("/v5/livedns/domains/example.com/records/home/A", 201, "application/json")
    ] * 2
    assert writes[0].body == {"rrset_values": ["81.2.69.142"], "rrset_ttl": 300}
    assert await client.get_rrset("example.com", "home", "A") == Rrset(
        "home", RecordType.A, 900, ("81.2.69.160", "81.2.69.161")
    )


async def test_put_rrset_accepts_200_for_a_replacement(
    client: GandiClient, fake_gandi: FakeGandi
) -> None:
    fake_gandi.replace_status = 200
    fake_gandi.set_rrset("example.com", "home", "A", ["81.2.69.142"])

    await client.put_rrset("example.com", "home", "A", ["81.2.69.143"], 300)

    assert [w.status for w in fake_gandi.writes()] == [200]
    stored = fake_gandi.get_rrset("example.com", "home", "A")
    assert stored is not None
    assert stored.values == ["81.2.69.143"]


async def test_put_rrset_sends_canonical_deduplicated_values(
    client: GandiClient, fake_gandi: FakeGandi
) -> None:
    await client.put_rrset(
        "example.com", "v6", "AAAA", ["2001:DB8:0:0::1", " 2001:db8::1 ", "2001:db8::3"], 300
    )

    [write] = fake_gandi.writes()
    assert write.body["rrset_values"] == ["2001:db8::1", "2001:db8::3"]


@pytest.mark.parametrize(
    ("name", "raw", "decoded"),
    [
        ("@", "/records/%40/A", "/records/@/A"),
        ("*", "/records/%2A/A", "/records/*/A"),
        ("*.Lab", "/records/%2A.lab/A", "/records/*.lab/A"),
        ("_vpn.home", "/records/_vpn.home/A", "/records/_vpn.home/A"),
    ],
)
async def test_names_are_percent_encoded_in_the_path(
    client: GandiClient, fake_gandi: FakeGandi, name: str, raw: str, decoded: str
) -> None:
    await client.put_rrset("example.com", name, "A", ["81.2.69.142"], 300)
    assert await client.get_rrset("example.com", name, "A") is not None

    prefix = "/v5/livedns/domains/example.com"
    assert {(r.raw_path, r.path) for r in fake_gandi.requests} == {(prefix + raw, prefix + decoded)}


async def test_internationalised_domain_and_name_go_out_as_idna(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi
) -> None:
    fake_gandi.add_token("token-idn", ["xn--bcher-kva.example"])
    client = make_client(session, fake_gandi, "token-idn")

    await client.put_rrset("Bücher.example.", "Café", "A", ["81.2.69.142"], 300)

    assert [w.path for w in fake_gandi.writes()] == [
        "/v5/livedns/domains/xn--bcher-kva.example/records/xn--caf-dma/A"
    ]


async def test_a_record_rewritten_behind_our_back_is_read_as_it_now_is(
    client: GandiClient, fake_gandi: FakeGandi
) -> None:
    await client.put_rrset("example.com", "home", "A", ["81.2.69.142"], 300)
    fake_gandi.set_rrset("example.com", "home", "A", ["203.0.113.9"], 3600)

    assert await client.get_rrset("example.com", "home", "A") == Rrset(
        "home", RecordType.A, 3600, ("203.0.113.9",)
    )
    fake_gandi.delete_rrset("example.com", "home", "A")
    assert await client.get_rrset("example.com", "home", "A") is None


async def test_a_records_domain_is_asked_for_canonically_and_one_not_managed_is_refused(
    client: GandiClient, fake_gandi: FakeGandi
) -> None:
    """After a record's 404, the domain itself is asked for in canonical form; a domain that
    exists but is not this credential's is a permission error, never "absent"."""
    assert await client.get_rrset("EXAMPLE.com.", "home", "A") is None
    fake_gandi.add_domain("example.net")
    with pytest.raises(GandiPermissionError):
        await client.get_rrset("example.net", "home", "A")
    assert [(r.path, r.status) for r in fake_gandi.requests] == [
        ("/v5/livedns/domains/example.com/records/home/A", 404),
        ("/v5/livedns/domains/example.com", 200),
        ("/v5/livedns/domains/example.net/records/home/A", 403),
    ]


# ----- refused credentials and missing domains -------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "kind"),
    [
        ("token-wrong", CredentialKind.TOKEN),
        (EXAMPLE_TOKEN, CredentialKind.API_KEY),  # a token is not an API key
        (EXAMPLE_API_KEY, CredentialKind.TOKEN),  # and the other way round
    ],
)
async def test_an_unknown_credential_is_an_auth_error(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi, secret: str, kind: CredentialKind
) -> None:
    client = make_client(session, fake_gandi, secret, kind)
    for call in (
        client.list_domains(),
        client.get_rrset("example.com", "home", "A"),
        client.put_rrset("example.com", "home", "A", ["81.2.69.142"], 300),
    ):
        with pytest.raises(GandiAuthError) as caught:
            await call
        assert isinstance(caught.value, GandiCredentialError)
        assert caught.value.status == 401
        assert caught.value.message.startswith("The server could not verify")
    assert fake_gandi.writes()[0].principal is None
    assert fake_gandi.get_rrset("example.com", "home", "A") is None


async def test_an_expired_token_is_an_auth_error(
    client: GandiClient, fake_gandi: FakeGandi
) -> None:
    assert await client.list_domains()
    fake_gandi.revoke(EXAMPLE_TOKEN)
    with pytest.raises(GandiAuthError):
        await client.list_domains()


async def test_a_domain_without_rights_is_a_permission_error(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi
) -> None:
    client = make_client(session, fake_gandi, NO_RIGHTS_TOKEN)
    with pytest.raises(GandiPermissionError) as caught:
        await client.get_rrset("example.com", "home", "A")
    assert isinstance(caught.value, GandiCredentialError)
    assert (caught.value.status, caught.value.message) == (
        403,
        "Access was denied to this resource.",
    )
    with pytest.raises(GandiPermissionError):
        await client.put_rrset("example.com", "home", "A", ["81.2.69.142"], 300)
    assert fake_gandi.get_rrset("example.com", "home", "A") is None


@pytest.mark.parametrize("generic", [False, True], ids=["unknown-domain-body", "generic-404"])
async def test_an_unknown_domain_is_domain_not_found_not_an_absent_record(
    client: GandiClient, fake_gandi: FakeGandi, generic: bool
) -> None:
    """Whatever the 404 says, an unknown domain is told by asking for the domain itself."""
    fake_gandi.generic_unknown_domain = generic
    with pytest.raises(GandiDomainNotFoundError) as caught:
        await client.get_rrset("unknown.example", "home", "A")
    assert isinstance(caught.value, GandiNotFoundError)
    assert caught.value.status == 404
    assert "unknown.example" in caught.value.message
    with pytest.raises(GandiDomainNotFoundError):
        await client.put_rrset("unknown.example", "home", "A", ["81.2.69.142"], 300)
    assert "unknown.example" not in fake_gandi.domains
    assert [(r.method, r.path, r.status) for r in fake_gandi.requests] == [
        ("GET", "/v5/livedns/domains/unknown.example/records/home/A", 404),
        ("GET", "/v5/livedns/domains/unknown.example", 404),
        ("PUT", "/v5/livedns/domains/unknown.example/records/home/A", 404),
        ("GET", "/v5/livedns/domains/unknown.example", 404),
    ]


@pytest.mark.parametrize("generic", [False, True], ids=["unknown-domain-body", "generic-404"])
async def test_a_domain_removed_later_is_domain_not_found(
    client: GandiClient, fake_gandi: FakeGandi, generic: bool
) -> None:
    fake_gandi.generic_unknown_domain = generic
    await client.put_rrset("example.com", "home", "A", ["81.2.69.142"], 300)
    fake_gandi.remove_domain("example.com")
    with pytest.raises(GandiDomainNotFoundError):
        await client.get_rrset("example.com", "home", "A")
    with pytest.raises(GandiDomainNotFoundError):
        await client.put_rrset("example.com", "home", "A", ["81.2.69.142"], 300)


async def test_a_failing_domain_probe_maps_as_usual(
    client: GandiClient, fake_gandi: FakeGandi
) -> None:
    fake_gandi.set_rate_limit(1, per_seconds=600)  # the record's 404 passes, the probe does not
    with pytest.raises(GandiRateLimitError):
        await client.get_rrset("example.com", "home", "A")
    fake_gandi.clear_rate_limit()
    fake_gandi.fail_next("404")
    fake_gandi.fail_next("503")
    with pytest.raises(GandiServerError):
        await client.put_rrset("example.com", "home", "A", ["81.2.69.142"], 300)
    assert [r.fault for r in fake_gandi.requests] == [None, "rate-limit", "404", "503"]


async def test_a_write_404_on_a_known_domain_stays_a_plain_not_found(
    client: GandiClient, fake_gandi: FakeGandi
) -> None:
    fake_gandi.fail_next("404")
    with pytest.raises(GandiNotFoundError) as caught:
        await client.put_rrset("example.com", "home", "A", ["81.2.69.142"], 300)
    assert not isinstance(caught.value, GandiDomainNotFoundError)
    assert [(r.path, r.status) for r in fake_gandi.requests] == [
        ("/v5/livedns/domains/example.com/records/home/A", 404),
        ("/v5/livedns/domains/example.com", 200),
    ]


async def test_a_wrong_api_path_is_not_mistaken_for_an_absent_record(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi
) -> None:
    client = GandiClient(
        session, Credential(CredentialKind.TOKEN, EXAMPLE_TOKEN), fake_gandi.root_url + "/v5/dns"
    )
    with pytest.raises(GandiNotFoundError) as caught:
        await client.get_rrset("example.com", "home", "A")
    assert "API URL" in caught.value.message
    with pytest.raises(GandiNotFoundError) as caught:
        await client.put_rrset("example.com", "home", "A", ["81.2.69.142"], 300)
    assert not isinstance(caught.value, GandiDomainNotFoundError)  # not "no such domain"


# ----- error answers ---------------------------------------------------------------------------


async def test_bad_request_carries_gandis_message_and_fields(
    client: GandiClient, fake_gandi: FakeGandi
) -> None:
    fake_gandi.fail_next("400")
    with pytest.raises(GandiBadRequestError) as caught:
        await client.put_rrset("example.com", "home", "A", ["81.2.69.142"], 300)
    assert caught.value.status == 400
    assert caught.value.fields == ("rrset_values",)
    assert caught.value.message == "rrset_values: Gandi refused these values"


async def test_conflict(client: GandiClient, fake_gandi: FakeGandi) -> None:
    fake_gandi.fail_next("409")
    with pytest.raises(GandiConflictError) as caught:
        await client.put_rrset("example.com", "home", "A", ["81.2.69.142"], 300)
    assert (caught.value.status, caught.value.message) == (409, "Conflict with the zone")


async def test_rate_limit_with_retry_after_seconds(
    client: GandiClient, fake_gandi: FakeGandi
) -> None:
    fake_gandi.fail_next("429", retry_after="7")
    with pytest.raises(GandiRateLimitError) as caught:
        await client.get_rrset("example.com", "home", "A")
    assert (caught.value.status, caught.value.retry_after) == (429, 7.0)
    assert caught.value.message == "Too Many Requests"
    assert await client.get_rrset("example.com", "home", "A") is None  # the fault was one-shot


async def test_rate_limit_with_retry_after_http_date(
    client: GandiClient, fake_gandi: FakeGandi
) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    fake_gandi.fail_next("429", retry_after=later)
    fake_gandi.fail_next("429", retry_after="Sun, 06 Nov 1994 08:49:37 GMT")
    with pytest.raises(GandiRateLimitError) as caught:
        await client.list_domains()
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 0
    with pytest.raises(GandiRateLimitError) as caught:
        await client.list_domains()
    assert caught.value.retry_after == 0.0  # a date already past asks for no wait


@pytest.mark.parametrize("retry_after", [None, "soon", "-3", "1.5"])
async def test_rate_limit_without_a_usable_retry_after(
    client: GandiClient, fake_gandi: FakeGandi, retry_after: str | None
) -> None:
    fake_gandi.fail_next("429", retry_after=retry_after)
    with pytest.raises(GandiRateLimitError) as caught:
        await client.list_domains()
    assert caught.value.retry_after is None


async def test_configured_rate_limit(client: GandiClient, fake_gandi: FakeGandi) -> None:
    fake_gandi.set_rate_limit(3, per_seconds=600)
    assert await client.list_domains()
    assert await client.get_rrset("example.com", "home", "A") is None  # 404, then the domain
    with pytest.raises(GandiRateLimitError) as caught:
        await client.put_rrset("example.com", "home", "A", ["81.2.69.142"], 300)
    assert caught.value.retry_after is not None
    assert 0 < caught.value.retry_after <= 600
    assert fake_gandi.get_rrset("example.com", "home", "A") is None
    assert [r.fault for r in fake_gandi.requests] == [None, None, None, "rate-limit"]

    fake_gandi.set_rate_limit(0, retry_after=False)
    with pytest.raises(GandiRateLimitError) as caught:
        await client.list_domains()
    assert caught.value.retry_after is None
    fake_gandi.clear_rate_limit()
    assert await client.list_domains()


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("500", "Internal Server Error"),
        ("502", "Bad Gateway"),
        ("503", "Service Unavailable"),
        ("504", "Gateway Timeout"),
    ],
)
async def test_server_errors(
    client: GandiClient, fake_gandi: FakeGandi, fault: str, message: str
) -> None:
    fake_gandi.fail_next(fault, count=3)
    for call in (
        client.list_domains(),
        client.get_rrset("example.com", "home", "A"),
        client.put_rrset("example.com", "home", "A", ["81.2.69.142"], 300),
    ):
        with pytest.raises(GandiServerError) as caught:
            await call
        assert (caught.value.status, caught.value.message) == (int(fault), message)
    assert len(fake_gandi.requests) == 3  # one request each, no retry


async def test_an_answer_that_never_comes_is_a_timeout(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi
) -> None:
    client = make_client(session, fake_gandi, timeout=0.2)
    fake_gandi.fail_next("hang")
    with pytest.raises(GandiTimeoutError) as caught:
        await client.get_rrset("example.com", "home", "A")
    assert caught.value.status is None
    [request] = fake_gandi.requests
    assert (request.fault, request.status) == ("hang", None)


async def test_a_connection_cut_mid_body_is_a_connection_error(
    client: GandiClient, fake_gandi: FakeGandi
) -> None:
    fake_gandi.fail_next("cut")
    with pytest.raises(GandiConnectionError):
        await client.list_domains()
    assert await client.list_domains() == ["example.com", "example.org"]


async def test_nobody_listening_is_a_connection_error(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    fake = FakeGandi()
    await fake.start()
    url = fake.url
    await fake.close()
    client = GandiClient(session, Credential(CredentialKind.TOKEN, EXAMPLE_TOKEN), url)
    with pytest.raises(GandiConnectionError) as caught:
        await client.list_domains()
    assert caught.value.status is None


@pytest.mark.parametrize(
    "fault", ["garbage", "wrong-shape", "empty", "oversize", "oversize-declared"]
)
async def test_unexpected_bodies_are_response_errors(
    client: GandiClient, fake_gandi: FakeGandi, fault: str
) -> None:
    fake_gandi.fail_next(fault, count=2)
    with pytest.raises(GandiResponseError) as caught:
        await client.list_domains()
    assert caught.value.status == 200
    with pytest.raises(GandiResponseError):
        await client.get_rrset("example.com", "home", "A")


async def test_a_write_answered_with_garbage_is_a_response_error(
    client: GandiClient, fake_gandi: FakeGandi
) -> None:
    fake_gandi.fail_next("garbage")
    with pytest.raises(GandiResponseError):
        await client.put_rrset("example.com", "home", "A", ["81.2.69.142"], 300)


async def test_a_redirect_is_not_followed(client: GandiClient, fake_gandi: FakeGandi) -> None:
    fake_gandi.fail_next("redirect")
    with pytest.raises(GandiResponseError) as caught:
        await client.list_domains()
    assert caught.value.status == 302
    assert len(fake_gandi.requests) == 1


# ----- inputs are checked before anything is sent ----------------------------------------------


@pytest.mark.parametrize(
    ("domain", "name", "rtype"),
    [
        ("", "home", "A"),
        ("com", "home", "A"),
        ("exa mple.com", "home", "A"),
        ("-example.com", "home", "A"),
        ("example.123", "home", "A"),
        ("example.com", "", "A"),
        ("example.com", "home.example.com.", "A"),
        ("example.com", "ho/me", "A"),
        ("example.com", "a.*", "A"),
        ("example.com", "-home", "A"),
        ("example.com", "home", "CNAME"),
        ("example.com", "x" * 63 + "." + "y" * 63 + "." + "z" * 63 + "." + "w" * 60, "A"),
    ],
)
async def test_a_bad_domain_name_or_type_is_refused_and_nothing_is_sent(
    client: GandiClient, fake_gandi: FakeGandi, domain: str, name: str, rtype: str
) -> None:
    with pytest.raises(GandiInputError):
        await client.get_rrset(domain, name, rtype)
    with pytest.raises(GandiInputError):
        await client.put_rrset(domain, name, rtype, ["81.2.69.142"], 300)
    assert fake_gandi.requests == []


@pytest.mark.parametrize(
    ("rtype", "values", "ttl"),
    [
        ("A", [], 300),
        ("A", ["2001:db8::1"], 300),
        ("AAAA", ["81.2.69.142"], 300),
        ("AAAA", ["fe80::1%eth0"], 300),
        ("A", ["81.2.69.142", "not an address"], 300),
        ("A", ["081.2.69.142"], 300),
        ("A", [81], 300),
        ("A", "81.2.69.142", 300),
        ("A", None, 300),
        ("A", ["81.2.69.142"], 299),
        ("A", ["81.2.69.142"], 2_592_001),
        ("A", ["81.2.69.142"], 300.0),
        ("A", ["81.2.69.142"], True),
    ],
)
async def test_bad_values_or_ttl_are_refused_and_nothing_is_sent(
    client: GandiClient, fake_gandi: FakeGandi, rtype: str, values: Any, ttl: Any
) -> None:
    with pytest.raises(GandiInputError):
        await client.put_rrset("example.com", "home", rtype, values, ttl)
    assert fake_gandi.requests == []
    assert fake_gandi.get_rrset("example.com", "home", rtype) is None


@pytest.mark.parametrize(
    ("base_url", "timeout"),
    [("ftp://api.gandi.net/v5/livedns", 5.0), ("https:///v5", 5.0),
     ("https://api.gandi.net/v5/livedns?x=1", 5.0), ("https://u:p@api.gandi.net/v5", 5.0),
     ("https://[::1/v5", 5.0), (42, 5.0), (PRODUCTION_URL, 0), (PRODUCTION_URL, float("nan")),
     (PRODUCTION_URL, True)],
)  # fmt: skip
def test_bad_client_settings_are_refused(
    session: aiohttp.ClientSession, base_url: Any, timeout: Any
) -> None:
    with pytest.raises(GandiInputError):
        GandiClient(session, Credential(CredentialKind.TOKEN, "t"), base_url, timeout=timeout)


def test_a_credential_must_be_a_credential(session: aiohttp.ClientSession) -> None:
    with pytest.raises(GandiInputError):
        GandiClient(session, "token-example")  # type: ignore[arg-type]


# ----- production and sandbox URLs -------------------------------------------------------------


class _RefusingResolver(AbstractResolver):
    """Records the hosts asked for and resolves none: nothing leaves the machine."""

    def __init__(self) -> None:
        self.hosts: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.hosts.append(host)
        raise OSError("resolution refused in tests")

    async def close(self) -> None:
        return None


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        (SANDBOX_URL, "https://api.sandbox.gandi.net/v5/livedns/domains/example.com/records/%40/A"),
        (PRODUCTION_URL, "https://api.gandi.net/v5/livedns/domains/example.com/records/%40/A"),
        (SANDBOX_URL + "/", "https://api.sandbox.gandi.net/v5/livedns/domains/example.com/records/%40/A"),
    ],
)  # fmt: skip
async def test_the_client_calls_exactly_the_configured_api(base_url: str, expected: str) -> None:
    urls: list[str] = []

    async def on_request_start(
        _session: aiohttp.ClientSession,
        _ctx: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        urls.append(str(params.url))

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    resolver = _RefusingResolver()
    connector = aiohttp.TCPConnector(resolver=resolver)
    async with aiohttp.ClientSession(connector=connector, trace_configs=[trace]) as session:
        client = GandiClient(session, Credential(CredentialKind.TOKEN, EXAMPLE_TOKEN), base_url)
        assert client.base_url == base_url.rstrip("/")
        with pytest.raises(GandiConnectionError):
            await client.get_rrset("example.com", "@", "A")
    assert urls == [expected]
    assert resolver.hosts == [expected.split("/")[2]]


async def test_a_sandbox_shaped_path_on_the_fake(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi
) -> None:
    # The fake serves the same /v5/livedns path as api.sandbox.gandi.net does.
    assert fake_gandi.url.endswith(SANDBOX_URL.removeprefix("https://api.sandbox.gandi.net"))
    client = make_client(session, fake_gandi)
    assert await client.list_domains() == ["example.com", "example.org"]


# ----- the secret never shows ------------------------------------------------------------------


async def test_the_secret_never_appears_in_reprs_errors_or_logs(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "s3cr3t-token-value"
    fake_gandi.add_token(secret, ["example.com"])
    credential = Credential(CredentialKind.TOKEN, secret)
    client = GandiClient(session, credential, fake_gandi.url, timeout=0.2)
    wrong = GandiClient(session, Credential(CredentialKind.API_KEY, secret), fake_gandi.url)
    caplog.set_level(logging.DEBUG)

    errors: list[GandiError] = []
    for fault in ("hang", "cut", "garbage", "503", "429"):
        fake_gandi.fail_next(fault)
        with pytest.raises(GandiError) as caught:
            await client.get_rrset("example.com", "home", "A")
        errors.append(caught.value)
    with pytest.raises(GandiAuthError) as auth:
        await wrong.list_domains()
    errors.append(auth.value)
    with pytest.raises(GandiInputError) as bad:
        await client.put_rrset("example.com", "home", "A", ["81.2.69.999"], 300)
    errors.append(bad.value)
    await client.put_rrset("example.com", "home", "A", ["81.2.69.142"], 300)

    texts = [repr(credential), str(credential), repr(client), repr(wrong), caplog.text]
    for error in errors:
        texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
    assert caplog.text  # the client does log its requests, just never the secret
    assert all(secret not in text for text in texts)
    assert "'***'" in repr(credential)


@pytest.mark.parametrize("secret", ["", "two words", "line\nbreak", "naïve", 42])
def test_a_malformed_secret_is_refused_without_echoing_it(secret: Any) -> None:
    with pytest.raises(GandiInputError) as caught:
        Credential(CredentialKind.TOKEN, secret)
    assert str(secret) not in caught.value.message or secret == ""


def test_credential_kinds_and_schemes() -> None:
    token = Credential(CredentialKind.TOKEN, "abc")
    key = Credential("api_key", "abc")  # type: ignore[arg-type]
    assert (token.scheme, token.authorization()) == ("Bearer", "Bearer abc")
    assert (key.kind, key.scheme, key.authorization()) == (
        CredentialKind.API_KEY,
        "Apikey",
        "Apikey abc",
    )
    with pytest.raises(GandiInputError):
        Credential("password", "abc")  # type: ignore[arg-type]


# ----- an endpoint that echoes the Authorization header ----------------------------------------

ECHOED_SECRET = "echo-Secret-7f3a9"


@pytest.mark.parametrize("kind", [CredentialKind.TOKEN, CredentialKind.API_KEY])
@pytest.mark.parametrize("fault", ["echo-message", "echo-errors", "echo-text"])
@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 429, 500])
async def test_an_echoed_secret_never_reaches_errors_or_logs(
    session: aiohttp.ClientSession,
    fake_gandi: FakeGandi,
    caplog: pytest.LogCaptureFixture,
    kind: CredentialKind,
    fault: str,
    status: int,
) -> None:
    if kind is CredentialKind.TOKEN:
        fake_gandi.add_token(ECHOED_SECRET, ["example.com"])
    else:
        fake_gandi.add_api_key(ECHOED_SECRET, ["example.com"])
    client = make_client(session, fake_gandi, ECHOED_SECRET, kind)
    caplog.set_level(logging.DEBUG)

    errors: list[GandiError] = []
    fake_gandi.fail_next(fault, count=2, status=status)
    with pytest.raises(GandiError) as caught:
        await client.list_domains()
    errors.append(caught.value)
    with pytest.raises(GandiError) as caught:
        await client.put_rrset("example.com", "home", "A", ["81.2.69.142"], 300)
    errors.append(caught.value)

    assert [r.fault for r in fake_gandi.requests][:2] == [fault, fault]
    assert all(error.status == status for error in errors)
    texts = [caplog.text]
    for error in errors:
        texts += [str(error), repr(error), error.message, *getattr(error, "fields", ())]
        texts.append("".join(traceback.format_exception(error)))
    for text in texts:
        assert ECHOED_SECRET not in text
        assert "bearer " + ECHOED_SECRET.lower() not in text.lower()
        assert "apikey " + ECHOED_SECRET.lower() not in text.lower()
        assert "echo-secret" not in text.lower()  # not even cut in half or re-cased
    if fault == "echo-message" and status != 404:
        assert "**REDACTED**" in errors[0].message  # the rest of Gandi's message is kept
    if fault == "echo-errors" and status == 400:
        assert isinstance(errors[0], GandiBadRequestError)
        assert errors[0].fields == ("Authorization=**REDACTED**",)


def test_scrub() -> None:
    secrets = ["tok-123", "", "tok-123-longer"]
    assert scrub("a tok-123-longer b tok-123 c", secrets) == "a **REDACTED** b **REDACTED** c"
    assert scrub("Authorization: Bearer someone-else's", ()) == "Authorization: **REDACTED**"
    assert scrub("authorization: BEARER\tabc, apiKey xyz", ()) == (
        "authorization: **REDACTED** **REDACTED**"
    )
    assert scrub("The resource could not be found.", secrets) == "The resource could not be found."
    assert scrub("", secrets) == ""


# ----- a compressed answer is never inflated ---------------------------------------------------


@pytest.mark.parametrize(
    "fault", ["bomb-gzip", "bomb-deflate", "bomb-gzip-chunked", "bomb-deflate-chunked"]
)
async def test_a_decompression_bomb_is_refused_unread(
    client: GandiClient, fake_gandi: FakeGandi, fault: str
) -> None:
    """~1 MB of compressed zeros would be ~220 MB inflated: the answer is refused instead."""
    compressed_zeros("gzip" if "gzip" in fault else "deflate")  # made before measuring
    fake_gandi.fail_next(fault, count=3)
    tracemalloc.start()
    try:
        for call in (
            client.list_domains(),
            client.get_rrset("example.com", "home", "A"),
            client.put_rrset("example.com", "home", "A", ["81.2.69.142"], 300),
        ):
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            with pytest.raises(GandiResponseError, match="compressed") as caught:
                await call
            growth = tracemalloc.get_traced_memory()[1] - before
            assert caught.value.status == 200
            # Refused unread, it costs well under 1 MiB; letting aiohttp inflate it costs 40-50
            # MiB here even with the 1 MiB cap (and far more RSS), so 10 MiB tells them apart.
            assert growth < 10 * 1024 * 1024, f"{growth / 2**20:.0f} MiB"
    finally:
        tracemalloc.stop()
    assert [r.accept_encoding for r in fake_gandi.requests] == ["identity"] * 3
    assert await client.list_domains() == ["example.com", "example.org"]  # the next one is fine


async def test_an_identity_content_encoding_is_accepted(
    client: GandiClient, fake_gandi: FakeGandi, socket_enabled: None
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = b'[{"fqdn": "example.com"}]'
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Encoding: Identity\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as session:
            other = GandiClient(
                session, Credential(CredentialKind.TOKEN, "t"), f"http://127.0.0.1:{port}"
            )
            assert await other.list_domains() == ["example.com"]
    finally:
        server.close()
        await server.wait_closed()


# ----- the domain list is read page by page ----------------------------------------------------


def _domain_pages(fake: FakeGandi) -> list[tuple[str | None, str | None]]:
    return [(r.query.get("page"), r.query.get("per_page")) for r in fake.requests]


async def test_list_domains_reads_every_page(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi
) -> None:
    many = [f"d{index:03}.example" for index in range(250)]
    fake_gandi.add_token("token-many", reversed(many))
    client = make_client(session, fake_gandi, "token-many")

    assert await client.list_domains() == many
    assert _domain_pages(fake_gandi) == [("1", "100"), ("2", "100"), ("3", "100")]


@pytest.mark.parametrize("send_total_count", [True, False])
async def test_list_domains_follows_a_server_that_pages_smaller_than_asked(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi, send_total_count: bool
) -> None:
    many = [f"d{index:02}.example" for index in range(20)]
    fake_gandi.add_token("token-many", many)
    fake_gandi.max_page_size = 7
    fake_gandi.send_total_count = send_total_count
    client = make_client(session, fake_gandi, "token-many")

    domains = await client.list_domains()
    if send_total_count:
        # Total-Count tells 20 are there: three short pages are read.
        assert domains == many
        assert [page for page, _ in _domain_pages(fake_gandi)] == ["1", "2", "3"]
    else:
        # Without it, a page shorter than asked is the last one.
        assert domains == many[:7]
        assert len(fake_gandi.requests) == 1


async def test_list_domains_stops_at_exact_page_boundaries(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi
) -> None:
    many = [f"d{index:03}.example" for index in range(200)]
    fake_gandi.add_token("token-many", many)
    fake_gandi.send_total_count = False
    client = make_client(session, fake_gandi, "token-many")

    assert await client.list_domains() == many
    assert [page for page, _ in _domain_pages(fake_gandi)] == ["1", "2", "3"]  # 3rd is empty


async def test_list_domains_is_bounded(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi, caplog: pytest.LogCaptureFixture
) -> None:
    many = [f"d{index:03}.example" for index in range(150)]
    fake_gandi.add_token("token-many", many)
    fake_gandi.max_page_size = 1  # 150 pages of one: more than the client reads
    client = make_client(session, fake_gandi, "token-many")

    assert await client.list_domains() == many[:100]
    assert len(fake_gandi.requests) == 100
    assert "more than 100 pages" in caplog.text


async def test_list_domains_stops_when_the_endpoint_ignores_the_page(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    requests: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append((await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")[0])
        body = json.dumps([{"fqdn": f"d{index}.example"} for index in range(100)]).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTotal-Count: 100000\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        client = GandiClient(
            session, Credential(CredentialKind.TOKEN, "t"), f"http://127.0.0.1:{port}"
        )
        assert len(await client.list_domains()) == 100
    finally:
        server.close()
        await server.wait_closed()
    assert requests == [
        b"GET /domains?page=1&per_page=100 HTTP/1.1",
        b"GET /domains?page=2&per_page=100 HTTP/1.1",
    ]


async def test_a_failing_later_page_fails_the_list(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi
) -> None:
    fake_gandi.add_token("token-many", [f"d{index:03}.example" for index in range(150)])
    fake_gandi.set_rate_limit(1, per_seconds=600)
    client = make_client(session, fake_gandi, "token-many")
    with pytest.raises(GandiRateLimitError):
        await client.list_domains()


async def test_a_pasted_token_and_url_work_as_typed(
    session: aiohttp.ClientSession, fake_gandi: FakeGandi
) -> None:
    """What a copy from a web page gives: surrounding spaces, tabs and newlines."""
    client = GandiClient(
        session,
        Credential(CredentialKind.TOKEN, f"  {EXAMPLE_TOKEN}\r\n"),
        f"\t{fake_gandi.url}/ \n",
    )
    assert client.base_url == fake_gandi.url
    assert await client.list_domains() == ["example.com", "example.org"]
    assert [r.principal for r in fake_gandi.requests] == ["example-token"]


@pytest.mark.parametrize(
    ("base_url", "code"),
    [
        ("ftp://api.gandi.net/v5/livedns", "invalid_api_url"),
        (PRODUCTION_URL + "#x", "invalid_api_url"),
    ],
)
def test_client_settings_refusals_carry_codes(
    session: aiohttp.ClientSession, base_url: str, code: str
) -> None:
    with pytest.raises(GandiInputError) as caught:
        GandiClient(session, Credential(CredentialKind.TOKEN, "t"), base_url)
    assert caught.value.code == code
    with pytest.raises(GandiInputError) as caught:
        GandiClient(session, Credential(CredentialKind.TOKEN, "t"), PRODUCTION_URL, timeout=-1)
    assert caught.value.code == "invalid_timeout"
    with pytest.raises(GandiInputError) as caught:
        GandiClient(session, "t")  # type: ignore[arg-type]
    assert caught.value.code == "invalid_credential"
