"""Public-address detection: its settings, its rounds, and the coordinator that runs them.

The coordinator fetches and maps errors, nothing else. One serves every account whose detection
settings are equal (sharing.py); what a round tells the user is reporting.py's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
import hashlib
import socket
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.update_coordinator import (
    REQUEST_REFRESH_DEFAULT_COOLDOWN,
    DataUpdateCoordinator,
)
from homeassistant.util import dt as dt_util

from .address_filters import address_policy
from .const import (
    CONF_CHANGE_CHECK_INTERVAL,
    CONF_DETECTION_INTERVAL,
    CONF_DETECTION_MODE,
    CONF_ENTITY_SOURCES,
    CONF_HTTPS_SOURCES,
    CONF_INTERFACE_SOURCE,
    CONF_IPV4_NEVER,
    CONF_IPV4_ONLY,
    CONF_IPV6_NEVER,
    CONF_IPV6_ONLY,
    CONF_QUORUM,
    CONF_STUN_SERVERS,
    DEFAULT_CHANGE_CHECK_INTERVAL,
    DEFAULT_DETECTION_INTERVAL,
    DEFAULT_DETECTION_MODE,
    DEFAULT_QUORUM,
    DETECTION_TIMEOUT,
    DOMAIN,
    LOGGER,
    MAX_DETECTION_AGE,
)
from .errors import NoSourceAnsweredError, coordinator_errors
from .local_sources import local_handlers
from .records import IPAddress
from .timing import jittered
from .wan import (
    AddressPolicy,
    Detection,
    DetectionMode,
    Family,
    OutcomeStatus,
    Scoreboard,
    Source,
    SourceOutcome,
    ask_source,
    detect,
    entity_source,
    interface_source,
    sources_for,
)

SOCKET_FAMILY = {Family.IPV4: socket.AF_INET, Family.IPV6: socket.AF_INET6}
# An outcome that means the source was reachable and said something.
_ANSWERED = frozenset({OutcomeStatus.ADDRESS, OutcomeStatus.NOT_PUBLIC, OutcomeStatus.FILTERED})


@dataclass(frozen=True, slots=True)
class DetectionSettings:
    """The options that decide how the public address is found; equal settings share detection."""

    mode: DetectionMode
    stun_servers: tuple[str, ...]
    https_sources: tuple[str, ...]
    quorum: int
    interval: int
    entities: tuple[str, ...] = ()
    interface: bool = False
    change_interval: int = DEFAULT_CHANGE_CHECK_INTERVAL  # minutes; 0: no change canary
    # The user's address filters, both families together (each prefix has its version):
    # prefixes never to publish, and prefixes an address must fall in. Out of the repr, so
    # that settings without filters keep the fingerprint they had before filters existed.
    never: tuple[str, ...] = field(default=(), repr=False)
    only: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> DetectionSettings:
        """Read the settings from an entry's options, defaults filled in."""
        return cls(
            mode=DetectionMode(options.get(CONF_DETECTION_MODE, DEFAULT_DETECTION_MODE)),
            stun_servers=tuple(options.get(CONF_STUN_SERVERS) or ()),
            https_sources=tuple(options.get(CONF_HTTPS_SOURCES) or ()),
            quorum=int(options.get(CONF_QUORUM, DEFAULT_QUORUM)),
            interval=int(options.get(CONF_DETECTION_INTERVAL, DEFAULT_DETECTION_INTERVAL)),
            entities=tuple(options.get(CONF_ENTITY_SOURCES) or ()),
            interface=bool(options.get(CONF_INTERFACE_SOURCE, False)),
            change_interval=int(
                options.get(CONF_CHANGE_CHECK_INTERVAL, DEFAULT_CHANGE_CHECK_INTERVAL)
            ),
            never=(*options.get(CONF_IPV4_NEVER, ()), *options.get(CONF_IPV6_NEVER, ())),
            only=(*options.get(CONF_IPV4_ONLY, ()), *options.get(CONF_IPV6_ONLY, ())),
        )

    @property
    def fingerprint(self) -> str:
        """A short stable id, for repair issue ids and the stored scoreboards. The change
        check's interval is left out: turning the check off or on keeps what was learnt."""
        kept = repr(replace(self, change_interval=DEFAULT_CHANGE_CHECK_INTERVAL))
        if self.never or self.only:
            kept += f" never={self.never} only={self.only}"
        return hashlib.sha256(kept.encode()).hexdigest()[:10]

    def policy(self, family: Family) -> AddressPolicy:
        """What may be published for one family: public addresses the filters let through."""
        return address_policy(self.never, self.only, family)

    def sources(self, family: Family) -> tuple[Source, ...]:
        """The sources to ask for one family: the mode's, then what Home Assistant knows."""
        local = [entity_source(entity_id) for entity_id in self.entities]
        if self.interface:
            local.append(interface_source())
        return (
            *sources_for(
                self.mode, family, stun_servers=self.stun_servers, https_urls=self.https_sources
            ),
            *local,
        )


# The trigger of a round a dry run asked for: no account acts on it.
DRY_RUN = "dry run"


@dataclass(frozen=True, slots=True)
class DetectionRound:
    """One detection round: a consensus (or not) per family asked, and what started it
    ("interval", "start", "action", "canary", "entity sensor.router_wan_ip", "interface")."""

    detections: Mapping[Family, Detection]
    detected_at: datetime
    trigger: str = "interval"

    def address(self, family: Family) -> IPAddress | None:
        """The agreed public address of a family, if there is one."""
        detection = self.detections.get(family)
        return detection.address if detection is not None else None


class DetectionCoordinator(DataUpdateCoordinator[DetectionRound]):
    """Finds the public address of each family some account needs.

    It is not tied to one entry (``config_entry=None``): sharing.py creates it for the first
    account with these settings and disposes of it when the last one leaves.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        settings: DetectionSettings,
        scoreboard: Scoreboard,
        keep: Callable[[Scoreboard], None],
    ) -> None:
        """Create the coordinator for one set of detection settings; ``keep`` stores the
        scoreboard after each round, answered or not."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=None,
            name=f"{DOMAIN} public address",
            update_interval=jittered(timedelta(minutes=settings.interval)),
        )
        self.settings = settings
        # What asked for the next round (a trigger, an action); none: the interval.
        self._trigger: str | None = None
        # A round is running; a trigger that came meanwhile, to run after it.
        self._running = False
        self._requested = False
        self._again: str | None = None
        self._again_timer: CALLBACK_TYPE | None = None
        self.scoreboard = scoreboard
        self._keep = keep
        # The families the accounts sharing it need (sharing.py keeps it up to date).
        self.families: frozenset[Family] = frozenset()
        self._sources = {family: settings.sources(family) for family in Family}
        self.policies = {family: settings.policy(family) for family in Family}
        self._local = local_handlers(hass, self.policies)
        for family, sources in self._sources.items():
            self.scoreboard.retain(family, (source.name for source in sources))

    @callback
    def async_detect_soon(self, trigger: str) -> None:
        """Run a round now, for ``trigger``: at most one per cooldown (Home Assistant's request
        debouncer), however often triggers fire. Asked while a round runs (which the debouncer
        would drop), it runs once that round ends."""
        if self._running:
            self._again = self._again or trigger
            return
        if self._requested:
            return  # a round is about to start: it covers this trigger too
        self._requested = True
        self.note_trigger(trigger)
        self.hass.async_create_task(self._async_request(), eager_start=True)

    async def _async_request(self) -> None:
        try:
            await self.async_request_refresh()
        finally:
            self._requested = False

    def note_trigger(self, trigger: str) -> None:
        """Say what asks for the next round (the first asker names it)."""
        if self._trigger is None:
            self._trigger = trigger

    async def _async_update_data(self) -> DetectionRound:
        self._running, self._requested = True, False
        try:
            return await self._async_detect()
        finally:
            self._running = False
            if self._again is not None and self._again_timer is None:
                # After the cooldown the request debouncer keeps (it drops a request while a
                # round runs, and the one just made).
                self._again_timer = async_call_later(
                    self.hass, REQUEST_REFRESH_DEFAULT_COOLDOWN, self._async_run_again
                )

    @callback
    def _async_run_again(self, _now: datetime) -> None:
        """The round a trigger asked for while another ran."""
        self._again_timer = None
        if (again := self._again) is not None:
            self._again = None
            self.note_trigger(again)
            self.hass.async_create_task(self.async_refresh(), eager_start=True)

    async def async_shutdown(self) -> None:
        """Stop, with the round a trigger asked for meanwhile."""
        if self._again_timer is not None:
            self._again_timer()
            self._again_timer = None
        await super().async_shutdown()

    @coordinator_errors
    async def _async_detect(self) -> DetectionRound:
        trigger, self._trigger = self._trigger or "interval", None
        # The next periodic round comes after a freshly jittered interval.
        self.update_interval = jittered(timedelta(minutes=self.settings.interval))
        families = sorted(self.families)
        if not families:  # accounts without records: nothing to find out
            return DetectionRound(detections={}, detected_at=dt_util.utcnow(), trigger=trigger)
        results = await asyncio.gather(
            *(
                detect(
                    self._sources[family],
                    family,
                    # A dual-stack HTTPS source must be asked over the family in question.
                    session=async_get_clientsession(self.hass, family=SOCKET_FAMILY[family]),
                    quorum=self.settings.quorum,
                    timeout=DETECTION_TIMEOUT,
                    policy=self.policies[family],
                    scoreboard=self.scoreboard,
                    local=self._local,
                )
                for family in families
            )
        )
        self._keep(self.scoreboard)
        if not any(o.status in _ANSWERED for d in results for o in d.outcomes):
            raise NoSourceAnsweredError
        return DetectionRound(
            detections=dict(zip(families, results, strict=True)),
            detected_at=dt_util.utcnow(),
            trigger=trigger,
        )

    async def async_ask(self, source: Source, family: Family) -> SourceOutcome:
        """Ask one source alone, as a round asks it (the change canary's question)."""
        return await ask_source(
            source,
            family,
            session=async_get_clientsession(self.hass, family=SOCKET_FAMILY[family]),
            limit=DETECTION_TIMEOUT,
            policy=self.policies[family],
            local=self._local,
        )

    def fresh(self) -> DetectionRound | None:
        """The last round, if it succeeded and is recent: the only kind worth writing from."""
        if not self.last_update_success or self.data is None:
            return None
        if dt_util.utcnow() - self.data.detected_at > MAX_DETECTION_AGE:
            return None
        return self.data
