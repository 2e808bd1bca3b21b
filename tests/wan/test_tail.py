"""The tail of a hedged round: a first choice with misses behind it gets a backup at once, a late
one gets its backup at its own due time, a definite failure widens at once, and a local source
the quorum counted on is replaced at once when it fails.

Every test drives real loopback sources. The board is seeded so that no backup falls due within
the round unless the behaviour under test brings it (due times of seconds, rounds of 1.5 s), or
so that it falls due at once (a deviation of 0): what is asserted is who was asked, never when.
"""

from __future__ import annotations

from ipaddress import ip_address
import socket

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
    detect,
    entity_source,
    stun_source,
)
from devtools.fakes.stun import FakeStunServer
from tests.fixtures_wan import WanFakes

PUBLIC = ip_address("81.2.69.142")
OTHER = ip_address("93.184.216.34")
SLOW = 30.0
ROUND = 1.5  # seconds: shorter than any seeded due time


def _board(sources: list[Source], latencies: list[float], miss: float = 0.0) -> Scoreboard:
    """A board that has seen every source answer ten times, in the given time and steadily (a
    deviation of 0, so a source is due at exactly its latency); the first one has `miss`."""
    board = Scoreboard()
    family = board.board(Family.IPV4)
    family.round = 1  # the next round is not a periodic full one
    for source, latency in zip(sources, latencies, strict=True):
        stats = family.stats(source.name)
        stats.asked = stats.answered = 10
        stats.latency_ms, stats.latency_dev_ms = latency, 0.0
    family.stats(sources[0].name).miss_rate = miss
    return board


async def _stun(wan_fakes: WanFakes, count: int) -> tuple[list[FakeStunServer], list[Source]]:
    fakes = [await wan_fakes.stun_server() for _ in range(count)]
    return fakes, [f.source() for f in fakes]


@pytest.mark.parametrize(("miss", "asked"), [(0.0, [1, 1, 0, 0, 0]), (0.3, [1, 1, 0, 1, 0])])
async def test_a_first_choice_with_misses_gets_a_backup_at_once(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession, miss: float, asked: list[int]
) -> None:
    """The fastest source missed three rounds in ten lately (it failed, or was late): the two
    first choices make the quorum in time only 70 % of the time, so a third source, from a new
    provider, is asked with them. None would be asked within this round otherwise: the usual
    backup falls due after the round's end."""
    fakes, sources = await _stun(wan_fakes, 5)
    sources[2] = fakes[2].source(provider=sources[1].provider)  # no vote that 1 cannot give
    board = _board(sources, [2000.0, 2500.0, 2600.0, 3000.0, 3000.0], miss)
    if miss:
        fakes[0].delay = SLOW  # and it misses again
    detection = await detect(
        sources, Family.IPV4, session=wan_session, scoreboard=board, timeout=ROUND
    )
    assert detection.address == PUBLIC
    assert (detection.full, detection.widened) == (False, False)
    assert [f.requests for f in fakes] == asked
    if miss:
        assert [o.status for o in detection.outcomes] == [
            OutcomeStatus.CANCELLED,
            OutcomeStatus.ADDRESS,
            OutcomeStatus.ADDRESS,
        ]


async def test_a_late_first_choice_is_backed_up_at_its_own_due_time(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    """A first choice due after 20 ms that has not answered gets a backup then, not when the
    slower first choice (due after 3 s, beyond the round) would be due. Late, it is marked as
    having missed (no failure), and a source that answers, barely slower, goes before it."""
    fakes, sources = await _stun(wan_fakes, 4)
    board = _board(sources, [20.0, 3000.0, 3300.0, 3300.0])
    fakes[0].delay = SLOW
    detection = await detect(
        sources, Family.IPV4, session=wan_session, scoreboard=board, timeout=ROUND
    )
    assert detection.address == PUBLIC
    assert (detection.full, detection.widened) == (False, False)
    assert [f.requests for f in fakes] == [1, 1, 1, 0]  # the backup: the best spare
    assert [o.status for o in detection.outcomes] == [
        OutcomeStatus.CANCELLED,
        OutcomeStatus.ADDRESS,
        OutcomeStatus.ADDRESS,
    ]
    late = board.board(Family.IPV4).stats(sources[0].name)
    assert late.miss_rate > 0
    assert (late.asked, late.failures_in_row, late.cancelled) == (10, 0, 1)
    # Next round: source 0 is still the fastest on the board, but sources that answer in time
    # and are barely slower are worth more than one that just missed.
    for source in sources[2:]:
        board.board(Family.IPV4).stats(source.name).latency_ms = 21.0
    again = await detect(sources, Family.IPV4, session=wan_session, scoreboard=board, timeout=ROUND)
    assert again.address == PUBLIC
    assert fakes[0].requests == 1
    assert sources[0].name not in [o.source.name for o in again.outcomes]


def _closed_udp_port() -> int:
    with socket.socket(type=socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("trouble", "status"),
    [
        ("refused", OutcomeStatus.REFUSED),  # a STUN Binding error
        ("unreachable", OutcomeStatus.REFUSED),  # ICMP port unreachable
        ("not_public", OutcomeStatus.NOT_PUBLIC),
        ("disagreement", OutcomeStatus.ADDRESS),
    ],
)
async def test_a_definite_failure_widens_at_once(
    wan_fakes: WanFakes,
    wan_session: aiohttp.ClientSession,
    trouble: str,
    status: OutcomeStatus,
) -> None:
    """No backup falls due within the round: only widening at once on the first choice's
    definite failure (or different answer) reaches the others in time."""
    fakes, sources = await _stun(wan_fakes, 4)
    if trouble == "refused":
        fakes[0].mode = "error"
    elif trouble == "unreachable":
        sources[0] = stun_source("127.0.0.1", _closed_udp_port(), provider="closed")
    elif trouble == "not_public":
        fakes[0].address = "192.168.1.1"
    else:
        fakes[0].address = str(OTHER)
    board = _board(sources, [2000.0, 2500.0, 3000.0, 3000.0])
    detection = await detect(
        sources, Family.IPV4, session=wan_session, scoreboard=board, timeout=ROUND
    )
    assert detection.address == PUBLIC
    assert detection.widened
    assert detection.outcomes[0].status is status
    assert [f.requests for f in fakes[1:]] == [1, 1, 1]
    stats = board.board(Family.IPV4).stats(sources[0].name)
    assert stats.failures_in_row == 1
    assert stats.miss_rate > 0


async def test_a_counted_local_source_that_fails_is_replaced_at_once(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    """The router's entity answered lately, so the quorum counts on it and only one network
    source is asked with it. When it fails, one backup is asked at once: not everyone (a local
    failure costs nothing to ride out), and not only after the usual delay."""
    fakes, stun = await _stun(wan_fakes, 3)
    router = entity_source("sensor.router_wan_ip")
    sources = [router, *stun]
    board = _board(sources, [1.0, 2000.0, 2500.0, 3000.0])

    async def unavailable(source: Source, family: Family) -> IPAddress:
        raise SourceRefused("entity unavailable")

    detection = await detect(
        sources,
        Family.IPV4,
        session=wan_session,
        scoreboard=board,
        timeout=ROUND,
        local={SourceKind.ENTITY: unavailable},
    )
    assert detection.address == PUBLIC
    assert (detection.full, detection.widened) == (False, False)
    assert [f.requests for f in fakes] == [1, 1, 0]
    assert [o.status for o in detection.outcomes] == [
        OutcomeStatus.REFUSED,
        OutcomeStatus.ADDRESS,
        OutcomeStatus.ADDRESS,
    ]
