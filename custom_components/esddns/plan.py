"""The planner: turns the public addresses, the records and what they hold into writes.

Deciding is pure (``plan``); ``apply`` only carries out a plan with the writer it is handed. A
dry run is the plan itself. Nothing here knows Home Assistant or a coordinator: the syncer
(syncer.py) hands over addresses and rrsets as values, and a way to write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
import ipaddress
from typing import Any

from .gandi import GandiError, Rrset
from .records import IPAddress, ManagedRecord, RecordKey, desired
from .wan import AddressPolicy, Family


class Action(StrEnum):
    """What a sync did (or would do) to a record."""

    UPDATED = "updated"
    UNCHANGED = "unchanged"
    WOULD_UPDATE = "would_update"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RecordResult:
    """The outcome of one rrset in one sync."""

    key: RecordKey
    before: tuple[str, ...] | None
    after: tuple[str, ...] | None
    action: Action
    reason: str | None = None

    def as_event(self) -> dict[str, Any]:
        """The ``esddns_record_synced`` event data: the record, then what happened to it."""
        return {
            "domain": self.key.domain,
            "record": self.key.label,
            "name": self.key.name,
            "type": self.key.type.value,
            "result": self.action.value,
            "before": list(self.before) if self.before is not None else None,
            "after": list(self.after) if self.after is not None else None,
            "reason": self.reason,
        }

    def as_dict(self) -> dict[str, Any]:
        """The action's response shape: the event's words, without the full name.

        ``action`` is 0.1.0's name for ``result``, kept through 0.2 so that automations that
        read it keep working.
        """
        response = self.as_event()
        del response["record"]
        response["action"] = response["result"]
        return response


@dataclass(frozen=True, slots=True)
class Step:
    """One rrset in a plan: what it holds, what it should hold, and whether to write."""

    key: RecordKey
    before: tuple[str, ...] | None
    after: tuple[str, ...]
    ttl: int
    write: bool
    before_ttl: int | None = None  # the TTL the rrset has now; None when absent

    @property
    def change(self) -> str:
        """The change in words, for the log: the values, or only the TTL when they stay."""
        if self.before == self.after and self.before_ttl != self.ttl:
            return f"TTL {self.before_ttl} s -> {self.ttl} s"
        before = ", ".join(self.before) if self.before else "nothing"
        return f"{before} -> {', '.join(self.after)}"

    def result(self, *, dry_run: bool) -> RecordResult:
        """The step as a result before (or instead of) carrying it out."""
        if not self.write:
            return RecordResult(self.key, self.before, self.before, Action.UNCHANGED)
        return RecordResult(
            self.key, self.before, self.after, Action.WOULD_UPDATE if dry_run else Action.UPDATED
        )


def in_sync(rrset: Rrset | None, address: IPAddress, ttl: int | None = None) -> bool:
    """Whether the record holds exactly ``address`` (compared as addresses, not text) and,
    when ``ttl`` is given, has that TTL: both are what the user asked for."""
    if rrset is None or not rrset.values or (ttl is not None and rrset.ttl != ttl):
        return False
    try:
        values = {ipaddress.ip_address(value) for value in rrset.values}
    except ValueError:
        return False
    return values == {address}


def plan(
    records: Iterable[ManagedRecord],
    rrsets: Mapping[RecordKey, Rrset | None],
    addresses: Mapping[Family, IPAddress],
    only: Collection[RecordKey] | None = None,
    policies: Mapping[Family, AddressPolicy] | None = None,
) -> list[Step]:
    """Compare every record (or only the rrsets in ``only``) with its desired state.

    A record whose family has no agreed address, whose address the account's filters
    (``policies``) reject, or that could not be read, is left out: nothing is decided without
    both.
    """
    steps: list[Step] = []
    for record in records:
        for key in record.keys:
            if only is not None and key not in only:
                continue
            address = desired(record, key, addresses, policies)
            if address is None or key not in rrsets:
                continue
            current = rrsets[key]
            steps.append(
                Step(
                    key=key,
                    before=current.values if current is not None else None,
                    after=(str(address),),
                    ttl=record.ttl,
                    write=not in_sync(current, address, record.ttl),
                    before_ttl=current.ttl if current is not None else None,
                )
            )
    return steps


type Writer = Callable[[Step], Awaitable[None]]


class SupersededError(Exception):
    """The public address changed since the plan was made: the step must not be written."""


async def apply(steps: Iterable[Step], write: Writer) -> tuple[list[RecordResult], list[Step]]:
    """Carry out a plan, one PUT per rrset that must change; a refused write is a result,
    not an exception, so the other records are still written.

    Returns the results, and the steps left out because the public address changed meanwhile:
    they need a new plan.
    """
    results: list[RecordResult] = []
    superseded: list[Step] = []
    for step in steps:
        if not step.write:
            results.append(step.result(dry_run=False))
            continue
        try:
            await write(step)
        except SupersededError:
            superseded.append(step)
            continue
        except GandiError as err:
            results.append(
                RecordResult(step.key, step.before, step.before, Action.FAILED, err.message)
            )
        else:
            results.append(step.result(dry_run=False))
    return results, superseded
