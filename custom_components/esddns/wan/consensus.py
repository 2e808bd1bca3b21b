"""Ask every source at once; the first address backed by a quorum of providers wins.

The rest are cancelled as soon as there is a winner (their sockets close before `detect`
returns), and every source's outcome is reported, whatever happened to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
import logging

import aiohttp

from .address import PUBLIC_ONLY, AddressPolicy, IPAddress
from .dns import query_dns
from .http import query_https
from .source import Family, OutcomeStatus, Source, SourceFailure, SourceKind, SourceOutcome
from .stun import query_stun

_LOGGER = logging.getLogger(__name__)
_DETAIL_MAX = 120


@dataclass(frozen=True, slots=True)
class Detection:
    """The result of one detection round."""

    family: Family
    address: IPAddress | None  # None: no consensus
    quorum: int
    outcomes: tuple[SourceOutcome, ...]  # one per source asked, in the order given
    elapsed_ms: float

    @property
    def consensus(self) -> bool:
        """Whether a quorum of providers agreed."""
        return self.address is not None

    @property
    def agreeing(self) -> tuple[SourceOutcome, ...]:
        """Outcomes that gave the winning address."""
        return tuple(o for o in self.valid if o.address == self.address)

    @property
    def disagreeing(self) -> tuple[SourceOutcome, ...]:
        """Outcomes that gave another valid public address (all of them without consensus)."""
        return tuple(o for o in self.valid if o.address != self.address)

    @property
    def valid(self) -> tuple[SourceOutcome, ...]:
        """Outcomes that gave a usable address."""
        return tuple(o for o in self.outcomes if o.status is OutcomeStatus.ADDRESS)

    @property
    def answers(self) -> dict[IPAddress, tuple[str, ...]]:
        """Each usable address, with the distinct providers that gave it."""
        result: dict[IPAddress, list[str]] = {}
        for outcome in self.valid:
            assert outcome.address is not None
            providers = result.setdefault(outcome.address, [])
            if outcome.source.provider not in providers:
                providers.append(outcome.source.provider)
        return {address: tuple(providers) for address, providers in result.items()}


async def _query(
    source: Source, family: Family, session: aiohttp.ClientSession, limit: float
) -> IPAddress:
    if not source.serves(family):
        raise SourceFailure(f"source does not serve {family}")
    if source.kind is SourceKind.HTTPS:
        return await query_https(source, session, limit)
    if source.kind is SourceKind.DNS:
        return await query_dns(source, limit)
    return await query_stun(source, family, limit)


async def ask_source(
    source: Source,
    family: Family,
    *,
    session: aiohttp.ClientSession,
    limit: float,
    policy: AddressPolicy = PUBLIC_ONLY,
) -> SourceOutcome:
    """Ask one source and turn whatever happens into an outcome (never raises but cancel)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    status, address, detail = OutcomeStatus.ERROR, None, ""
    try:
        # Each client keeps its own time (so it can say *why* it gave up); detect's deadline
        # is the backstop.
        address = await _query(source, family, session, limit)
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


async def detect(
    sources: Sequence[Source],
    family: Family,
    *,
    session: aiohttp.ClientSession,
    quorum: int = 2,
    timeout: float = 5.0,  # noqa: ASYNC109 - the deadline is shared out among the sources
    policy: AddressPolicy = PUBLIC_ONLY,
) -> Detection:
    """Find the public address of `family`: the first one `quorum` distinct providers agree on.

    Never raises for a source's failure. For dual-stack HTTPS hosts, pass a session pinned to
    the family (Home Assistant: async_get_clientsession(hass, family=AF_INET or AF_INET6)).
    """
    if quorum < 1:
        raise ValueError("quorum must be at least 1")
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + timeout
    tasks = {
        loop.create_task(
            ask_source(
                source,
                family,
                session=session,
                limit=min(source.timeout or timeout, timeout),
                policy=policy,
            ),
            name=f"esddns source {source.name}",
        ): index
        for index, source in enumerate(sources)
    }
    outcomes: list[SourceOutcome | None] = [None] * len(sources)
    votes: dict[IPAddress, set[str]] = {}
    winner: IPAddress | None = None
    pending = set(tasks)
    finished: list[asyncio.Task[SourceOutcome]] = []  # in the order they finished
    wake: asyncio.Future[None] = loop.create_future()

    def on_done(task: asyncio.Task[SourceOutcome]) -> None:
        finished.append(task)
        if not wake.done():
            wake.set_result(None)

    for task in tasks:
        task.add_done_callback(on_done)
    try:
        # One timer for the whole round, one callback per source: cheap however many answer.
        async with asyncio.timeout_at(deadline):
            while pending and winner is None:
                await wake
                wake = loop.create_future()
                batch, finished[:] = finished[:], []
                for task in batch:
                    pending.discard(task)
                    outcome = outcomes[tasks[task]] = task.result()
                    if outcome.status is OutcomeStatus.ADDRESS and outcome.address is not None:
                        voters = votes.setdefault(outcome.address, set())
                        voters.add(outcome.source.provider)
                        if winner is None and len(voters) >= quorum:
                            winner = outcome.address
    except TimeoutError:
        pass  # the deadline: whoever has not answered is reported as timed out
    finally:
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
    return Detection(
        family=family,
        address=winner,
        quorum=quorum,
        outcomes=tuple(o for o in outcomes if o is not None),
        elapsed_ms=elapsed,
    )
