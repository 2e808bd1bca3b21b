"""The plain data of detection: families, modes, source kinds, sources, outcomes, results."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .address import IPAddress


class Family(StrEnum):
    """The address family being detected."""

    IPV4 = "ipv4"
    IPV6 = "ipv6"

    @property
    def label(self) -> str:
        """The family as people write it: IPv4, IPv6."""
        return "IPv4" if self is Family.IPV4 else "IPv6"


BOTH_FAMILIES = frozenset(Family)


class DetectionMode(StrEnum):
    """Which kinds of sources are asked."""

    ALL = "all"
    STUN_HTTPS = "stun_https"
    STUN = "stun"
    HTTPS = "https"
    DNS = "dns"


class SourceKind(StrEnum):
    """How a source is asked."""

    STUN_UDP = "stun_udp"
    STUN_TCP = "stun_tcp"
    HTTPS = "https"
    DNS = "dns"
    DOH = "doh"  # DNS-over-HTTPS (RFC 8484): a "who am I" name asked over TLS
    ENTITY = "entity"  # a Home Assistant entity whose state is an address (the router's WAN IP)
    INTERFACE = "interface"  # the host's own global address


# Kinds answered by the caller's own handlers (see `detect(local=...)`), not over the network.
LOCAL_KINDS = frozenset({SourceKind.ENTITY, SourceKind.INTERFACE})


class OutcomeStatus(StrEnum):
    """What one source's answer came to."""

    ADDRESS = "address"
    TIMEOUT = "timeout"
    REFUSED = (
        "refused"  # the server declined: connection refused, STUN error, HTTP status, DNS REFUSED
    )
    MALFORMED = "malformed"  # an answer came, but not one address of the asked family
    NOT_PUBLIC = "not_public"
    # A public address the user's filters reject: a failure, so that it can never win.
    FILTERED = "filtered"
    ERROR = "error"  # anything else: name does not resolve, TLS failure, unexpected exception
    CANCELLED = "cancelled"  # the quorum was reached first


@dataclass(frozen=True, slots=True)
class Source:
    """One place to ask for the public address. Fields after `name` depend on `kind`."""

    kind: SourceKind
    provider: str
    name: str
    host: str = ""  # STUN and DNS: server name or address literal (no brackets)
    port: int = 0
    url: str = ""  # HTTPS and DoH
    query_name: str = ""  # DNS and DoH
    query_type: str = ""  # DNS and DoH: A, AAAA or TXT
    query_class: str = "IN"  # DNS and DoH: IN or CHAOS
    entity_id: str = ""  # ENTITY
    families: frozenset[Family] = field(default=BOTH_FAMILIES)
    timeout: float | None = None  # None: the detection's timeout

    def serves(self, family: Family) -> bool:
        """Whether this source can report an address of `family`."""
        return family in self.families


@dataclass(frozen=True, slots=True)
class SourceOutcome:
    """What one source answered, and how long it took."""

    source: Source
    status: OutcomeStatus
    address: IPAddress | None = None  # set for ADDRESS, NOT_PUBLIC and FILTERED
    latency_ms: float | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Detection:
    """The result of one detection round."""

    family: Family
    address: IPAddress | None  # None: no consensus
    quorum: int
    outcomes: tuple[SourceOutcome, ...]  # one per source asked, in the order given
    elapsed_ms: float
    # Every source was asked from the start (no scoreboard, or too little known), or every one
    # the board is in doubt about with the first choices (a periodic full round).
    full: bool = True
    widened: bool = False  # a hedged round had to ask everyone after a failure or disagreement

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
    def filtered(self) -> tuple[SourceOutcome, ...]:
        """Outcomes that gave a public address the user's filters reject."""
        return tuple(o for o in self.outcomes if o.status is OutcomeStatus.FILTERED)

    @property
    def answers_text(self) -> str:
        """Each address the sources named, with its providers, those the user's filters reject
        marked: ``81.2.69.142: google, twilio; 93.184.216.34 (filtered): cloudflare``."""
        filtered: dict[IPAddress, set[str]] = {}
        for outcome in self.filtered:
            assert outcome.address is not None
            filtered.setdefault(outcome.address, set()).add(outcome.source.provider)
        return "; ".join(
            [
                f"{address}: {', '.join(sorted(providers))}"
                for address, providers in self.answers.items()
            ]
            + [
                f"{address} (filtered): {', '.join(sorted(providers))}"
                for address, providers in filtered.items()
            ]
        )

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
