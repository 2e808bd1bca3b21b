"""The periodic full round asks, with the first choices, the sources the board is in doubt about
(never heard from, failing, sitting out, not asked for a long time), not those it has a recent
clean record of; and first choices that would make the quorum in time less than 19 rounds in 20
get one more source at the start.

Every test drives real loopback sources. As in test_tail, the board is seeded so that no backup
falls due within the round (due times of seconds, rounds of 1.5 s): what is asserted is who was
asked, never when.
"""

from __future__ import annotations

from ipaddress import ip_address

import aiohttp
import pytest

from custom_components.esddns.wan import Family, OutcomeStatus, Scoreboard, Source, detect
from custom_components.esddns.wan.consensus import FULL_ROUND_EVERY, STALE_ROUNDS
from devtools.fakes.stun import FakeStunServer
from tests.fixtures_wan import WanFakes

PUBLIC = ip_address("81.2.69.142")
SLOW = 30.0
ROUND = 1.5  # seconds: shorter than any seeded due time
FULL = 5 * FULL_ROUND_EVERY + 1  # a periodic full round, long after the first one


async def _stun(wan_fakes: WanFakes, count: int) -> tuple[list[FakeStunServer], list[Source]]:
    fakes = [await wan_fakes.stun_server() for _ in range(count)]
    return fakes, [f.source() for f in fakes]


def _board(sources: list[Source], latencies: list[float | None], seen: int) -> Scoreboard:
    """A board whose next round is `seen` + 1 and that has seen each source with a latency
    answer ten times, steadily (a deviation of 0), in the last round; None: never heard from."""
    board = Scoreboard()
    family = board.board(Family.IPV4)
    family.round = seen
    for source, latency in zip(sources, latencies, strict=True):
        if latency is not None:
            stats = family.stats(source.name)
            stats.asked = stats.answered = 10
            stats.latency_ms, stats.latency_dev_ms, stats.seen = latency, 0.0, seen
    return board


async def test_a_full_round_asks_the_sources_in_doubt_and_no_others(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    """Sources 0 and 1 are the first choices. Of the spares, the full round asks the one never
    heard from (2), the one that failed last time (3), the one sitting out (4) and the one not
    asked for STALE_ROUNDS (5); not the ones asked lately with a clean record (6, and 7, asked
    one round less than STALE_ROUNDS ago)."""
    fakes, sources = await _stun(wan_fakes, 8)
    latencies: list[float | None] = [2000.0, 2100.0, None, 2200.0, 2300.0, 2400.0, 2500.0, 2600.0]
    board = _board(sources, latencies, FULL - 1)
    family = board.board(Family.IPV4)
    family.stats(sources[3].name).failures_in_row = 1
    sitting_out = family.stats(sources[4].name)
    sitting_out.failures_in_row, sitting_out.skip_until = 3, FULL + 3
    family.stats(sources[5].name).seen = FULL - STALE_ROUNDS
    family.stats(sources[7].name).seen = FULL - STALE_ROUNDS + 1
    detection = await detect(
        sources, Family.IPV4, session=wan_session, scoreboard=board, timeout=ROUND
    )
    assert detection.address == PUBLIC
    assert (detection.full, detection.widened) == (True, False)
    assert [f.requests for f in fakes] == [1, 1, 1, 1, 1, 1, 0, 0]
    asked = {o.source.name for o in detection.outcomes}
    assert {s.name for s in sources if family.stats(s.name).seen == FULL} == asked
    # The rounds after it ask two first choices only.
    for _ in range(2):
        before = sum(f.requests for f in fakes)
        again = await detect(
            sources, Family.IPV4, session=wan_session, scoreboard=board, timeout=ROUND
        )
        assert again.address == PUBLIC
        assert not again.full
        assert len(again.outcomes) == sum(f.requests for f in fakes) - before == 2


async def test_a_source_that_recovered_is_seen_again_in_a_full_round(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    """A source sitting out for its failures answers again: a full round asks it with the first
    choices (here it makes the quorum, the second first choice hanging), and its backoff ends."""
    fakes, sources = await _stun(wan_fakes, 4)
    board = _board(sources, [2000.0, 2100.0, 2200.0, 2300.0], FULL - 1)
    stats = board.board(Family.IPV4).stats(sources[2].name)
    stats.failures_in_row, stats.skip_until = 4, FULL + 7
    fakes[1].delay = SLOW
    detection = await detect(
        sources, Family.IPV4, session=wan_session, scoreboard=board, timeout=ROUND
    )
    assert detection.address == PUBLIC
    assert (detection.full, detection.widened) == (True, False)
    assert [f.requests for f in fakes] == [1, 1, 1, 0]
    assert [o.status for o in detection.outcomes] == [
        OutcomeStatus.ADDRESS,
        OutcomeStatus.CANCELLED,
        OutcomeStatus.ADDRESS,
    ]
    assert (stats.failures_in_row, stats.skip_until, stats.seen) == (0, 0, FULL)


async def test_a_full_round_with_nothing_in_doubt_is_a_hedged_round(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    """Every source answered lately and none is failing: the full round asks the first choices
    only, like any other round; it is still reported as a full round."""
    fakes, sources = await _stun(wan_fakes, 4)
    board = _board(sources, [2000.0, 2100.0, 2200.0, 2300.0], FULL - 1)
    detection = await detect(
        sources, Family.IPV4, session=wan_session, scoreboard=board, timeout=ROUND
    )
    assert detection.address == PUBLIC
    assert (detection.full, detection.widened) == (True, False)
    assert [f.requests for f in fakes] == [1, 1, 0, 0]


@pytest.mark.parametrize(
    ("misses", "asked"),
    [
        ((0.04, 0.0), [1, 1, 0, 0]),  # 96 % in time: two are enough
        ((0.03, 0.03), [1, 1, 1, 0]),  # 0.97 * 0.97 = 94 %: one more at the start
    ],
)
async def test_first_choices_that_miss_one_round_in_twenty_get_a_third_at_once(
    wan_fakes: WanFakes,
    wan_session: aiohttp.ClientSession,
    misses: tuple[float, float],
    asked: list[int],
) -> None:
    """The tail a round answers for is its 95th percentile: first choices whose records give
    them less than a 95 % chance of making the quorum in time get a third source at the start
    (then the first one hangs, and the third makes the quorum); no backup falls due within the
    round, so none would be asked otherwise."""
    fakes, sources = await _stun(wan_fakes, 4)
    board = _board(sources, [2000.0, 2100.0, 2200.0, 2300.0], 1)
    for source, miss in zip(sources, misses, strict=False):
        board.board(Family.IPV4).stats(source.name).miss_rate = miss
    extra = asked[2] == 1
    if extra:
        fakes[0].delay = SLOW
    detection = await detect(
        sources, Family.IPV4, session=wan_session, scoreboard=board, timeout=ROUND
    )
    assert detection.address == PUBLIC
    assert (detection.full, detection.widened) == (False, False)
    assert [f.requests for f in fakes] == asked
    if extra:
        assert [o.status for o in detection.outcomes] == [
            OutcomeStatus.CANCELLED,
            OutcomeStatus.ADDRESS,
            OutcomeStatus.ADDRESS,
        ]
