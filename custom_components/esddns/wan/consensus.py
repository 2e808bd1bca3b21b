"""Ask sources; the first address backed by a quorum of distinct providers wins.

Without a scoreboard every source is asked at once. With one, a round is hedged: it asks the
`quorum` best sources of distinct providers first, one more when they are slower than usual
("The Tail at Scale"), and everyone else at once on any failure or disagreement; a failing
source sits out a growing number of rounds, and a periodic full round keeps the board honest.
Either way the rest are cancelled as soon as there is a winner (their sockets close before
`detect` returns), and every asked source's outcome is reported, whatever happened to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
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

FULL_ROUND_EVERY = 16  # rounds: with 14 default sources this keeps ~3 requests per round
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
        else:
            status = OutcomeStatus.ADDRESS
    latency = (loop.time() - started) * 1000
    return SourceOutcome(source, status, address, latency, detail[:_DETAIL_MAX])


@dataclass(slots=True)
class _Plan:
    """Which sources a round starts when (indices into the caller's sequence)."""

    first: list[int]  # started at once
    hedges: list[int]  # one started when the first are slower than usual
    rest: list[int]  # started on a failure, a disagreement, or when the hedge is slow too
    last: list[int]  # left out for failing (backoff): started only if nothing else is left
    full: bool
    hedge_after: float = math.inf  # seconds after the start
    widen_after: float = math.inf


def _rank(board: FamilyBoard, source: Source, index: int) -> tuple[bool, int, int, float, int]:
    """Failing sources last, then cheap kinds, then answer rate (in classes, so that latency
    still decides between reliable sources), then latency."""
    stats = board.stats(source.name)
    reliable = stats.answered >= 0.9 * stats.asked
    reliability = 1 if stats.asked == 0 else 0 if reliable else 2  # 1: never heard from
    return (
        stats.failures_in_row > 0,
        KIND_COST.get(source.kind, len(KIND_COST)),
        reliability,
        math.inf if stats.latency_ms is None else stats.latency_ms,
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
    if (board.round - 1) % FULL_ROUND_EVERY == 0:
        # The periodic full round asks the backed-off sources too: that is how a source that
        # recovered, or one that keeps disagreeing, is seen again.
        return _Plan(first=local + eligible + held, hedges=[], rest=[], last=[], full=True)
    if not eligible or len(known) < min(quorum + 1, len(providers)):
        # Too little known to pick a few (or no network source to pick from at all).
        return _Plan(first=local + eligible, hedges=[], rest=[], last=held, full=True)
    first: list[int] = []
    # A local source that answers lately counts toward the quorum: one network request fewer.
    chosen: set[str] = {sources[i].provider for i in local if board.stats(sources[i].name).known}
    for i in eligible:
        if len(chosen) >= quorum:
            break
        if sources[i].provider not in chosen:
            first.append(i)
            chosen.add(sources[i].provider)
    rest = [i for i in eligible if i not in first]
    first = local + first
    # A hedge from a new provider can complete the quorum alone; else any will do.
    hedges = sorted(rest, key=lambda i: sources[i].provider in chosen)[:1]
    rest = [i for i in rest if i not in hedges]
    default = timeout / 4
    hedge_after = max(_expected(board, sources[i], default) for i in first)
    widen_after = hedge_after + max(
        (_expected(board, sources[i], default) for i in hedges), default=0
    )
    return _Plan(first, hedges, rest, held, False, hedge_after, widen_after)


def _expected(board: FamilyBoard, source: Source, default: float) -> float:
    expected = board.stats(source.name).expected_ms()
    return default if expected is None else expected / 1000


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
    if scoreboard is None:
        plan = _Plan(first=list(range(len(sources))), hedges=[], rest=[], last=[], full=True)
    else:
        plan = _plan(sources, family, scoreboard.board(family), quorum, timeout)
    tasks: dict[asyncio.Task[SourceOutcome], int] = {}
    outcomes: dict[int, SourceOutcome] = {}
    votes: dict[IPAddress, set[str]] = {}
    winner: IPAddress | None = None
    pending: set[asyncio.Task[SourceOutcome]] = set()
    finished: list[asyncio.Task[SourceOutcome]] = []  # in the order they finished
    wake: asyncio.Future[None] = loop.create_future()
    widened = False
    due = False  # the hedge timer (then the widen timer) has fired

    def on_done(task: asyncio.Task[SourceOutcome]) -> None:
        finished.append(task)
        if not wake.done():
            wake.set_result(None)

    def alarm() -> None:
        # A flag, not a clock reading: the loop may run a timer up to its clock resolution early.
        nonlocal due
        due = True
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
        indices.clear()

    start(plan.first)
    timer: asyncio.TimerHandle | None = None
    if plan.hedges or plan.rest:
        timer = loop.call_at(started + plan.hedge_after, alarm)
    try:
        # One timer for the whole round, one callback per source: cheap however many answer.
        async with asyncio.timeout_at(deadline):
            while winner is None:
                if not pending:  # everyone asked has finished without a quorum: last resort
                    remaining = plan.hedges + plan.rest + plan.last
                    if not remaining:
                        break
                    plan.hedges, plan.rest, plan.last = [], [], []
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
                        trouble = True  # a local source's failure costs nothing to ride out
                if winner is not None:
                    break
                if trouble and (plan.hedges or plan.rest):
                    widened = True
                    start(plan.hedges)
                    start(plan.rest)
                elif due and plan.hedges:
                    due = False
                    start(plan.hedges)
                    timer = loop.call_at(started + plan.widen_after, alarm)
                elif due and plan.rest:
                    widened = True
                    start(plan.rest)
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
        scoreboard.record(family, asked, winner=winner, elapsed_ms=elapsed)
    return Detection(
        family=family,
        address=winner,
        quorum=quorum,
        outcomes=asked,
        elapsed_ms=elapsed,
        full=plan.full,
        widened=widened,
    )
