"""Ask sources; the first address backed by a quorum of distinct providers wins.

Without a scoreboard every source is asked at once. With one, a round is hedged: it asks the
`quorum` best sources of distinct providers first (more at once when their records make a quorum
in time unlikely), a backup for each one that has not answered by the time it usually does ("The
Tail at Scale"; sooner for a source with misses or failures behind it), and everyone else at
once on any failure or disagreement, or when a backup is late too; a failing source sits out a
growing number of rounds, and a periodic full round also asks every source the board is in doubt
about (never heard from, failing, sitting out, or not asked for long). Either way the rest
are cancelled as soon as there is a winner (their sockets close before `detect` returns), and
every asked source's outcome is reported, whatever happened to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
import logging
import math

import aiohttp

from .address import PUBLIC_ONLY, AddressPolicy, IPAddress
from .dns import query_dns
from .doh import query_doh
from .errors import SourceFailure
from .http import query_https
from .models import (
    LOCAL_KINDS,
    Detection,
    Family,
    OutcomeStatus,
    Source,
    SourceKind,
    SourceOutcome,
)
from .scoreboard import FamilyBoard, Scoreboard
from .stun import query_stun

type LocalHandler = Callable[[Source, Family], Awaitable[IPAddress]]
"""Answers a local source (ENTITY, INTERFACE); raises SourceFailure subclasses."""

# Every 16th round (the first one too) is a full round: it also asks, from the start, every
# source the board is in doubt about (never heard from, failing, sitting out, or not asked for
# STALE_ROUNDS), so that a source that recovered, or one that got faster, is seen again.
FULL_ROUND_EVERY = 16
STALE_ROUNDS = 4 * FULL_ROUND_EVERY  # ~21 h at the default 20-minute interval
# More first choices are asked at once while the chance that they make the quorum by the time
# they usually answer (from each one's confidence) is below this, up to `quorum` more. The tail
# a round answers for is its 95th percentile: a quorum that misses its time more than one round
# in 20, as far as the first choices' records tell, gets one more source at the start, since a
# backup can only start once a first choice is visibly late.
CONFIDENCE = 0.95
# A counted source gets a backup when it has not answered within its smoothed latency plus this
# many mean deviations (scaled down by the confidence in it): earlier than TCP's four, which are
# for retransmitting. With benchmarks.detect, two took a few ms more off the tail for ~0.1 more
# requests per round, which put the steady state at the edge of ~3.
HEDGE_DEVIATIONS = 3.0
MIN_DUE = 0.010  # seconds: the loop's own delays are no source's lateness (a local one: ~0 ms)
# Cheap first: no request at all, one datagram, a TCP connection, then TLS handshakes.
KIND_COST = {
    SourceKind.ENTITY: 0,
    SourceKind.INTERFACE: 1,
    SourceKind.STUN_UDP: 2,
    SourceKind.DNS: 3,
    SourceKind.STUN_TCP: 4,
    SourceKind.DOH: 5,
    SourceKind.HTTPS: 6,
}

_LOGGER = logging.getLogger(__name__)
_DETAIL_MAX = 120


async def _query(
    source: Source,
    family: Family,
    session: aiohttp.ClientSession,
    limit: float,
    local: Mapping[SourceKind, LocalHandler] | None,
) -> IPAddress:
    if not source.serves(family):
        raise SourceFailure(f"source does not serve {family.label}")
    if source.kind is SourceKind.HTTPS:
        return await query_https(source, session, limit)
    if source.kind is SourceKind.DNS:
        return await query_dns(source, limit)
    if source.kind is SourceKind.DOH:
        return await query_doh(source, session, limit)
    if source.kind in (SourceKind.STUN_UDP, SourceKind.STUN_TCP):
        return await query_stun(source, family, limit)
    handler = (local or {}).get(source.kind)
    if handler is None:
        raise SourceFailure(f"nothing answers {source.kind} sources here")
    async with asyncio.timeout(limit):
        return await handler(source, family)


async def ask_source(
    source: Source,
    family: Family,
    *,
    session: aiohttp.ClientSession,
    limit: float,
    policy: AddressPolicy = PUBLIC_ONLY,
    local: Mapping[SourceKind, LocalHandler] | None = None,
) -> SourceOutcome:
    """Ask one source and turn whatever happens into an outcome (never raises but cancel)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    status, address, detail = OutcomeStatus.ERROR, None, ""
    try:
        # Each client keeps its own time (so it can say *why* it gave up); detect's deadline
        # is the backstop.
        address = await _query(source, family, session, limit, local)
    except TimeoutError:  # a local handler that did not answer in time
        status, detail = OutcomeStatus.TIMEOUT, "no answer"
    except SourceFailure as err:
        status, detail = err.status, str(err)
    except Exception as err:  # one broken source must not break the round
        _LOGGER.debug("Source %s failed", source.name, exc_info=True)
        detail = f"{type(err).__name__}: {err}"
    else:
        wrong_family = (address.version == 4) != (family is Family.IPV4)
        if wrong_family:
            status, detail, address = OutcomeStatus.MALFORMED, f"answered {address}", None
        elif (rejected := policy.rejects(address)) is not None:
            status, detail = OutcomeStatus.NOT_PUBLIC, rejected.value
        elif (why := policy.filtered(address)) is not None:
            status, detail = OutcomeStatus.FILTERED, why
        else:
            status = OutcomeStatus.ADDRESS
    latency = (loop.time() - started) * 1000
    return SourceOutcome(source, status, address, latency, detail[:_DETAIL_MAX])


@dataclass(slots=True)
class _Plan:
    """Which sources a round starts when (indices into the caller's sequence)."""

    first: list[int]  # started at once
    # Best first: a backup for each counted source that fails or is late, from a provider that
    # can still bring a vote; all of them on a failure, a disagreement, or a late backup.
    spare: list[int]
    last: list[int]  # left out for failing (backoff): started only if nothing else is left
    full: bool
    counted: set[int] = field(default_factory=set)  # the first choices the quorum counts on


def _rank(board: FamilyBoard, source: Source, index: int) -> tuple[bool, int, int, float, int]:
    """Failing sources last, then cheap kinds, then answer rate (in classes, so that latency
    still decides between reliable sources), then latency weighed by the confidence in it: a
    source that often misses is worth less than one a little slower that never does."""
    stats = board.stats(source.name)
    reliable = stats.answered >= 0.9 * stats.asked
    reliability = 1 if stats.asked == 0 else 0 if reliable else 2  # 1: never heard from
    latency = math.inf if stats.latency_ms is None else stats.latency_ms
    return (
        stats.failures_in_row > 0,
        KIND_COST.get(source.kind, len(KIND_COST)),
        reliability,
        latency / max(stats.confidence(), 0.01) if stats.answered else latency,
        index,
    )


def _plan(
    sources: Sequence[Source], family: Family, board: FamilyBoard, quorum: int, timeout: float
) -> _Plan:
    board.retain(s.name for s in sources)
    board.round += 1
    # Entities and interfaces cost no traffic: they are asked in every round, never held back,
    # and what they answer (a router behind CGNAT, say) is worth seeing every time.
    local = [i for i, s in enumerate(sources) if s.serves(family) and s.kind in LOCAL_KINDS]
    usable = [i for i, s in enumerate(sources) if s.serves(family) and s.kind not in LOCAL_KINDS]
    eligible = [i for i in usable if board.stats(sources[i].name).skip_until <= board.round]
    held = [i for i in usable if i not in eligible]
    local_providers = {sources[i].provider for i in local}
    if len({sources[i].provider for i in eligible} | local_providers) < quorum:
        eligible, held = usable, []  # backoff must never make a quorum impossible
    eligible.sort(key=lambda i: _rank(board, sources[i], i))
    providers = {sources[i].provider for i in eligible}
    known = {sources[i].provider for i in eligible if board.stats(sources[i].name).known}
    full = (board.round - 1) % FULL_ROUND_EVERY == 0
    if not eligible or len(known) < min(quorum + 1, len(providers)):
        # Too little known to pick a few (or no network source to pick from at all). A full
        # round asks the sources sitting out too.
        if full:
            return _Plan(first=local + eligible + held, spare=[], last=[], full=True)
        return _Plan(first=local + eligible, spare=[], last=held, full=True)
    # A local source that answers lately counts toward the quorum: one network request fewer.
    counted = [i for i in local if board.stats(sources[i].name).known]
    chosen = {sources[i].provider for i in counted}
    for i in eligible:
        if len(chosen) >= quorum:
            break
        if sources[i].provider not in chosen:
            counted.append(i)
            chosen.add(sources[i].provider)
    spare = [i for i in eligible if i not in counted]
    # Sources that missed or failed lately may well not answer in time: ask more of them at
    # once (from new providers) rather than wait to find out.
    odds = [board.stats(sources[i].name).confidence() for i in counted]
    for _ in range(quorum):
        if _chance(odds, quorum) >= CONFIDENCE:
            break
        extra = next((i for i in spare if sources[i].provider not in chosen), None)
        if extra is None:
            break
        spare.remove(extra)
        counted.append(extra)
        chosen.add(sources[extra].provider)
        odds.append(board.stats(sources[extra].name).confidence())
    first = local + [i for i in counted if i not in local]
    if full:
        # The sources the board is in doubt about are asked with the first choices: that is
        # how a source that recovered, or one that keeps disagreeing (a disagreement counts as
        # a failure), is seen again. The others' records are recent enough to go by.
        doubt = [i for i in spare + held if _in_doubt(board, sources[i])]
        first += doubt
        spare = [i for i in spare if i not in doubt]
        held = [i for i in held if i not in doubt]
    return _Plan(first, spare, held, full, set(counted))


def _in_doubt(board: FamilyBoard, source: Source) -> bool:
    """Whether a full round should ask `source` whatever the others do: never heard from,
    failing (sitting out or not), or not asked for STALE_ROUNDS."""
    stats = board.stats(source.name)
    return not stats.known or board.round - stats.seen >= STALE_ROUNDS


def _chance(odds: Sequence[float], quorum: int) -> float:
    """The chance that at least `quorum` of independent sources answer, given each one's odds."""
    at = [1.0] + [0.0] * quorum  # at[k]: exactly k answered so far (at[quorum]: at least)
    for p in odds:
        at = [
            at[0] * (1 - p),
            *(at[k] * (1 - p) + at[k - 1] * p for k in range(1, quorum)),
            at[quorum] + at[quorum - 1] * p,
        ]
    return at[quorum]


def _due(board: FamilyBoard, source: Source, default: float) -> float:
    """Seconds after its start by which `source` should have answered before it gets a backup:
    its smoothed latency plus HEDGE_DEVIATIONS mean deviations, an allowance that shrinks with
    the confidence in it, so a source with misses or failures behind it is backed up sooner."""
    stats = board.stats(source.name)
    if stats.latency_ms is None:
        return default
    allowance = HEDGE_DEVIATIONS * stats.latency_dev_ms * stats.confidence()
    return max((stats.latency_ms + allowance) / 1000, MIN_DUE)


def _expected(board: FamilyBoard, source: Source, default: float) -> float:
    """Seconds after its start by which `source` usually answers: later is a miss. Not scaled
    by the confidence, or misses would make more misses."""
    expected = board.stats(source.name).expected_ms()
    return default if expected is None else max(expected / 1000, MIN_DUE)


async def detect(
    sources: Sequence[Source],
    family: Family,
    *,
    session: aiohttp.ClientSession,
    quorum: int = 2,
    timeout: float = 5.0,  # noqa: ASYNC109 - the deadline is shared out among the sources
    policy: AddressPolicy = PUBLIC_ONLY,
    scoreboard: Scoreboard | None = None,
    local: Mapping[SourceKind, LocalHandler] | None = None,
) -> Detection:
    """Find the public address of `family`: the first one `quorum` distinct providers agree on.

    Without `scoreboard`, every source is asked at once; with one, the round is hedged (see the
    module docstring) and its outcomes are recorded there. `local` answers the ENTITY and
    INTERFACE sources; without a handler such a source is an ERROR outcome.
    Never raises for a source's failure. For dual-stack HTTPS hosts, pass a session pinned to
    the family (Home Assistant: async_get_clientsession(hass, family=AF_INET or AF_INET6)).
    """
    if quorum < 1:
        raise ValueError("quorum must be at least 1")
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + timeout
    board = None if scoreboard is None else scoreboard.board(family)
    if board is None:
        plan = _Plan(first=list(range(len(sources))), spare=[], last=[], full=True)
    else:
        plan = _plan(sources, family, board, quorum, timeout)
    tasks: dict[asyncio.Task[SourceOutcome], int] = {}
    running: dict[int, float] = {}  # index: when it was started
    due: dict[int, float] = {}  # index: when it gets a backup if counted (with a scoreboard)
    expect: dict[int, float] = {}  # index: when it usually has answered (later: a miss)
    counted = plan.counted  # the started sources whose answers the quorum counts on
    backups: set[int] = set()
    behind: set[int] = set()  # counted sources seen unanswered after their due time
    outcomes: dict[int, SourceOutcome] = {}
    votes: dict[IPAddress, set[str]] = {}
    winner: IPAddress | None = None
    pending: set[asyncio.Task[SourceOutcome]] = set()
    finished: list[asyncio.Task[SourceOutcome]] = []  # in the order they finished
    wake: asyncio.Future[None] = loop.create_future()
    widened = False
    timer: asyncio.TimerHandle | None = None
    armed = math.inf  # the due time the timer is set for
    rang = False  # the timer has fired

    def on_done(task: asyncio.Task[SourceOutcome]) -> None:
        finished.append(task)
        if not wake.done():
            wake.set_result(None)

    def alarm() -> None:
        # A flag, not a clock reading: the loop may run a timer up to its clock resolution early.
        nonlocal rang
        rang = True
        if not wake.done():
            wake.set_result(None)

    def start(indices: list[int]) -> None:
        now = loop.time()
        for index in indices:
            source = sources[index]
            limit = min(source.timeout or timeout, timeout, max(deadline - now, 0.001))
            task = loop.create_task(
                ask_source(
                    source, family, session=session, limit=limit, policy=policy, local=local
                ),
                name=f"esddns source {source.name}",
            )
            task.add_done_callback(on_done)
            tasks[task] = index
            pending.add(task)
            running[index] = now
            if board is not None:
                due[index] = now + _due(board, source, timeout / 4)
                expect[index] = now + _expected(board, source, timeout / 4)
        indices.clear()

    def widen() -> None:
        nonlocal widened
        widened = True
        start(plan.spare)

    def back_up() -> None:
        """Start a backup for each counted source that failed or is behind, as far as the
        quorum still needs one and a provider that could bring a vote is left."""
        asked = {tasks[task] for task in pending}
        voted = set().union(*votes.values())
        on_time = {sources[i].provider for i in asked & counted if i not in behind} - voted
        missing = quorum - max(map(len, votes.values()), default=0) - len(on_time)
        while missing > 0:
            busy = voted | on_time
            backup = next((i for i in plan.spare if sources[i].provider not in busy), None)
            if backup is None:
                return
            plan.spare.remove(backup)
            start([backup])
            counted.add(backup)
            backups.add(backup)
            on_time.add(sources[backup].provider)
            missing -= 1

    def rearm() -> None:
        """Set the timer for the next counted source to come due, if anything is left to ask."""
        nonlocal timer, armed
        asked = {tasks[task] for task in pending}
        watched = (due[i] for i in asked & counted if i not in behind)
        upcoming = min(watched, default=math.inf) if plan.spare else math.inf
        if upcoming != armed:
            if timer is not None:
                timer.cancel()
            armed, timer = upcoming, None
            if upcoming < math.inf:
                timer = loop.call_at(upcoming, alarm)

    start(plan.first)
    rearm()
    try:
        # One timer for the whole round, one callback per source: cheap however many answer.
        async with asyncio.timeout_at(deadline):
            while winner is None:
                if not pending:  # everyone asked has finished without a quorum: last resort
                    remaining = plan.spare + plan.last
                    if not remaining:
                        break
                    plan.spare, plan.last = [], []
                    start(remaining)
                    continue
                await wake
                wake = loop.create_future()
                batch, finished[:] = finished[:], []
                trouble = False
                for task in batch:
                    pending.discard(task)
                    outcome = outcomes[tasks[task]] = task.result()
                    if outcome.status is OutcomeStatus.ADDRESS and outcome.address is not None:
                        voters = votes.setdefault(outcome.address, set())
                        voters.add(outcome.source.provider)
                        if winner is None and len(voters) >= quorum:
                            winner = outcome.address
                        trouble |= len(votes) > 1
                    elif outcome.source.kind not in LOCAL_KINDS:
                        # A definite failure (refused, malformed, not public...): everyone now.
                        # A local source's failure costs nothing to ride out: a backup, if the
                        # quorum counted on it.
                        trouble = True
                if winner is not None:
                    break
                if rang:
                    rang = False
                    waiting = {tasks[task] for task in pending} & counted
                    overdue = {i for i in waiting if i not in behind and due[i] <= armed}
                    behind |= overdue
                    armed = math.inf
                    trouble |= bool(overdue & backups)  # the backup is slow too: everyone
                if trouble and plan.spare:
                    widen()
                elif plan.spare:
                    back_up()
                rearm()
    except TimeoutError:
        pass  # the deadline: whoever has not answered is reported as timed out
    finally:
        if timer is not None:
            timer.cancel()
        for task in pending:
            task.remove_done_callback(on_done)
            task.cancel()
        if pending:
            await asyncio.wait(pending)  # let them close their sockets
    elapsed = (loop.time() - started) * 1000
    late = OutcomeStatus.CANCELLED if winner is not None else OutcomeStatus.TIMEOUT
    for task in pending:
        index = tasks[task]
        if not task.cancelled() and task.exception() is None:
            outcomes[index] = task.result()  # finished while being cancelled
        else:
            detail = "quorum reached first" if winner is not None else "detection deadline"
            latency = elapsed if late is OutcomeStatus.TIMEOUT else None
            outcomes[index] = SourceOutcome(sources[index], late, None, latency, detail)
    asked = tuple(outcomes[i] for i in sorted(outcomes))
    if scoreboard is not None:
        ended = started + elapsed / 1000
        missed = {
            sources[i].name
            for i, outcome in outcomes.items()
            if (ended if outcome.latency_ms is None else running[i] + outcome.latency_ms / 1000)
            > expect[i]
        }
        scoreboard.record(family, asked, winner=winner, elapsed_ms=elapsed, late=missed)
    return Detection(
        family=family,
        address=winner,
        quorum=quorum,
        outcomes=asked,
        elapsed_ms=elapsed,
        full=plan.full,
        widened=widened,
    )
