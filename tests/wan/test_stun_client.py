"""The STUN client against loopback fakes and the real coturn, over UDP and TCP."""

from __future__ import annotations

import asyncio
from ipaddress import ip_address

import aiohttp
import pytest

from custom_components.esddns.wan import (
    ANY_ADDRESS,
    Family,
    OutcomeStatus,
    SourceKind,
    ask_source,
    detect,
    stun_source,
)
from custom_components.esddns.wan.stun import StunBindingError, _UdpBinding, binding_success
from tests.fakes.fixtures_wan import WanFakes
from tests.fakes.stun import LIE

PUBLIC = ip_address("81.2.69.142")
KINDS = [SourceKind.STUN_UDP, SourceKind.STUN_TCP]


@pytest.mark.parametrize("kind", KINDS)
async def test_answer(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession, kind: SourceKind
) -> None:
    server = await wan_fakes.stun_server()
    outcome = await ask_source(server.source(kind), Family.IPV4, session=wan_session, limit=2)
    assert outcome.status is OutcomeStatus.ADDRESS
    assert outcome.address == PUBLIC
    assert outcome.latency_ms is not None


@pytest.mark.parametrize("kind", KINDS)
async def test_ipv6_answer(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession, kind: SourceKind
) -> None:
    server = await wan_fakes.stun_server("2a00:1450:4007:80e::200e")
    outcome = await ask_source(server.source(kind), Family.IPV6, session=wan_session, limit=2)
    assert (outcome.status, str(outcome.address)) == (
        OutcomeStatus.ADDRESS,
        "2a00:1450:4007:80e::200e",
    )


@pytest.mark.parametrize(
    ("mode", "address", "status"),
    [
        ("silent", "81.2.69.142", OutcomeStatus.TIMEOUT),
        ("garbage", "81.2.69.142", OutcomeStatus.MALFORMED),
        ("error", "81.2.69.142", OutcomeStatus.REFUSED),
        ("wrong_txid", "81.2.69.142", OutcomeStatus.TIMEOUT),
        ("answer", "2a00:1450:4007:80e::200e", OutcomeStatus.MALFORMED),  # wrong family
        ("answer", "192.168.1.10", OutcomeStatus.NOT_PUBLIC),
        ("answer", "100.64.3.4", OutcomeStatus.NOT_PUBLIC),
    ],
)
@pytest.mark.parametrize("kind", KINDS)
async def test_failures(
    wan_fakes: WanFakes,
    wan_session: aiohttp.ClientSession,
    kind: SourceKind,
    mode: str,
    address: str,
    status: OutcomeStatus,
) -> None:
    server = await wan_fakes.stun_server(address)
    server.mode = mode  # type: ignore[assignment]
    outcome = await ask_source(server.source(kind), Family.IPV4, session=wan_session, limit=0.6)
    assert outcome.status is status, outcome
    if status is OutcomeStatus.NOT_PUBLIC:
        assert outcome.address == ip_address(address)
        assert outcome.detail in ("private", "shared")
    else:
        assert outcome.address is None
    if mode == "error":
        assert "420" in outcome.detail


async def test_binding_error_is_typed(wan_fakes: WanFakes) -> None:
    from custom_components.esddns.wan.stun import query_stun

    server = await wan_fakes.stun_server()
    server.mode, server.error_code = "error", 500
    with pytest.raises(StunBindingError) as caught:
        await query_stun(server.source(), Family.IPV4, 1.0)
    assert caught.value.code == 500


async def test_other_port_answer_is_ignored(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    server = await wan_fakes.stun_server()
    server.mode = "other_port"
    outcome = await ask_source(server.source(), Family.IPV4, session=wan_session, limit=0.6)
    assert outcome.status is OutcomeStatus.TIMEOUT


@pytest.mark.parametrize("kind", KINDS)
async def test_spoofed_answers_are_never_accepted(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession, kind: SourceKind
) -> None:
    """An off-path sender fires lies first (right id from another port, wrong id from the
    server's port), and a late duplicate follows the real answer: only the real one counts."""
    servers = [await wan_fakes.stun_server() for _ in range(3)]
    for server in servers:
        server.spoof = server.late_duplicate = True
        server.delay = 0.05
    sources = [s.source(kind) for s in servers]
    for _ in range(3):
        detection = await detect(sources, Family.IPV4, session=wan_session, quorum=3)
        assert detection.address == PUBLIC
        assert ip_address(LIE) not in detection.answers
        assert all(o.address == PUBLIC for o in detection.outcomes)


def test_udp_filter_checks_address_and_port() -> None:
    """Even if a datagram got past the kernel's filter, the wrong sender is ignored."""

    async def run() -> None:
        txid = bytes(range(12))
        proto = _UdpBinding(b"", txid, ("127.0.0.1", 3478))
        answer = binding_success(txid, PUBLIC, 1)
        proto.datagram_received(answer, ("127.0.0.2", 3478))
        proto.datagram_received(answer, ("127.0.0.1", 3479))
        assert not proto.answer.done()
        proto.datagram_received(binding_success(bytes(12), PUBLIC, 1), ("127.0.0.1", 3478))
        assert not proto.answer.done()
        proto.datagram_received(answer, ("127.0.0.1", 3478))
        assert proto.answer.result().address == PUBLIC
        proto.datagram_received(binding_success(txid, ip_address(LIE), 1), ("127.0.0.1", 3478))
        assert proto.answer.result().address == PUBLIC  # a late duplicate changes nothing

    asyncio.run(run())


async def test_udp_retransmits_on_the_rfc_schedule(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    """The first two requests are lost; the third (sent at 1.5 s: 0, +0.5, +1.0) is answered."""
    server = await wan_fakes.stun_server()
    server.drop_first = 2
    outcome = await ask_source(server.source(), Family.IPV4, session=wan_session, limit=5)
    assert outcome.status is OutcomeStatus.ADDRESS
    assert server.udp_requests == 3


async def test_udp_retransmissions_stop_at_the_timeout(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    """A silent server within 2 s gets the requests of 0, 0.5 and 1.5 s: three, not more."""
    server = await wan_fakes.stun_server()
    server.mode = "silent"
    outcome = await ask_source(server.source(), Family.IPV4, session=wan_session, limit=2.0)
    assert outcome.status is OutcomeStatus.TIMEOUT
    assert "3 requests" in outcome.detail
    assert server.udp_requests == 3


@pytest.mark.parametrize("kind", KINDS)
async def test_refused(
    wan_session: aiohttp.ClientSession, socket_enabled: None, kind: SourceKind
) -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()  # nothing listens on this port now
    outcome = await ask_source(
        stun_source("127.0.0.1", port, provider="p", kind=kind),
        Family.IPV4,
        session=wan_session,
        limit=1,
    )
    assert outcome.status is OutcomeStatus.REFUSED


async def test_host_names_are_resolved(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    server = await wan_fakes.stun_server()
    named = stun_source("localhost", server.port, provider="p")
    outcome = await ask_source(named, Family.IPV4, session=wan_session, limit=2)
    assert (outcome.status, outcome.address) == (OutcomeStatus.ADDRESS, PUBLIC)


async def test_unresolvable_host_is_an_error(wan_session: aiohttp.ClientSession) -> None:
    source = stun_source("no-such-host.invalid", 3478, provider="p")
    outcome = await ask_source(source, Family.IPV4, session=wan_session, limit=2)
    assert outcome.status is OutcomeStatus.ERROR  # the detail depends on the resolver
    assert outcome.address is None


@pytest.mark.parametrize("kind", KINDS)
async def test_coturn(
    coturn: tuple[str, int], wan_session: aiohttp.ClientSession, kind: SourceKind
) -> None:
    """The real, third-party coturn over UDP and TCP (it reports 127.0.0.1: policy relaxed)."""
    host, port = coturn
    sources = [
        stun_source(host, port, provider="coturn-a", kind=kind),
        stun_source(host, port, provider="coturn-b", kind=kind),
    ]
    detection = await detect(
        sources, Family.IPV4, session=wan_session, quorum=2, timeout=5, policy=ANY_ADDRESS
    )
    assert detection.address == ip_address("127.0.0.1")
    assert [o.status for o in detection.outcomes] == [OutcomeStatus.ADDRESS] * 2
    strict = await detect(sources, Family.IPV4, session=wan_session, quorum=2, timeout=5)
    assert strict.address is None
    assert {o.status for o in strict.outcomes} == {OutcomeStatus.NOT_PUBLIC}
