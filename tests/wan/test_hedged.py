"""Hedged detection: ask the best few, hedge when slow, widen on trouble, back off failing ones.

Every test drives real loopback sources; "slow" means a delay far beyond anything the round
waits for (30 s), so no assertion depends on timing.
"""

from __future__ import annotations

import asyncio
from ipaddress import ip_address
import json

import aiohttp
import pytest

from custom_components.esddns.wan import (
    Family,
    IPAddress,
    OutcomeStatus,
    Scoreboard,
    Source,
    SourceKind,
    SourceRefused,
    consensus,
    detect,
    entity_source,
    interface_source,
)
from custom_components.esddns.wan.consensus import FULL_ROUND_EVERY
from devtools.fakes.stun import FakeStunServer
from tests.fixtures_wan import WanFakes, fake_dns_source

from .conftest import DohFactory

PUBLIC = ip_address("81.2.69.142")
OTHER = ip_address("93.184.216.34")
SLOW = 30.0


def _seed(board: Scoreboard, sources: list[Source], latency_ms: float = 20.0) -> None:
    """A board that has seen every source answer ten times, quickly."""
    for source in sources:
        stats = board.board(Family.IPV4).stats(source.name)
        stats.asked = stats.answered = 10
        stats.latency_ms, stats.latency_dev_ms = latency_ms, latency_ms / 4
    board.board(Family.IPV4).round = 1  # the next round is not a periodic full one


def _asked(detection_outcomes: tuple[object, ...]) -> list[str]:
    return [o.source.name for o in detection_outcomes]  # type: ignore[attr-defined]


async def _stun(wan_fakes: WanFakes, count: int) -> tuple[list[FakeStunServer], list[Source]]:
    fakes = [await wan_fakes.stun_server() for _ in range(count)]
    return fakes, [f.source() for f in fakes]


async def test_without_a_scoreboard_everyone_is_asked(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    fakes, sources = await _stun(wan_fakes, 4)
    detection = await detect(sources, Family.IPV4, session=wan_session)
    assert detection.address == PUBLIC
    assert (detection.full, detection.widened) == (True, False)
    assert [f.requests for f in fakes] == [1, 1, 1, 1]
    assert len(detection.outcomes) == 4


async def test_first_round_is_full_then_only_the_quorum_is_asked(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    fakes, sources = await _stun(wan_fakes, 5)
    for fake in fakes[2:]:
        fake.delay = 0.2  # the quorum always beats these three
    board = Scoreboard()
    first = await detect(sources, Family.IPV4, session=wan_session, scoreboard=board)
    assert first.address == PUBLIC
    assert first.full
    assert [f.requests for f in fakes] == [1] * 5  # a board that knows nothing asks everyone
    assert [o.status for o in first.outcomes][2:] == [OutcomeStatus.CANCELLED] * 3
    rounds = 1
    for _ in range(5):
        detection = await detect(sources, Family.IPV4, session=wan_session, scoreboard=board)
        assert detection.address == PUBLIC
        assert not detection.full  # one full round told it enough, however fast each was
        rounds += 1
    # Quorum 2: two requests, and a hedge if one was slower than usual (the machine is shared).
    assert len(detection.outcomes) <= 3
    assert len({o.source.provider for o in detection.outcomes}) == len(detection.outcomes)
    assert sum(f.requests for f in fakes) < 5 * rounds


async def test_cheap_kinds_are_asked_first(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession, doh_server: DohFactory
) -> None:
    """Entity, interface, STUN over UDP, plain DNS, STUN over TCP, DoH, HTTPS: in this order."""
    stun = await wan_fakes.stun_server()
    dns = await wan_fakes.dns_server()
    http = await wan_fakes.http_source()
    doh = await doh_server()
    calls: list[str] = []

    async def answer(source: Source, family: Family) -> IPAddress:
        calls.append(source.name)
        return PUBLIC

    local = {SourceKind.ENTITY: answer, SourceKind.INTERFACE: answer}
    sources = [
        http.source(),
        doh.source(),
        stun.source(SourceKind.STUN_TCP, provider="stun-tcp"),
        fake_dns_source(dns),
        stun.source(provider="stun-udp"),
        interface_source(),
        entity_source("sensor.router_wan_ip"),
    ]
    board = Scoreboard()
    _seed(board, sources, latency_ms=5000)  # no hedge within the round: two requests each
    cheapest_first = [
        SourceKind.ENTITY,
        SourceKind.INTERFACE,
        SourceKind.STUN_UDP,
        SourceKind.DNS,
        SourceKind.STUN_TCP,
        SourceKind.DOH,
        SourceKind.HTTPS,
    ]
    for index, kind in enumerate(cheapest_first[:-1]):
        detection = await detect(
            sources, Family.IPV4, session=wan_session, scoreboard=board, local=local
        )
        assert detection.address == PUBLIC
        assert {o.source.kind for o in detection.outcomes} == set(cheapest_first[index : index + 2])
        sources = [s for s in sources if s.kind is not kind]  # the next kind gets its turn
    assert sorted(calls) == ["entity:sensor.router_wan_ip", "interface", "interface"]


async def test_a_slow_primary_is_hedged(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    fakes, sources = await _stun(wan_fakes, 4)
    board = Scoreboard()
    _seed(board, sources, latency_ms=1000)  # hedged after 2 s, widened after 4 s
    fakes[1].delay = SLOW  # a primary is much slower than usual
    detection = await detect(sources, Family.IPV4, session=wan_session, scoreboard=board)
    assert detection.address == PUBLIC
    assert (detection.full, detection.widened) == (False, False)
    assert [o.status for o in detection.outcomes] == [
        OutcomeStatus.ADDRESS,
        OutcomeStatus.CANCELLED,
        OutcomeStatus.ADDRESS,  # the hedge
    ]
    assert fakes[3].requests == 0  # the hedge sufficed: nobody else was asked


async def test_a_slow_hedge_widens_to_everyone(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    fakes, sources = await _stun(wan_fakes, 5)
    board = Scoreboard()
    _seed(board, sources)
    fakes[1].delay = fakes[2].delay = SLOW  # a primary and the hedge
    detection = await detect(sources, Family.IPV4, session=wan_session, scoreboard=board)
    assert detection.address == PUBLIC
    assert detection.widened
    assert [f.requests >= 1 for f in fakes] == [True] * 5
    statuses = [o.status for o in detection.outcomes]
    assert statuses[:3] == [OutcomeStatus.ADDRESS, OutcomeStatus.CANCELLED, OutcomeStatus.CANCELLED]


@pytest.mark.parametrize("trouble", ["failure", "disagreement"])
async def test_trouble_widens_at_once(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession, trouble: str
) -> None:
    """A primary that fails or names another address starts everyone else at once: the
    others are far slower than the hedge delay, so only widening can reach them in time."""
    fakes, sources = await _stun(wan_fakes, 5)
    board = Scoreboard()
    _seed(board, sources)
    if trouble == "failure":
        fakes[0].mode = "error"
    else:
        fakes[0].address = str(OTHER)
    for fake in fakes[2:]:
        fake.delay = 0.3
    detection = await detect(sources, Family.IPV4, session=wan_session, scoreboard=board)
    assert detection.address == PUBLIC
    assert detection.widened
    assert len(detection.outcomes) == 5
    stats = board.board(Family.IPV4).stats(sources[0].name)
    assert stats.failures_in_row == 1
    assert stats.last_failure is not None
    assert stats.last_failure.status == ("refused" if trouble == "failure" else "disagreed")
    # Next round the troublemaker is no longer a first choice.
    for fake in fakes:
        fake.delay = 0
    again = await detect(sources, Family.IPV4, session=wan_session, scoreboard=board)
    assert again.address == PUBLIC
    assert sources[0].name not in _asked(again.outcomes)


async def test_failing_sources_back_off_and_come_back(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    """Full rounds (here, every round: the board is kept ignorant) skip a source for 0, 1, 3,
    7 rounds after 1, 2, 3, 4 failures in a row; an answer ends its backoff."""
    fakes, sources = await _stun(wan_fakes, 3)
    fakes[2].mode = "error"
    board = Scoreboard()
    asked_in: list[int] = []
    for round_ in range(1, 17):
        for source in sources[:2]:  # too little known: every round is a full one
            board.board(Family.IPV4).sources.pop(source.name, None)
        detection = await detect(sources, Family.IPV4, session=wan_session, scoreboard=board)
        assert detection.full
        if sources[2].name in _asked(detection.outcomes):
            asked_in.append(round_)
    assert asked_in == [1, 2, 4, 8, 16]
    fakes[2].mode = "answer"
    board.board(Family.IPV4).stats(sources[2].name).skip_until = 0
    await detect(sources, Family.IPV4, session=wan_session, scoreboard=board)
    stats = board.board(Family.IPV4).stats(sources[2].name)
    assert (stats.failures_in_row, stats.skip_until) == (0, 0)


async def test_a_backed_off_source_is_the_last_resort(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    """When everyone else fails, the source in backoff is asked before giving up."""
    fakes, sources = await _stun(wan_fakes, 3)
    board = Scoreboard()
    _seed(board, sources)
    board.board(Family.IPV4).stats(sources[2].name).failures_in_row = 3
    board.board(Family.IPV4).stats(sources[2].name).skip_until = 50
    fakes[1].mode = "error"
    detection = await detect(sources, Family.IPV4, session=wan_session, scoreboard=board)
    assert detection.address == PUBLIC
    assert _asked(detection.outcomes) == [s.name for s in sources]
    # With all three in backoff, they are all asked: backoff never makes a quorum impossible.
    for source in sources:
        board.board(Family.IPV4).stats(source.name).skip_until = 50
    fakes[1].mode = "answer"
    detection = await detect(sources, Family.IPV4, session=wan_session, scoreboard=board)
    assert detection.address == PUBLIC


async def test_periodic_full_round(wan_fakes: WanFakes, wan_session: aiohttp.ClientSession) -> None:
    _fakes, sources = await _stun(wan_fakes, 4)
    board = Scoreboard()
    _seed(board, sources)
    fulls = []
    for _ in range(FULL_ROUND_EVERY + 1):
        detection = await detect(sources, Family.IPV4, session=wan_session, scoreboard=board)
        assert detection.address == PUBLIC
        fulls.append(detection.full)
    assert fulls == [False] * (FULL_ROUND_EVERY - 1) + [True, False]


async def test_sources_no_longer_configured_are_forgotten(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    _fakes, sources = await _stun(wan_fakes, 3)
    board = Scoreboard()
    await detect(sources, Family.IPV4, session=wan_session, scoreboard=board)
    assert set(board.board(Family.IPV4).sources) <= {s.name for s in sources}
    await detect(sources[1:], Family.IPV4, session=wan_session, scoreboard=board)
    assert sources[0].name not in board.board(Family.IPV4).sources


async def test_the_board_survives_a_restart(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    """Saved as JSON and read back, the board goes on asking only the quorum."""
    fakes, sources = await _stun(wan_fakes, 4)
    board = Scoreboard()
    _seed(board, sources)
    fakes[0].mode = "error"
    widened = await detect(sources, Family.IPV4, session=wan_session, scoreboard=board)
    assert widened.widened
    saved = json.loads(json.dumps(board.as_dict()))
    restored = Scoreboard.from_dict(saved)
    assert restored.as_dict() == saved
    before = [f.requests for f in fakes]
    detection = await detect(sources, Family.IPV4, session=wan_session, scoreboard=restored)
    assert detection.address == PUBLIC
    assert not detection.full
    asked = [f.requests - b for f, b in zip(fakes, before, strict=True)]
    assert asked[0] == 0  # it failed before the restart: still not a first choice
    assert sum(asked) <= 3  # the quorum, maybe a hedge
    stats = restored.board(Family.IPV4).stats(sources[0].name)
    assert stats.last_failure is not None
    assert stats.last_failure.status == "refused"


async def test_sources_of_another_family_are_not_asked(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    fakes, sources = await _stun(wan_fakes, 3)
    v6_only = fakes[0].source(provider="v6", families=frozenset({Family.IPV6}))
    board = Scoreboard()
    detection = await detect(
        [v6_only, *sources], Family.IPV4, session=wan_session, scoreboard=board
    )
    assert detection.address == PUBLIC
    assert v6_only not in [o.source for o in detection.outcomes]


async def test_local_sources(wan_fakes: WanFakes, wan_session: aiohttp.ClientSession) -> None:
    """Local handlers answer entity and interface sources: their failures are outcomes, the
    public-only policy applies, and a kind nobody handles is an error."""
    stun = await wan_fakes.stun_server()
    router, host = entity_source("sensor.router_wan_ip"), interface_source()

    async def private(source: Source, family: Family) -> IPAddress:
        return ip_address("192.168.1.1")

    async def refused(source: Source, family: Family) -> IPAddress:
        raise SourceRefused("entity unavailable")

    async def hangs(source: Source, family: Family) -> IPAddress:
        await asyncio.sleep(SLOW)
        raise AssertionError("not reached")

    async def public(source: Source, family: Family) -> IPAddress:
        return PUBLIC

    sources = [router, host, stun.source()]
    cases = [
        ({SourceKind.ENTITY: private}, OutcomeStatus.NOT_PUBLIC, OutcomeStatus.ERROR),
        ({SourceKind.ENTITY: refused}, OutcomeStatus.REFUSED, OutcomeStatus.ERROR),
        ({SourceKind.INTERFACE: hangs}, OutcomeStatus.ERROR, OutcomeStatus.TIMEOUT),
    ]
    for local, entity_status, interface_status in cases:
        detection = await detect(
            sources, Family.IPV4, session=wan_session, local=local, timeout=0.5, quorum=3
        )
        assert detection.address is None
        assert [o.status for o in detection.outcomes[:2]] == [entity_status, interface_status]
    assert "nothing answers entity sources" in detection.outcomes[0].detail
    detection = await detect(
        sources,
        Family.IPV4,
        session=wan_session,
        local={SourceKind.ENTITY: public, SourceKind.INTERFACE: public},
        quorum=3,
    )
    assert detection.address == PUBLIC
    assert set(detection.answers[PUBLIC]) == {
        "sensor.router_wan_ip",
        "interface",
        stun.source().provider,
    }
    # A local handler gets the source's own time, like any client.
    impatient = interface_source(timeout=0.05)
    detection = await detect(
        [impatient], Family.IPV4, session=wan_session, local={SourceKind.INTERFACE: hangs}
    )
    assert (detection.outcomes[0].status, detection.outcomes[0].detail) == (
        OutcomeStatus.TIMEOUT,
        "no answer",
    )


async def test_reliable_sources_are_ranked_by_latency(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Among sources of one kind: reliable ones (>= 90 % answered) by latency, then the ones
    never heard from, then the unreliable ones, however fast. (The ranking alone: no extra
    first choices, which a newcomer or an unreliable first choice would otherwise bring.)"""
    monkeypatch.setattr(consensus, "CONFIDENCE", 0.0)
    fakes, sources = await _stun(wan_fakes, 5)
    board = Scoreboard()
    family = board.board(Family.IPV4)
    family.round = 1
    # Seconds, not milliseconds: the hedge would come after the round's end, so none is sent.
    records = [(100, 100, 3000.0), (10, 9, 1000.0), (10, 5, 500.0), (0, 0, None), (5, 5, 2000.0)]
    for source, (asked, answered, latency) in zip(sources, records, strict=True):
        stats = family.stats(source.name)
        stats.asked, stats.answered, stats.latency_ms = asked, answered, latency
        stats.latency_dev_ms = 500.0
    detection = await detect(sources, Family.IPV4, session=wan_session, scoreboard=board)
    assert detection.address == PUBLIC
    assert [f.requests for f in fakes] == [0, 1, 0, 0, 1]  # the two fastest reliable ones
    # A newcomer goes before unreliable sources, however fast they are.
    sources = sources[:4]
    board = Scoreboard()
    family = board.board(Family.IPV4)
    family.round = 1
    for source, (asked, answered, latency) in zip(
        sources, [(10, 10, 3000.0), (10, 5, 500.0), (10, 5, 500.0), (0, 0, None)], strict=True
    ):
        stats = family.stats(source.name)
        stats.asked, stats.answered, stats.latency_ms = asked, answered, latency
        stats.latency_dev_ms = 500.0
    detection = await detect(sources, Family.IPV4, session=wan_session, scoreboard=board)
    assert detection.address == PUBLIC
    assert _asked(detection.outcomes) == [sources[0].name, sources[3].name]


async def test_a_family_without_sources_is_no_consensus_round_after_round(
    wan_session: aiohttp.ClientSession,
) -> None:
    """AAAA records added after options that name only IPv4 servers: no source serves IPv6.
    Every round (not only the first, full one) says so quietly instead of raising."""
    board = Scoreboard()
    for _ in range(3):
        detection = await detect(
            (), Family.IPV6, session=wan_session, quorum=2, timeout=0.5, scoreboard=board
        )
        assert (detection.address, detection.outcomes) == (None, ())
