"""What wakes a shared detection before its interval: a router entity naming a new address,
the host's IPv6 prefix changing, and the change canary.

A trigger only starts a detection: the quorum still decides, and a write still needs a fresh
one. The coordinator's request debouncer runs at most one round per cooldown, however often
triggers fire (a flapping entity, a prefix that flips, a canary that keeps timing out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
import ipaddress

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import (
    async_call_later,
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.util import dt as dt_util

from .const import CANARY_STRIKES, INTERFACE_CHECK_INTERVAL
from .detection import DRY_RUN, DetectionCoordinator
from .local_sources import read_if_inet6
from .records import IPAddress
from .timing import jittered
from .wan import (
    LOCAL_KINDS,
    AddressClass,
    Family,
    MalformedAnswer,
    OutcomeStatus,
    Source,
    SourceKind,
    classify_address,
    parse_address,
    preferred_ipv6,
)

# A round a canary started that has not ended well by then is forgotten (never judged).
PENDING_FOR = timedelta(seconds=30)


@dataclass
class CanaryRecord:
    """What the change canary of one family did, for diagnostics."""

    source: str | None = None
    asked: int = 0
    agreed: int = 0
    differed: int = 0  # named another address, or failed: each started a full round
    refuted: int = 0  # the full round it started found the address unchanged
    strikes: dict[str, int] = field(default_factory=dict)  # refutals in a row, by source
    demoted: set[str] = field(default_factory=set)  # sources that lost their place
    last: str = ""


class DetectionTriggers:
    """Wake one shared detection coordinator early."""

    def __init__(self, hass: HomeAssistant, coordinator: DetectionCoordinator) -> None:
        """Watch what the coordinator's settings name."""
        self.hass = hass
        self.coordinator = coordinator
        self.settings = coordinator.settings
        self.canary = {family: CanaryRecord() for family in Family}
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._canary_timer: CALLBACK_TYPE | None = None
        self._prefix: ipaddress.IPv6Network | None = None
        self._prefix_known = False
        # The canaries whose answer started a round: judged when the round ends.
        self._pending: dict[Family, tuple[str, IPAddress, datetime]] = {}

    @callback
    def async_start(self) -> None:
        """Start watching."""
        self._unsubscribe.append(self.coordinator.async_add_listener(self._async_judge_canary))
        if self.settings.entities:
            self._unsubscribe.append(
                async_track_state_change_event(
                    self.hass, list(self.settings.entities), self._async_entity_changed
                )
            )
        if self.settings.interface:
            self._unsubscribe.append(
                async_track_time_interval(
                    self.hass, self._async_check_interface, INTERFACE_CHECK_INTERVAL
                )
            )
        if self.settings.change_interval:
            self._schedule_canary()

    @callback
    def async_stop(self) -> None:
        """Stop every listener and timer."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._canary_timer is not None:
            self._canary_timer()
            self._canary_timer = None

    def _agreed(self, family: Family) -> IPAddress | None:
        """The address the last real round agreed on; None after a failed round, a round
        without consensus, or a dry run's round (whose address no account acted on)."""
        round_ = self.coordinator.data if self.coordinator.last_update_success else None
        if round_ is None or round_.trigger == DRY_RUN:
            return None
        return round_.address(family)

    # A router entity ---------------------------------------------------------------------------

    @callback
    def _async_entity_changed(self, event: Event[EventStateChangedData]) -> None:
        """An entity source names a public address other than the agreed one: detect now.
        Unknown, unavailable and anything but a public address start nothing."""
        state, old = event.data["new_state"], event.data["old_state"]
        if state is None or state.state in (STATE_UNKNOWN, STATE_UNAVAILABLE):
            return
        if old is not None and old.state == state.state:
            return  # only an attribute changed: the address it names did not
        try:
            address = parse_address(state.state.strip())
        except MalformedAnswer:
            return
        family = Family.IPV4 if address.version == 4 else Family.IPV6
        if (
            classify_address(address) is AddressClass.PUBLIC
            and family in self.coordinator.families
            and address != self._agreed(family)
        ):
            self.coordinator.async_detect_soon(f"entity {state.entity_id}")

    # The host's interfaces -----------------------------------------------------------------

    async def _async_check_interface(self, _now: datetime | None = None) -> None:
        """The /64 of the host's preferred global IPv6 address changed: detect now."""
        if Family.IPV6 not in self.coordinator.families:
            return
        entries = await self.hass.async_add_executor_job(read_if_inet6)
        address = preferred_ipv6([entry.address for entry in entries or ()], entries)
        prefix = ipaddress.IPv6Network(f"{address}/64", strict=False) if address else None
        if self._prefix_known and prefix != self._prefix and prefix is not None:
            self.coordinator.async_detect_soon("interface")
        self._prefix, self._prefix_known = prefix, True

    # The change canary ---------------------------------------------------------------------

    def _schedule_canary(self) -> None:
        delay = jittered(timedelta(minutes=self.settings.change_interval), at_most=True)
        self._canary_timer = async_call_later(self.hass, delay, self._async_canary)

    async def _async_canary(self, _now: datetime) -> None:
        """Ask each family's canary whether the agreed address still holds; another answer,
        or none, starts a full round at once."""
        self._canary_timer = None
        try:
            for family in sorted(self.coordinator.families):
                await self._async_ask_canary(family)
        finally:
            if self._unsubscribe:  # not stopped meanwhile
                self._schedule_canary()

    async def _async_ask_canary(self, family: Family) -> None:
        """Without an agreed address (the last round failed, had no consensus, or was a dry
        run's), any public answer starts a full round: the network may be back, with a new
        address. With one, another answer or none starts it."""
        agreed = self._agreed(family)
        source = self._choose(family)
        record = self.canary[family]
        record.source = source.name if source is not None else None
        pending = self._pending.get(family)
        if pending is not None and dt_util.utcnow() - pending[2] < PENDING_FOR:
            return  # the round it started is on its way
        self._pending.pop(family, None)  # that round never ended well: nothing to judge
        if source is None:
            return
        outcome = await self.coordinator.async_ask(source, family)
        record.asked += 1
        if agreed is None:
            record.last = f"{outcome.status.value}: {outcome.address or outcome.detail}"
            if outcome.status is OutcomeStatus.ADDRESS:
                self.coordinator.async_detect_soon("canary")
            return
        if outcome.status is OutcomeStatus.ADDRESS and outcome.address == agreed:
            record.agreed += 1
            record.strikes.pop(source.name, None)
            record.last = f"agreed: {agreed}"
            return
        record.differed += 1
        record.last = (
            f"answered {outcome.address}"
            if outcome.status is OutcomeStatus.ADDRESS
            else f"{outcome.status.value}: {outcome.detail}"
        )
        self._pending[family] = (source.name, agreed, dt_util.utcnow())
        self.coordinator.async_detect_soon("canary")

    def _choose(self, family: Family) -> Source | None:
        """The scoreboard's best cheap source of ``family`` that has not lost its place:
        STUN over UDP first (one small request), reliable and fast first."""
        record = self.canary[family]
        board = self.coordinator.scoreboard.board(family)
        candidates = [
            source
            for source in self.settings.sources(family)
            if source.kind not in LOCAL_KINDS and source.serves(family)
        ]
        if all(source.name in record.demoted for source in candidates):
            record.demoted.clear()  # every one was demoted: start over
        ranked = [
            (
                source.kind is not SourceKind.STUN_UDP,
                board.stats(source.name).failures_in_row > 0,
                board.stats(source.name).expected_ms() or float("inf"),
                index,
                source,
            )
            for index, source in enumerate(candidates)
            if source.name not in record.demoted
        ]
        return min(ranked, key=lambda rank: rank[:4])[4] if ranked else None

    @callback
    def _async_judge_canary(self) -> None:
        """A round ended: a canary whose differing answer it refutes takes a strike; one with
        CANARY_STRIKES in a row loses its place."""
        if not self._pending or not self.coordinator.last_update_success:
            return
        for family, (name, before, _) in list(self._pending.items()):
            del self._pending[family]
            record = self.canary[family]
            if self._agreed(family) != before:
                record.strikes.pop(name, None)  # it saw the change first
                continue
            record.refuted += 1
            record.strikes[name] = record.strikes.get(name, 0) + 1
            if record.strikes[name] >= CANARY_STRIKES:
                record.demoted.add(name)
                record.strikes.pop(name)
