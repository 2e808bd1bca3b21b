"""The scoreboard: counting, backoff, latency estimate, and a store round trip that survives
anything a store may hand back."""

from __future__ import annotations

from ipaddress import ip_address
import json
from typing import Any

import pytest

from custom_components.esddns.wan import (
    Family,
    OutcomeStatus,
    Scoreboard,
    SourceOutcome,
    stun_source,
)

SOURCE = stun_source("127.0.0.1", 3478, provider="p")
PUBLIC = ip_address("81.2.69.142")


def _outcome(
    status: OutcomeStatus, latency: float | None = 10.0, address: str = ""
) -> SourceOutcome:
    return SourceOutcome(SOURCE, status, ip_address(address) if address else None, latency, "why")


def test_counts_latency_and_failures() -> None:
    board = Scoreboard(clock=lambda: 1234.5)
    board.record(Family.IPV4, [_outcome(OutcomeStatus.ADDRESS, 20.0, "81.2.69.142")], winner=PUBLIC)
    board.record(Family.IPV4, [_outcome(OutcomeStatus.ADDRESS, 40.0, "81.2.69.142")])
    stats = board.board(Family.IPV4).stats(SOURCE.name)
    assert (stats.asked, stats.answered, stats.failures_in_row) == (2, 2, 0)
    assert stats.latency_ms == pytest.approx(22.5)  # smoothed, not the last sample
    board.record(Family.IPV4, [_outcome(OutcomeStatus.TIMEOUT, 5000.0)])
    assert stats.failures_in_row == 1
    assert stats.last_failure is not None
    assert (stats.last_failure.at, stats.last_failure.status) == (1234.5, "timeout")
    # Cancelled: neither asked nor failed; a first latency is at least the round's length.
    board.record(Family.IPV6, [_outcome(OutcomeStatus.CANCELLED, None)], elapsed_ms=80.0)
    v6 = board.board(Family.IPV6).stats(SOURCE.name)
    assert (v6.asked, v6.cancelled, v6.latency_ms) == (0, 1, 80.0)
    assert v6.known  # never counted as asked, yet no longer unheard of
    assert not board.board(Family.IPV6).stats("never asked").known


def test_a_different_answer_than_the_winner_is_a_failure() -> None:
    board = Scoreboard()
    board.record(
        Family.IPV4, [_outcome(OutcomeStatus.ADDRESS, 5.0, "93.184.216.34")], winner=PUBLIC
    )
    stats = board.board(Family.IPV4).stats(SOURCE.name)
    assert stats.failures_in_row == 1
    assert stats.last_failure is not None
    assert stats.last_failure.status == "disagreed"
    assert "93.184.216.34" in stats.last_failure.detail


def test_backoff_grows_and_is_capped() -> None:
    board = Scoreboard()
    family = board.board(Family.IPV4)
    skips = []
    for _ in range(9):
        family.round += 1
        board.record(Family.IPV4, [_outcome(OutcomeStatus.REFUSED)])
        skips.append(family.stats(SOURCE.name).skip_until - family.round - 1)
    assert skips == [0, 1, 3, 7, 15, 31, 31, 31, 31]


def test_misses_and_confidence() -> None:
    """A failure or a late answer is a miss; an answer in time is none; a cancelled source is
    one only when it was late. Confidence falls with misses and failures in a row."""
    board = Scoreboard()
    stats = board.board(Family.IPV4).stats(SOURCE.name)
    assert stats.confidence() == 0.5  # never answered: a coin toss
    board.record(Family.IPV4, [_outcome(OutcomeStatus.ADDRESS, 10.0, "81.2.69.142")])
    assert (stats.miss_rate, stats.confidence()) == (0.0, 1.0)
    board.record(Family.IPV4, [_outcome(OutcomeStatus.CANCELLED, None)])
    assert stats.miss_rate == 0.0  # cancelled in time: the quorum was quicker, nothing more
    board.record(Family.IPV4, [_outcome(OutcomeStatus.CANCELLED, None)], late={SOURCE.name})
    assert stats.miss_rate == pytest.approx(0.125)
    assert (stats.asked, stats.cancelled, stats.failures_in_row) == (1, 2, 0)  # no failure
    board.record(
        Family.IPV4, [_outcome(OutcomeStatus.ADDRESS, 90.0, "81.2.69.142")], late={SOURCE.name}
    )
    assert stats.miss_rate == pytest.approx(0.125 + 0.875 * 0.125)  # answered, but late
    assert stats.failures_in_row == 0
    missed = stats.miss_rate
    board.record(Family.IPV4, [_outcome(OutcomeStatus.ADDRESS, 10.0, "81.2.69.142")])
    assert stats.miss_rate == pytest.approx(0.875 * missed)
    confident = stats.confidence()
    board.record(Family.IPV4, [_outcome(OutcomeStatus.REFUSED)])
    assert stats.failures_in_row == 1
    assert stats.confidence() < confident / 2  # a miss, and a failure in a row: halved
    assert 0.0 < stats.confidence() < 0.5


def test_round_trip_is_json_safe() -> None:
    board = Scoreboard(clock=lambda: 99.0)
    board.board(Family.IPV4).round = 7
    board.record(Family.IPV4, [_outcome(OutcomeStatus.ADDRESS, 12.0, "81.2.69.142")])
    board.record(Family.IPV6, [_outcome(OutcomeStatus.MALFORMED, 3.0)])
    data = json.loads(json.dumps(board.as_dict()))
    assert data["version"] == 1
    assert Scoreboard.from_dict(data).as_dict() == data
    board.retain(Family.IPV4, [])
    assert board.board(Family.IPV4).sources == {}


GOOD = {"asked": 3, "answered": 2, "latency_ms": 10.0}


@pytest.mark.parametrize(
    ("data", "kept"),
    [
        (None, {}),
        ([], {}),
        ("junk", {}),
        ({"version": 2, "families": {"ipv4": {"sources": {"a": GOOD}}}}, {}),
        ({"version": 1}, {}),
        ({"version": 1, "families": []}, {}),
        ({"version": 1, "families": {"ipv9": {"sources": {"a": GOOD}}, "ipv4": 3}}, {}),
        ({"version": 1, "families": {"ipv4": {"round": "x", "sources": []}}}, {"ipv4": []}),
        ({"version": 1, "families": {"ipv4": {"sources": {"a": GOOD, "b": 7}}}}, {"ipv4": ["a"]}),
    ],
)
def test_from_dict_tolerates_junk(data: Any, kept: dict[str, list[str]]) -> None:
    board = Scoreboard.from_dict(data)
    assert {f.value: sorted(b.sources) for f, b in board.families.items()} == kept


def test_from_dict_cleans_values() -> None:
    raw = {
        "asked": -5,
        "answered": 10**30,
        "cancelled": True,
        "failures_in_row": 2.5,
        "latency_ms": float("nan"),
        "latency_dev_ms": -1,
        "miss_rate": 7,
        "skip_until": 4,
        "last_failure": {"at": "yesterday", "status": "timeout", "detail": "x"},
    }
    board = Scoreboard.from_dict(
        {"version": 1, "families": {"ipv6": {"round": 3, "sources": {"a": raw, 5: GOOD}}}}
    )
    family = board.board(Family.IPV6)
    assert family.round == 3
    assert list(family.sources) == ["a"]
    stats = family.sources["a"]
    assert (stats.asked, stats.answered, stats.cancelled, stats.failures_in_row) == (0, 0, 0, 0)
    assert (stats.latency_ms, stats.latency_dev_ms, stats.skip_until) == (None, 0.0, 4)
    assert stats.miss_rate == 1.0  # a share, whatever the store says
    assert stats.last_failure is None
    ok = Scoreboard.from_dict(
        {
            "version": 1,
            "families": {
                "ipv4": {
                    "sources": {
                        "a": {"last_failure": {"at": 5, "status": "s" * 99, "detail": "d" * 999}}
                    }
                }
            },
        }
    )
    failure = ok.board(Family.IPV4).sources["a"].last_failure
    assert failure is not None
    assert (failure.at, len(failure.status), len(failure.detail)) == (5.0, 32, 120)


def test_the_round_each_source_was_last_asked_in() -> None:
    """Answered, failed or cancelled: each is the round it was last asked in, kept in the store;
    a board stored before this was kept says 0, as if it was never asked."""
    board = Scoreboard()
    family = board.board(Family.IPV4)
    family.round = 5
    board.record(Family.IPV4, [_outcome(OutcomeStatus.ADDRESS, 10.0, "81.2.69.142")])
    assert family.stats(SOURCE.name).seen == 5
    family.round = 9
    board.record(Family.IPV4, [_outcome(OutcomeStatus.CANCELLED, None)], elapsed_ms=20.0)
    assert family.stats(SOURCE.name).seen == 9
    family.round = 12
    board.record(Family.IPV4, [_outcome(OutcomeStatus.TIMEOUT, 5000.0)])
    assert family.stats(SOURCE.name).seen == 12
    data = json.loads(json.dumps(board.as_dict()))
    assert data["families"]["ipv4"]["sources"][SOURCE.name]["seen"] == 12
    assert Scoreboard.from_dict(data).board(Family.IPV4).stats(SOURCE.name).seen == 12
    del data["families"]["ipv4"]["sources"][SOURCE.name]["seen"]
    assert Scoreboard.from_dict(data).board(Family.IPV4).stats(SOURCE.name).seen == 0
    data["families"]["ipv4"]["sources"][SOURCE.name]["seen"] = -4
    assert Scoreboard.from_dict(data).board(Family.IPV4).stats(SOURCE.name).seen == 0
