"""Public-address detection, shared by every account whose detection settings are equal."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
import hashlib
import socket
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from . import issues
from .const import (
    CONF_DETECTION_INTERVAL,
    CONF_DETECTION_MODE,
    CONF_ENTITY_SOURCES,
    CONF_HTTPS_SOURCES,
    CONF_INTERFACE_SOURCE,
    CONF_QUORUM,
    CONF_STUN_SERVERS,
    DEFAULT_DETECTION_INTERVAL,
    DEFAULT_DETECTION_MODE,
    DEFAULT_QUORUM,
    DETECTION_TIMEOUT,
    DOMAIN,
    EVENT_PUBLIC_IP_CHANGED,
    LOGGER,
    MAX_DETECTION_AGE,
    REPAIR_THRESHOLD,
    SCOREBOARD_SAVE_DELAY,
    SCOREBOARD_STORAGE_VERSION,
    SCOREBOARDS_KEPT,
)
from .local_sources import local_handlers
from .records import IPAddress
from .streaks import Streaks
from .sync import describe_answers
from .wan import (
    AddressClass,
    Detection,
    DetectionMode,
    Family,
    OutcomeStatus,
    Scoreboard,
    Source,
    SourceKind,
    SourceOutcome,
    classify_address,
    detect,
    entity_source,
    interface_source,
    sources_for,
)

DATA_DETECTION: HassKey[DetectionRegistry] = HassKey(f"{DOMAIN}_wan")

_SOCKET_FAMILY = {Family.IPV4: socket.AF_INET, Family.IPV6: socket.AF_INET6}
# An outcome that means the source was reachable and said something.
_ANSWERED = frozenset({OutcomeStatus.ADDRESS, OutcomeStatus.NOT_PUBLIC})

# The records of one account that hold each family's address, for a repair's text.
type RecordLabels = Mapping[Family, Sequence[str]]


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
        )

    @property
    def fingerprint(self) -> str:
        """A short stable id, for repair issue ids."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:10]

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


@dataclass(frozen=True, slots=True)
class DetectionRound:
    """One detection round: a consensus (or not) per family asked."""

    detections: Mapping[Family, Detection]
    detected_at: datetime

    def address(self, family: Family) -> IPAddress | None:
        """The agreed public address of a family, if there is one."""
        detection = self.detections.get(family)
        return detection.address if detection is not None else None


@dataclass
class DetectionMemory:
    """What detection rounds remember between them. Kept across reloads (an account reloads at
    each record change): a lost consensus is logged once per outage, a public address change is
    seen across a reload, a repair's count of rounds goes on."""

    router: Streaks[str] = field(default_factory=Streaks)
    no_consensus: Streaks[Family] = field(default_factory=Streaks)
    disagreement: Streaks[Family] = field(default_factory=Streaks)
    dissenters: dict[Family, set[str]] = field(
        default_factory=lambda: {family: set() for family in Family}
    )
    last_address: dict[Family, IPAddress] = field(default_factory=dict)


@dataclass
class DetectionRegistry:
    """The shared detection coordinators, one per distinct set of settings, and what each
    source did in past rounds (kept in one Store across restarts)."""

    store: Store[dict[str, Any]]
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    coordinators: dict[DetectionSettings, DetectionCoordinator] = field(default_factory=dict)
    memories: dict[DetectionSettings, DetectionMemory] = field(default_factory=dict)
    boards: dict[str, Any] | None = None  # as stored, by settings fingerprint

    async def async_scoreboard(self, settings: DetectionSettings) -> Scoreboard:
        """The scoreboard an earlier run (or an earlier setup) kept for these settings."""
        if self.boards is None:
            stored = await self.store.async_load()
            self.boards = stored if isinstance(stored, dict) else {}
        return Scoreboard.from_dict(self.boards.get(settings.fingerprint))

    @callback
    def async_keep(self, settings: DetectionSettings, scoreboard: Scoreboard) -> None:
        """Remember a round's scoreboard; write at most once per SCOREBOARD_SAVE_DELAY."""
        boards = self.boards if self.boards is not None else {}
        boards.pop(settings.fingerprint, None)
        boards[settings.fingerprint] = scoreboard.as_dict()
        # Settings that changed leave their board behind: keep those in use and a few more.
        in_use = {s.fingerprint for s in self.coordinators} | {settings.fingerprint}
        recent = [fp for fp in boards if fp not in in_use][-SCOREBOARDS_KEPT:]
        self.boards = {fp: board for fp, board in boards.items() if fp in in_use or fp in recent}
        self.store.async_delay_save(lambda: dict(self.boards or {}), SCOREBOARD_SAVE_DELAY)


class DetectionCoordinator(DataUpdateCoordinator[DetectionRound]):
    """Finds the public address for every entry that shares these settings.

    It is not tied to one entry (``config_entry=None``): the first entry's setup creates it,
    the last one's unload disposes of it.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        settings: DetectionSettings,
        scoreboard: Scoreboard,
        on_round: Callable[[Scoreboard], None],
        memory: DetectionMemory | None = None,
    ) -> None:
        """Create the coordinator for one set of detection settings."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=None,
            name=f"{DOMAIN} public IP",
            update_interval=timedelta(minutes=settings.interval),
        )
        self.settings = settings
        # Refreshes a dry run causes; while above 0, automatic syncs must not act on new data.
        self.quiet = 0
        self.scoreboard = scoreboard
        self._on_round = on_round
        self._local = local_handlers(hass)
        self._sources = {family: settings.sources(family) for family in Family}
        for family, sources in self._sources.items():
            self.scoreboard.retain(family, (source.name for source in sources))
        self._users: dict[str, tuple[frozenset[Family], RecordLabels]] = {}
        memory = memory if memory is not None else DetectionMemory()
        self._router = memory.router
        self._no_consensus = memory.no_consensus
        self._disagreement = memory.disagreement
        self._dissenters = memory.dissenters
        self._last_address = memory.last_address

    @property
    def families(self) -> frozenset[Family]:
        """The families some account needs."""
        return frozenset().union(*(families for families, _ in self._users.values()))

    @property
    def users(self) -> int:
        """How many entries share this coordinator."""
        return len(self._users)

    def join(self, entry_id: str, families: frozenset[Family], labels: RecordLabels) -> bool:
        """Add an account, or take its new records; True when it needs a family not detected
        yet."""
        new_family = not families <= self.families
        self._users[entry_id] = (families, labels)
        return new_family

    def leave(self, entry_id: str) -> bool:
        """Remove an entry; True when it was a user."""
        return self._users.pop(entry_id, None) is not None

    def fresh(self) -> DetectionRound | None:
        """The last detection, if it is recent and succeeded: the only kind worth writing from."""
        if not self.last_update_success or self.data is None:
            return None
        if dt_util.utcnow() - self.data.detected_at > MAX_DETECTION_AGE:
            return None
        return self.data

    async def _async_update_data(self) -> DetectionRound:
        families = sorted(self.families)
        if not families:  # accounts without records: nothing to find out
            return DetectionRound(detections={}, detected_at=dt_util.utcnow())
        results = await asyncio.gather(
            *(
                detect(
                    self._sources[family],
                    family,
                    # A dual-stack HTTPS source must be asked over the family in question.
                    session=async_get_clientsession(self.hass, family=_SOCKET_FAMILY[family]),
                    quorum=self.settings.quorum,
                    timeout=DETECTION_TIMEOUT,
                    scoreboard=self.scoreboard,
                    local=self._local,
                )
                for family in families
            )
        )
        self._on_round(self.scoreboard)
        detections = dict(zip(families, results, strict=True))
        if not any(o.status in _ANSWERED for d in results for o in d.outcomes):
            raise UpdateFailed(translation_domain=DOMAIN, translation_key="no_source_answered")
        for family, detection in detections.items():
            self._note_consensus(family, detection)
            self._note_disagreement(family, detection)
            self._note_router(detection)
            if detection.address is None:
                continue
            # Compared with the last agreed address, so a round without consensus in between
            # does not hide a change.
            old = self._last_address.get(family)
            self._last_address[family] = detection.address
            if old is not None and old != detection.address:
                self.hass.bus.async_fire(
                    EVENT_PUBLIC_IP_CHANGED,
                    {"family": family.value, "before": str(old), "after": str(detection.address)},
                )
        return DetectionRound(detections=detections, detected_at=dt_util.utcnow())

    def _note_consensus(self, family: Family, detection: Detection) -> None:
        """Log once when a family loses its consensus, and once when it is back."""
        if detection.address is None:
            if self._no_consensus.seen(family) == 1:
                LOGGER.warning(
                    "No consensus on the public %s address (quorum %s); answers: %s",
                    family.label,
                    detection.quorum,
                    describe_answers(detection) or "none",
                )
        elif self._no_consensus.over(family):
            LOGGER.info("Consensus on the public %s address is back", family.label)

    def _note_disagreement(self, family: Family, detection: Detection) -> None:
        """Raise a repair when sources keep naming different public addresses.

        A hedged round may not ask the sources that disagreed, so agreement among the others
        does not end it: a round that asked everyone, or heard them all agree, does.
        """
        issue_id = self._disagree_issue_id(family)
        # A router entity that names another address has a repair of its own (_note_router).
        valid = [o for o in detection.valid if o.source.kind is not SourceKind.ENTITY]
        if len({o.address for o in valid}) > 1:
            self._dissenters[family] = {o.source.name for o in valid}
            if self._disagreement.seen(family) >= REPAIR_THRESHOLD:
                issues.async_sources_disagree(self.hass, issue_id, family, detection)
        elif family in self._disagreement and (
            detection.full
            or detection.widened
            or self._dissenters[family] <= {o.source.name for o in valid}
        ):
            self._disagreement.over(family)
            issues.async_clear(self.hass, issue_id)

    def _disagree_issue_id(self, family: Family) -> str:
        return f"sources_disagree_{self.settings.fingerprint}_{family.value}"

    def _note_router(self, detection: Detection) -> None:
        """Tell the user when a router entity shows that inbound connections won't arrive.

        Only an entity source can see this: its WAN address is CGNAT or private (another NAT
        in front of it), or public but not the address the internet sees (a VPN or a second
        NAT), while the sources agree on a public address.
        """
        public = detection.address
        if public is None:
            return  # without a consensus there is nothing to compare with: keep what is known
        for outcome in detection.outcomes:
            if outcome.source.kind is not SourceKind.ENTITY:
                continue
            issue_id = (
                f"router_{self.settings.fingerprint}_{detection.family}_{outcome.source.name}"
            )
            kind = _router_problem(outcome, public)
            if kind is None:
                if self._router.over(issue_id):
                    issues.async_clear(self.hass, issue_id)
                continue
            # The router's entity updates on its own schedule: a change of address must not
            # look like a second NAT for the round or two until it catches up.
            if self._router.seen(issue_id) >= REPAIR_THRESHOLD:
                assert public is not None  # _router_problem needs both
                assert outcome.address is not None
                issues.async_router_problem(
                    self.hass,
                    issue_id,
                    kind,
                    entity=outcome.source.entity_id,
                    router_address=str(outcome.address),
                    public_address=str(public),
                    records=self._records_of(detection.family),
                )

    def _records_of(self, family: Family) -> str:
        """The records that point at this family's address, for a repair's text."""
        names = [name for _, labels in self._users.values() for name in labels.get(family, ())]
        return ", ".join(dict.fromkeys(names)) or "your records"

    def clear_repairs(self) -> None:
        """Drop this coordinator's repair issues (when it is disposed of)."""
        for family in Family:
            issues.async_clear(self.hass, self._disagree_issue_id(family))
        for issue_id in self._router:
            issues.async_clear(self.hass, issue_id)


def _router_problem(outcome: SourceOutcome, public: IPAddress | None) -> str | None:
    """Which router problem an entity's answer shows, if any (a repair's translation key)."""
    if public is None or outcome.address is None:
        return None
    if outcome.status is OutcomeStatus.NOT_PUBLIC:
        cls = classify_address(outcome.address)
        if cls is AddressClass.SHARED:
            return "router_cgnat"
        if cls is AddressClass.PRIVATE:
            return "router_private"
        return None
    if outcome.status is OutcomeStatus.ADDRESS and outcome.address != public:
        return "router_address_differs"
    return None


async def async_acquire_detection(
    hass: HomeAssistant,
    entry_id: str,
    options: Mapping[str, Any],
    families: frozenset[Family],
    labels: RecordLabels,
) -> DetectionCoordinator:
    """Join (or create) the detection coordinator for an account's detection options; joined
    again, it takes the account's new families and records.

    A first round that no source answers leaves ``last_update_success`` False for the caller.
    """
    settings = DetectionSettings.from_options(options)
    if (registry := hass.data.get(DATA_DETECTION)) is None:
        registry = hass.data[DATA_DETECTION] = DetectionRegistry(
            Store(hass, SCOREBOARD_STORAGE_VERSION, f"{DOMAIN}.scoreboard")
        )
    async with registry.lock:
        coordinator = registry.coordinators.get(settings)
        if coordinator is None:
            coordinator = DetectionCoordinator(
                hass,
                settings,
                await registry.async_scoreboard(settings),
                partial(registry.async_keep, settings),
                registry.memories.setdefault(settings, DetectionMemory()),
            )
            registry.coordinators[settings] = coordinator
        new_family = coordinator.join(entry_id, families, labels)
        if families and (
            new_family or coordinator.data is None or not coordinator.last_update_success
        ):
            # Quiet, as async_config_entry_first_refresh is: a failure here becomes
            # ConfigEntryNotReady, which Home Assistant reports itself, once per outage.
            await coordinator._async_refresh(log_failures=False)
    return coordinator


async def async_release_detection(hass: HomeAssistant, entry_id: str) -> None:
    """Leave the shared coordinator; the last account to leave shuts it down."""
    registry = hass.data.get(DATA_DETECTION)
    if registry is None:
        return
    async with registry.lock:
        for settings, coordinator in list(registry.coordinators.items()):
            if not coordinator.leave(entry_id):
                continue
            if not coordinator.users:
                await coordinator.async_shutdown()
                coordinator.clear_repairs()
                del registry.coordinators[settings]
