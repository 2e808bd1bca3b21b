"""Consensus: quorum of distinct providers, early exit with cancellation, every outcome."""

from __future__ import annotations

import asyncio
from ipaddress import ip_address
from typing import cast

import aiohttp
import pytest

from custom_components.esddns.wan import (
    AddressPolicy,
    Family,
    OutcomeStatus,
    SourceKind,
    detect,
    https_source,
    parse_prefix,
    stun_source,
)
from tests.fixtures_wan import WanFakes, fake_dns_source

from .helpers import sockets_connected_to

PUBLIC = ip_address("81.2.69.142")
OTHER = ip_address("93.184.216.34")


async def test_first_quorum_wins_and_the_rest_are_cancelled(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    fast = await wan_fakes.start(stun=2)
    slow = await wan_fakes.start(stun=2, http=1, dns=1)
    for fake in (*slow.stun, *slow.http, *slow.dns):
        fake.delay = 30
    sources = fast.sources + slow.sources + slow.tcp_sources
    detection = await detect(sources, Family.IPV4, session=wan_session, timeout=10)

    assert detection.address == PUBLIC
    assert detection.consensus
    assert detection.elapsed_ms < 10_000  # did not wait for the slow ones
    statuses = [o.status for o in detection.outcomes]
    assert statuses[:2] == [OutcomeStatus.ADDRESS] * 2
    assert statuses[2:] == [OutcomeStatus.CANCELLED] * (len(sources) - 2)
    assert all(o.latency_ms is None for o in detection.outcomes[2:])
    assert len(detection.agreeing) == 2
    # The slow sources were asked, and nothing of theirs is left open or running.
    assert all(f.requests >= 1 for f in (*slow.stun, *slow.http, *slow.dns))
    ports = [f.port for f in (*slow.stun, *slow.http, *slow.dns)]
    await asyncio.sleep(0)
    assert sockets_connected_to(ports) == 0
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("esddns source")]


async def test_no_consensus_lists_every_answer(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    fakes = await wan_fakes.start(stun=2, http=1)
    fakes.stun[1].address = str(OTHER)
    fakes.http[0].address = "192.168.1.2"
    dead = await wan_fakes.stun_server()
    dead.mode = "silent"
    sources = (*fakes.sources, dead.source())
    detection = await detect(sources, Family.IPV4, session=wan_session, timeout=0.7)

    assert detection.address is None
    assert not detection.consensus
    assert detection.answers == {
        PUBLIC: (sources[0].provider,),
        OTHER: (sources[1].provider,),
    }
    assert [o.status for o in detection.outcomes] == [
        OutcomeStatus.ADDRESS,
        OutcomeStatus.ADDRESS,
        OutcomeStatus.NOT_PUBLIC,
        OutcomeStatus.TIMEOUT,
    ]
    assert len(detection.disagreeing) == 2
    assert detection.agreeing == ()


async def test_same_provider_agreement_does_not_count(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    fakes = await wan_fakes.start(stun=3)
    sources = [s.source(provider="one-operator") for s in fakes.stun]
    sources.append(fakes.stun[0].source(SourceKind.STUN_TCP, provider="one-operator"))
    detection = await detect(sources, Family.IPV4, session=wan_session, timeout=1)
    assert detection.address is None
    assert detection.answers == {PUBLIC: ("one-operator",)}
    assert all(o.status is OutcomeStatus.ADDRESS for o in detection.outcomes)


async def test_split_vote_gives_no_consensus(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    fakes = await wan_fakes.start(stun=4)
    fakes.stun[2].address = fakes.stun[3].address = str(OTHER)
    detection = await detect(fakes.sources, Family.IPV4, session=wan_session, quorum=3, timeout=1)
    assert detection.address is None
    assert {a: len(p) for a, p in detection.answers.items()} == {PUBLIC: 2, OTHER: 2}


async def test_one_liar_is_outvoted(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    fakes = await wan_fakes.start(stun=2, http=2)
    fakes.stun[0].address = str(OTHER)  # the liar answers first
    for fake in fakes.http:
        fake.delay = 0.05
    detection = await detect(fakes.sources, Family.IPV4, session=wan_session, quorum=3, timeout=2)
    assert detection.address == PUBLIC
    assert [o.source.provider for o in detection.disagreeing] == [fakes.sources[0].provider]
    assert len(detection.agreeing) == 3


async def test_address_changes_are_seen_next_round(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    fakes = await wan_fakes.start(stun=1, http=1, dns=1)
    first = await detect(fakes.sources, Family.IPV4, session=wan_session, quorum=3)
    fakes.set_address("81.2.69.143")
    second = await detect(fakes.sources, Family.IPV4, session=wan_session, quorum=3)
    assert (first.address, second.address) == (PUBLIC, ip_address("81.2.69.143"))


async def test_failures_never_raise(
    wan_session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    """Broken and unusable sources become outcomes; detect itself returns normally."""
    sources = [
        stun_source("no-such-host.invalid", 3478, provider="a"),
        https_source("https://[2001:db8::1]/", provider="b"),  # cannot serve IPv4
    ]
    detection = await detect(sources, Family.IPV4, session=wan_session, timeout=1)
    assert [o.status for o in detection.outcomes] == [OutcomeStatus.ERROR, OutcomeStatus.ERROR]
    assert "IPv4" in detection.outcomes[1].detail


async def test_unexpected_exception_is_an_error_outcome(wan_fakes: WanFakes) -> None:
    fakes = await wan_fakes.start(stun=2)

    class Broken:
        def request(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("boom")

    session = cast(aiohttp.ClientSession, Broken())
    http = https_source("http://127.0.0.1:1/", provider="c")
    detection = await detect((*fakes.sources, http), Family.IPV4, session=session, quorum=3)
    assert detection.outcomes[2].status is OutcomeStatus.ERROR
    assert "boom" in detection.outcomes[2].detail


async def test_cancelling_detect_cancels_every_source(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    fakes = await wan_fakes.start(stun=2, dns=1)
    for fake in (*fakes.stun, *fakes.dns):
        fake.delay = 30
    task = asyncio.get_running_loop().create_task(
        detect(fakes.sources + fakes.tcp_sources, Family.IPV4, session=wan_session, timeout=30)
    )
    while fakes.requests < 5:  # noqa: ASYNC110 - the fakes count requests, they signal nothing
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("esddns source")]
    assert sockets_connected_to([f.port for f in fakes.stun]) == 0


async def test_quorum_of_one_and_bad_quorum(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    fakes = await wan_fakes.start(stun=1, dns=1)
    detection = await detect(fakes.sources, Family.IPV4, session=wan_session, quorum=1)
    assert detection.address == PUBLIC
    assert detection.quorum == 1
    with pytest.raises(ValueError, match="quorum"):
        await detect(fakes.sources, Family.IPV4, session=wan_session, quorum=0)
    assert fake_dns_source(fakes.dns[0]).kind is SourceKind.DNS


async def test_per_source_timeout(wan_fakes: WanFakes, wan_session: aiohttp.ClientSession) -> None:
    fakes = await wan_fakes.start(stun=3)
    fakes.stun[2].delay = 0.5
    impatient = stun_source("127.0.0.1", fakes.stun[2].port, provider="slow", timeout=0.2)
    detection = await detect(
        (*fakes.sources[:1], impatient), Family.IPV4, session=wan_session, quorum=2, timeout=2
    )
    assert detection.address is None
    assert detection.outcomes[1].status is OutcomeStatus.TIMEOUT


async def test_a_filtered_address_never_wins_even_when_every_source_names_it(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    """The user's filters count a source naming a filtered address as failed, before the
    quorum is counted: no consensus, and the answers say which were filtered."""
    fakes = await wan_fakes.start(stun=3, http=1)
    never = AddressPolicy(never=(parse_prefix("81.2.69.0/24", 4),))
    detection = await detect(
        fakes.sources, Family.IPV4, session=wan_session, timeout=1, policy=never
    )
    assert detection.address is None
    assert {o.status for o in detection.outcomes} == {OutcomeStatus.FILTERED}
    assert {o.detail for o in detection.outcomes} == {"in 81.2.69.0/24"}
    assert detection.answers == {}
    providers = sorted({s.provider for s in fakes.sources})
    assert detection.answers_text == f"{PUBLIC} (filtered): {', '.join(providers)}"


async def test_the_address_inside_the_only_prefix_wins_over_a_faster_filtered_one(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    """A VPN's address named first and by a quorum still loses to the ISP's."""
    fakes = await wan_fakes.start(stun=2, http=2)
    for fake in fakes.stun:
        fake.address = str(OTHER)  # the VPN's exit, answered first
    for fake in fakes.http:
        fake.delay = 0.05
    only = AddressPolicy(only=(parse_prefix("81.2.64.0/18", 4),))
    detection = await detect(
        fakes.sources, Family.IPV4, session=wan_session, quorum=2, timeout=2, policy=only
    )
    assert detection.address == PUBLIC
    statuses = {o.source.provider: o.status for o in detection.outcomes}
    assert sorted(statuses.values()) == sorted(
        [OutcomeStatus.FILTERED] * 2 + [OutcomeStatus.ADDRESS] * 2
    )
    filtered = [o for o in detection.outcomes if o.status is OutcomeStatus.FILTERED]
    assert {o.detail for o in filtered} == {"outside 81.2.64.0/18"}
    assert f"{OTHER} (filtered)" in detection.answers_text
