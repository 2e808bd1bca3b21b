"""DNS "who am I" sources: the answer parser and the aiodns client against a loopback fake."""

from __future__ import annotations

from ipaddress import ip_address
from typing import ClassVar

import aiohttp
import pytest

from custom_components.esddns.wan import DEFAULT_DNS, Family, OutcomeStatus, ask_source
from custom_components.esddns.wan.dns import _values_of_dns_result, parse_dns_answer
from custom_components.esddns.wan.errors import MalformedAnswer
from tests.fixtures_wan import WanFakes, fake_dns_source

PUBLIC = ip_address("81.2.69.142")


def test_defaults_ask_each_provider_by_address() -> None:
    by_provider = {(s.provider, next(iter(s.families))): s for s in DEFAULT_DNS}
    assert by_provider["opendns", Family.IPV4].host == "208.67.222.222"
    assert by_provider["opendns", Family.IPV6].query_type == "AAAA"
    assert by_provider["cloudflare", Family.IPV4].query_class == "CHAOS"
    assert by_provider["cloudflare", Family.IPV6].host == "2606:4700:4700::1111"
    assert by_provider["google", Family.IPV4].host == "216.239.32.10"
    assert by_provider["google", Family.IPV6].query_name == "o-o.myaddr.l.google.com"


@pytest.mark.parametrize(
    ("values", "address"),
    [
        (["81.2.69.142"], "81.2.69.142"),
        ([b"81.2.69.142"], "81.2.69.142"),
        (['"81.2.69.142"'], "81.2.69.142"),
        (["edns0-client-subnet 81.2.69.0/24", "81.2.69.142"], "81.2.69.142"),
        (["81.2.69.142", "81.2.69.142"], "81.2.69.142"),
        (["2a00:1450::1"], "2a00:1450::1"),
    ],
)
def test_parse_dns_answer(values: list[str | bytes], address: str) -> None:
    assert parse_dns_answer(values) == ip_address(address)


@pytest.mark.parametrize(
    "values",
    [
        [],
        ["edns0-client-subnet 1.2.3.0/24"],
        ["81.2.69.142", "93.184.216.34"],
        ["hello"],
        [b"\xff"],
    ],
)
def test_parse_dns_answer_rejects(values: list[str | bytes]) -> None:
    with pytest.raises(MalformedAnswer):
        parse_dns_answer(values)


def test_pycares5_results_are_read_by_type() -> None:
    """The aiodns 4 path keeps only records of the asked type (a CNAME chain is skipped)."""

    class Rec:
        def __init__(self, type_: int, **data: object) -> None:
            self.type = type_
            self.data = type("D", (), data)()

    class Result:
        answer: ClassVar = [
            Rec(5, cname="x.example"),
            Rec(16, data=b"81.2.69.142"),
            Rec(1, addr="1.2.3.4"),
        ]

    assert _values_of_dns_result(Result(), "TXT") == [b"81.2.69.142"]
    assert _values_of_dns_result(Result(), "A") == ["1.2.3.4"]


@pytest.mark.parametrize(
    ("query_type", "query_class", "address", "family"),
    [
        ("A", "IN", "81.2.69.142", Family.IPV4),
        ("AAAA", "IN", "2a00:1450::1", Family.IPV6),
        ("TXT", "IN", "81.2.69.142", Family.IPV4),
        ("TXT", "CHAOS", "2a00:1450::1", Family.IPV6),
    ],
)
async def test_answer(
    wan_fakes: WanFakes,
    wan_session: aiohttp.ClientSession,
    query_type: str,
    query_class: str,
    address: str,
    family: Family,
) -> None:
    server = await wan_fakes.dns_server(address)
    source = fake_dns_source(server, query_type=query_type, query_class=query_class)
    outcome = await ask_source(source, family, session=wan_session, limit=2)
    assert (outcome.status, outcome.address) == (OutcomeStatus.ADDRESS, ip_address(address))
    assert server.requests >= 1


@pytest.mark.parametrize(
    ("mode", "txt", "status"),
    [
        ("silent", None, OutcomeStatus.TIMEOUT),
        ("nxdomain", None, OutcomeStatus.MALFORMED),
        ("refused", None, OutcomeStatus.REFUSED),
        ("servfail", None, OutcomeStatus.REFUSED),
        ("truncated", None, OutcomeStatus.MALFORMED),
        ("answer", ["not an address"], OutcomeStatus.MALFORMED),
        ("answer", ["<html>"], OutcomeStatus.MALFORMED),
        ("answer", ["2a00:1450::1"], OutcomeStatus.MALFORMED),  # wrong family
        ("answer", ["192.168.0.1"], OutcomeStatus.NOT_PUBLIC),
    ],
)
async def test_failures(
    wan_fakes: WanFakes,
    wan_session: aiohttp.ClientSession,
    mode: str,
    txt: list[str | bytes] | None,
    status: OutcomeStatus,
) -> None:
    server = await wan_fakes.dns_server()
    server.mode, server.txt = mode, txt  # type: ignore[assignment]
    outcome = await ask_source(fake_dns_source(server), Family.IPV4, session=wan_session, limit=0.6)
    assert outcome.status is status, outcome


async def test_garbage_never_gives_an_address(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    """c-ares drops or rejects unparseable replies (which one depends on its version)."""
    server = await wan_fakes.dns_server()
    server.mode = "garbage"
    outcome = await ask_source(fake_dns_source(server), Family.IPV4, session=wan_session, limit=0.6)
    assert outcome.status in (OutcomeStatus.TIMEOUT, OutcomeStatus.MALFORMED)
    assert outcome.address is None


async def test_a_query_for_the_other_family_has_no_address(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    server = await wan_fakes.dns_server("2a00:1450::1")
    source = fake_dns_source(server, query_type="A")
    outcome = await ask_source(source, Family.IPV4, session=wan_session, limit=1)
    assert outcome.status is OutcomeStatus.MALFORMED


async def test_source_for_the_other_family_is_not_asked(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    server = await wan_fakes.dns_server()
    outcome = await ask_source(
        fake_dns_source(server, query_type="A"), Family.IPV6, session=wan_session, limit=1
    )
    assert outcome.status is OutcomeStatus.ERROR
    assert server.requests == 0
