"""What a sync does to one record: decide from the record and the public address, report."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import ipaddress
from typing import Any

from .gandi import RecordType, Rrset
from .wan import Detection, Family

FAMILY_OF_TYPE: dict[RecordType, Family] = {
    RecordType.A: Family.IPV4,
    RecordType.AAAA: Family.IPV6,
}


class Action(StrEnum):
    """What a sync did (or would do) to a record."""

    UPDATED = "updated"
    UNCHANGED = "unchanged"
    WOULD_UPDATE = "would_update"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RecordKey:
    """One managed rrset: a name (``@`` for the apex) and a type."""

    name: str
    type: RecordType

    @property
    def family(self) -> Family:
        """The address family the record holds."""
        return FAMILY_OF_TYPE[self.type]

    def label(self, domain: str) -> str:
        """The record as a person reads it: ``home.example.com``."""
        return domain if self.name == "@" else f"{self.name}.{domain}"

    def describe(self, domain: str) -> str:
        """The record and its type, for messages: ``home.example.com A``."""
        return f"{self.label(domain)} {self.type}"


@dataclass(frozen=True, slots=True)
class RecordResult:
    """The outcome of one record in one sync."""

    key: RecordKey
    before: tuple[str, ...] | None
    after: tuple[str, ...] | None
    action: Action
    reason: str | None = None

    def as_dict(self, domain: str) -> dict[str, Any]:
        """Service response and history shape."""
        return {
            "domain": domain,
            "name": self.key.name,
            "type": self.key.type.value,
            "before": list(self.before) if self.before is not None else None,
            "after": list(self.after) if self.after is not None else None,
            "action": self.action.value,
            "reason": self.reason,
        }

    def as_event(self, domain: str) -> dict[str, Any]:
        """The ``esddns_record_synced`` event data: the record, then what happened to it."""
        return {
            "domain": domain,
            "record": self.key.label(domain),
            "name": self.key.name,
            "type": self.key.type.value,
            "result": self.action.value,
            "before": list(self.before) if self.before is not None else None,
            "after": list(self.after) if self.after is not None else None,
            "reason": self.reason,
        }


def in_sync(
    rrset: Rrset | None,
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
    ttl: int | None = None,
) -> bool:
    """Whether the record holds exactly the public address (compared as addresses, not text)
    and, when ``ttl`` is given, has that TTL: both are what the user asked for."""
    if rrset is None or not rrset.values or (ttl is not None and rrset.ttl != ttl):
        return False
    try:
        values = {ipaddress.ip_address(value) for value in rrset.values}
    except ValueError:
        return False
    return values == {address}


def describe_answers(detection: Detection) -> str:
    """Each address the sources named, with its providers: ``81.2.69.142: google, twilio``."""
    return "; ".join(
        f"{address}: {', '.join(sorted(providers))}"
        for address, providers in detection.answers.items()
    )
