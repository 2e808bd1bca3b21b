"""What each source did in past rounds, so a round can ask the few that will answer.

Per family and per source (by name): times asked, answered, failures in a row, a latency
estimate (smoothed mean and deviation, as TCP keeps for its retransmission timer), a miss rate
(the smoothed share of its rounds in which it failed or had not answered by the time it usually
does), the last failure, the round until which a failing source is left out, and the round it
was last asked in. `as_dict()` is JSON-safe; `from_dict()` takes back whatever a store gives,
dropping what it cannot read.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
import math
import time
from typing import Any

from .models import Family, OutcomeStatus, SourceOutcome

VERSION = 1
_ALPHA, _BETA = 0.125, 0.25  # RFC 6298's gains
_MISS_GAIN = 0.125  # the miss rate remembers about the last eight rounds a source was seen in
_BACKOFF_CAP = 31  # rounds: ~2.5 h at one round per 5 minutes
_DETAIL_MAX = 120
_NAME_MAX = 512
_SOURCES_MAX = 256  # per family: more is junk, not a configuration


@dataclass(frozen=True, slots=True)
class Failure:
    """The last failure of a source."""

    at: float  # seconds since the epoch
    status: str  # an OutcomeStatus value, or "disagreed"
    detail: str


@dataclass(slots=True)
class SourceStats:
    """One source's record."""

    asked: int = 0  # rounds it answered or failed in (cancelled ones are not counted)
    answered: int = 0
    cancelled: int = 0  # rounds the quorum was reached before it answered
    failures_in_row: int = 0
    latency_ms: float | None = None  # smoothed
    latency_dev_ms: float = 0.0
    miss_rate: float = 0.0  # smoothed: 1 for a round it failed or was late in, 0 for in time
    last_failure: Failure | None = None
    skip_until: int = 0  # not asked before this round (backoff), unless nothing else is left
    seen: int = 0  # the last round it was asked in (answered, failed or cancelled); 0: never

    @property
    def known(self) -> bool:
        """Whether it has been asked and did not fail lately. A source the quorum always beats
        (cancelled, never answered) counts: else a slow third provider would keep every round
        a full one."""
        return (self.answered > 0 or self.cancelled > 0) and self.failures_in_row == 0

    def expected_ms(self) -> float | None:
        """How long an answer takes at most, usually (SRTT + 4 RTTVAR, as for TCP)."""
        if self.latency_ms is None:
            return None
        return self.latency_ms + 4 * self.latency_dev_ms

    def confidence(self) -> float:
        """The chance that it answers by its expected time, as far as its record tells (its
        recent misses, and its answers over all): one that never answered is a coin toss, and
        each failure in a row divides it again (one that failed last round is no safe bet)."""
        if self.answered == 0:
            base = 0.5
        else:
            base = min(1.0 - self.miss_rate, self.answered / max(self.asked, 1))
        return base / (1 + self.failures_in_row)

    def _miss(self, missed: bool) -> None:
        self.miss_rate += _MISS_GAIN * (float(missed) - self.miss_rate)

    def _sample(self, latency: float) -> None:
        if self.latency_ms is None:
            self.latency_ms, self.latency_dev_ms = latency, latency / 2
            return
        self.latency_dev_ms += _BETA * (abs(self.latency_ms - latency) - self.latency_dev_ms)
        self.latency_ms += _ALPHA * (latency - self.latency_ms)


@dataclass(slots=True)
class FamilyBoard:
    """The records of one family's sources, and that family's round counter."""

    round: int = 0
    sources: dict[str, SourceStats] = field(default_factory=dict)

    def stats(self, name: str) -> SourceStats:
        """The record of `name`, created empty when new."""
        found = self.sources.get(name)
        if found is None:
            found = self.sources[name] = SourceStats()
        return found

    def retain(self, names: Iterable[str]) -> None:
        """Forget the sources that are not in `names` (no longer configured)."""
        keep = set(names)
        for name in [n for n in self.sources if n not in keep]:
            del self.sources[name]


class Scoreboard:
    """Per-family boards; `record()` takes a round's outcomes."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.families: dict[Family, FamilyBoard] = {}

    def board(self, family: Family) -> FamilyBoard:
        """The board of `family`, created empty when new."""
        found = self.families.get(family)
        if found is None:
            found = self.families[family] = FamilyBoard()
        return found

    def retain(self, family: Family, names: Iterable[str]) -> None:
        """Forget the sources of `family` that are not in `names`."""
        self.board(family).retain(names)

    def record(
        self,
        family: Family,
        outcomes: Iterable[SourceOutcome],
        *,
        winner: object = None,
        elapsed_ms: float = 0.0,
        late: Collection[str] = (),
    ) -> None:
        """Count one round's outcomes. An answer that differs from the winner counts as a
        failure ("disagreed"): a liar is asked less often, like a dead source.

        `late` names the sources that had not answered by the time they usually do: a miss,
        whether they answered later or were cancelled (then it is the only thing counted: a
        source cancelled in time is neither a miss nor a failure). A failure is a miss too."""
        board = self.board(family)
        for outcome in outcomes:
            stats = board.stats(outcome.source.name)
            stats.seen = board.round
            missed = outcome.source.name in late
            if outcome.status is OutcomeStatus.CANCELLED:
                stats.cancelled += 1
                if stats.latency_ms is None:  # it took at least this long
                    stats._sample(elapsed_ms)
                if missed:
                    stats._miss(True)
                continue
            stats.asked += 1
            if outcome.latency_ms is not None:
                stats._sample(outcome.latency_ms)
            ok = outcome.status is OutcomeStatus.ADDRESS
            if ok and (winner is None or outcome.address == winner):
                stats._miss(missed)
                stats.answered += 1
                stats.failures_in_row = 0
                stats.skip_until = 0
                continue
            status = outcome.status.value if not ok else "disagreed"
            detail = outcome.detail if not ok else f"answered {outcome.address}"
            stats._miss(True)
            stats.failures_in_row += 1
            stats.last_failure = Failure(self._clock(), status, detail[:_DETAIL_MAX])
            # 1 failure: asked again next round (a blip); then 1, 3, 7, 15, 31 rounds left out.
            skip = min(2 ** (stats.failures_in_row - 1) - 1, _BACKOFF_CAP)
            stats.skip_until = board.round + 1 + skip

    # --- persistence ----------------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """A JSON-safe copy."""
        return {
            "version": VERSION,
            "families": {
                family.value: {
                    "round": board.round,
                    "sources": {name: _stats_dict(s) for name, s in board.sources.items()},
                }
                for family, board in self.families.items()
            },
        }

    @classmethod
    def from_dict(cls, data: object, clock: Callable[[], float] = time.time) -> Scoreboard:
        """A scoreboard from `as_dict()`'s output; junk, unknown versions and unknown families
        give an empty board (or leave out what cannot be read), never an exception."""
        board = cls(clock)
        if not isinstance(data, Mapping) or data.get("version") != VERSION:
            return board
        families = data.get("families")
        if not isinstance(families, Mapping):
            return board
        for key, raw in families.items():
            if key not in Family._value2member_map_ or not isinstance(raw, Mapping):
                continue
            family_board = board.board(Family(key))
            family_board.round = _int(raw.get("round"))
            sources = raw.get("sources")
            if not isinstance(sources, Mapping):
                continue
            for name, stats in list(sources.items())[:_SOURCES_MAX]:
                if isinstance(name, str) and len(name) <= _NAME_MAX:
                    parsed = _stats_from(stats)
                    if parsed is not None:
                        family_board.sources[name] = parsed
        return board


def _stats_dict(stats: SourceStats) -> dict[str, Any]:
    failure = stats.last_failure
    return {
        "asked": stats.asked,
        "answered": stats.answered,
        "cancelled": stats.cancelled,
        "failures_in_row": stats.failures_in_row,
        "latency_ms": None if stats.latency_ms is None else round(stats.latency_ms, 3),
        "latency_dev_ms": round(stats.latency_dev_ms, 3),
        "miss_rate": round(stats.miss_rate, 4),
        "last_failure": None
        if failure is None
        else {"at": failure.at, "status": failure.status, "detail": failure.detail},
        "skip_until": stats.skip_until,
        "seen": stats.seen,
    }


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return max(0, min(value, 2**53))


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) and value >= 0 else None


def _stats_from(raw: object) -> SourceStats | None:
    if not isinstance(raw, Mapping):
        return None
    stats = SourceStats(
        asked=_int(raw.get("asked")),
        answered=_int(raw.get("answered")),
        cancelled=_int(raw.get("cancelled")),
        failures_in_row=_int(raw.get("failures_in_row")),
        latency_ms=_float(raw.get("latency_ms")),
        latency_dev_ms=_float(raw.get("latency_dev_ms")) or 0.0,
        miss_rate=min(_float(raw.get("miss_rate")) or 0.0, 1.0),  # absent from older boards
        skip_until=_int(raw.get("skip_until")),
        seen=_int(raw.get("seen")),  # absent from older boards: 0, as if never asked
    )
    stats.answered = min(stats.answered, stats.asked)
    failure = raw.get("last_failure")
    if isinstance(failure, Mapping):
        at = _float(failure.get("at"))
        status, detail = failure.get("status"), failure.get("detail")
        if at is not None and isinstance(status, str) and isinstance(detail, str):
            stats.last_failure = Failure(at, status[:32], detail[:_DETAIL_MAX])
    return stats
