"""The two coordinators: shared public-IP detection, and each entry's records at Gandi."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
import hashlib
import ipaddress
import socket
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    HomeAssistantError,
    ServiceValidationError,
)
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from . import issues
from .const import (
    CONF_AUTO_SYNC,
    CONF_DETECTION_INTERVAL,
    CONF_DETECTION_MODE,
    CONF_DOMAIN,
    CONF_ENTITY_SOURCES,
    CONF_HTTPS_SOURCES,
    CONF_INTERFACE_SOURCE,
    CONF_QUORUM,
    CONF_RECORD_CHECK_INTERVAL,
    CONF_RECORD_TYPES,
    CONF_RECORDS,
    CONF_STUN_SERVERS,
    CONF_TTL,
    DEFAULT_AUTO_SYNC,
    DEFAULT_DETECTION_INTERVAL,
    DEFAULT_DETECTION_MODE,
    DEFAULT_QUORUM,
    DEFAULT_RATE_LIMIT_WAIT,
    DEFAULT_RECORD_CHECK_INTERVAL,
    DEFAULT_RECORD_TYPES,
    DEFAULT_TTL,
    DETECTION_TIMEOUT,
    DOMAIN,
    EVENT_PUBLIC_IP_CHANGED,
    EVENT_RECORD_SYNCED,
    LOGGER,
    MAX_DETECTION_AGE,
    REPAIR_THRESHOLD,
    SCOREBOARD_SAVE_DELAY,
    SCOREBOARD_STORAGE_VERSION,
    SCOREBOARDS_KEPT,
)
from .gandi import (
    GandiClient,
    GandiCredentialError,
    GandiDomainNotFoundError,
    GandiError,
    GandiRateLimitError,
    RecordType,
    Rrset,
)
from .history import SyncHistory
from .local_sources import local_handlers
from .streaks import Streaks
from .sync import Action, RecordKey, RecordResult, describe_answers, in_sync
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

type IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
type EsddnsConfigEntry = ConfigEntry[EsddnsData]

DATA_WAN: HassKey[WanRegistry] = HassKey(f"{DOMAIN}_wan")

_SOCKET_FAMILY = {Family.IPV4: socket.AF_INET, Family.IPV6: socket.AF_INET6}
# An outcome that means the source was reachable and said something.
_ANSWERED = frozenset({OutcomeStatus.ADDRESS, OutcomeStatus.NOT_PUBLIC})


@dataclass
class EsddnsData:
    """What a loaded entry holds at run time."""

    client: GandiClient
    wan: DetectionCoordinator
    records: RecordCoordinator
    history: SyncHistory
    # The unique ids of the entities this setup created; any other is left from older settings.
    unique_ids: set[str] = field(default_factory=set)
    # The platforms that created theirs: a platform that failed must not cost its entities.
    platforms_done: set[str] = field(default_factory=set)


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
class WanRegistry:
    """The shared detection coordinators, one per distinct set of settings, and what each
    source did in past rounds (kept in one Store across restarts)."""

    store: Store[dict[str, Any]]
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    coordinators: dict[DetectionSettings, DetectionCoordinator] = field(default_factory=dict)
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
        self._router: Streaks[str] = Streaks()
        self._users: dict[str, frozenset[Family]] = {}
        self._no_consensus: Streaks[Family] = Streaks()
        self._disagreement: Streaks[Family] = Streaks()
        self._dissenters: dict[Family, set[str]] = {family: set() for family in Family}
        self._last_address: dict[Family, IPAddress] = {}

    @property
    def families(self) -> frozenset[Family]:
        """The families some entry needs."""
        return frozenset().union(*self._users.values())

    @property
    def users(self) -> int:
        """How many entries share this coordinator."""
        return len(self._users)

    def join(self, entry_id: str, families: frozenset[Family]) -> bool:
        """Add an entry; True when it needs a family not detected yet."""
        new_family = not families <= self.families
        self._users[entry_id] = families
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
                    family.value,
                    detection.quorum,
                    describe_answers(detection) or "none",
                )
        elif self._no_consensus.over(family):
            LOGGER.info("Consensus on the public %s address is back", family.value)

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
        names = []
        for entry_id in self._users:
            entry: EsddnsConfigEntry | None = self.hass.config_entries.async_get_entry(entry_id)
            data = getattr(entry, "runtime_data", None) if entry is not None else None
            if isinstance(data, EsddnsData):
                records = data.records
                names += [k.label(records.domain) for k in records.keys if k.family is family]
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


async def async_acquire_wan(hass: HomeAssistant, entry: EsddnsConfigEntry) -> DetectionCoordinator:
    """Join (or create) the detection coordinator for this entry's settings.

    Raises ConfigEntryNotReady-worthy UpdateFailed when no source answers at all.
    """
    settings = DetectionSettings.from_options(entry.options)
    families = frozenset(
        RecordKey("@", RecordType(rtype)).family
        for rtype in entry.data.get(CONF_RECORD_TYPES, DEFAULT_RECORD_TYPES)
    )
    if (registry := hass.data.get(DATA_WAN)) is None:
        registry = hass.data[DATA_WAN] = WanRegistry(
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
            )
            registry.coordinators[settings] = coordinator
        new_family = coordinator.join(entry.entry_id, families)
        if new_family or coordinator.data is None or not coordinator.last_update_success:
            # Quiet, as async_config_entry_first_refresh is: a failure here becomes
            # ConfigEntryNotReady, which Home Assistant reports itself, once per outage.
            await coordinator._async_refresh(log_failures=False)
    return coordinator


async def async_release_wan(hass: HomeAssistant, entry: EsddnsConfigEntry) -> None:
    """Leave the shared coordinator; the last entry to leave shuts it down."""
    registry = hass.data.get(DATA_WAN)
    if registry is None:
        return
    async with registry.lock:
        for settings, coordinator in list(registry.coordinators.items()):
            if not coordinator.leave(entry.entry_id):
                continue
            if not coordinator.users:
                await coordinator.async_shutdown()
                coordinator.clear_repairs()
                del registry.coordinators[settings]


class RecordCoordinator(DataUpdateCoordinator[dict[RecordKey, Rrset | None]]):
    """Reads the rrsets one entry manages, decides drift, and writes when it must."""

    config_entry: EsddnsConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EsddnsConfigEntry,
        client: GandiClient,
        wan: DetectionCoordinator,
        history: SyncHistory,
    ) -> None:
        """Create the coordinator for one entry (one Gandi domain)."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} records {entry.data[CONF_DOMAIN]}",
            update_interval=timedelta(
                minutes=int(
                    entry.options.get(CONF_RECORD_CHECK_INTERVAL, DEFAULT_RECORD_CHECK_INTERVAL)
                )
            ),
        )
        self.client = client
        self.wan = wan
        self.history = history
        self.domain: str = entry.data[CONF_DOMAIN]
        self.ttl = int(entry.data.get(CONF_TTL, DEFAULT_TTL))
        self.auto_sync = bool(entry.data.get(CONF_AUTO_SYNC, DEFAULT_AUTO_SYNC))
        self.keys: tuple[RecordKey, ...] = tuple(
            RecordKey(name, RecordType(rtype))
            for name in entry.data.get(CONF_RECORDS, ("@",))
            for rtype in entry.data.get(CONF_RECORD_TYPES, DEFAULT_RECORD_TYPES)
        )
        self._lock = asyncio.Lock()
        self.quiet = 0
        self._not_before = 0.0
        self._written: dict[RecordKey, IPAddress] = {}
        self._overwritten: Streaks[RecordKey] = Streaks()
        self._last_inputs: tuple[object, object] | None = None
        self._verifying = False
        # Records whose last write failed, with Gandi's reason.
        self.failed_writes: dict[RecordKey, str] = {}

    # Reading --------------------------------------------------------------------------------

    async def _async_update_data(self) -> dict[RecordKey, Rrset | None]:
        self._check_rate_limit()
        records: dict[RecordKey, Rrset | None] = {}
        try:
            for key in self.keys:
                records[key] = await self.client.get_rrset(self.domain, key.name, key.type)
        except GandiCredentialError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key="invalid_auth",
                translation_placeholders={"domain": self.domain, "error": err.message},
            ) from err
        except GandiRateLimitError as err:
            raise UpdateFailed(**self._rate_limited(err)) from err
        except GandiError as err:
            if isinstance(err, GandiDomainNotFoundError):
                # The domain left LiveDNS (or the account): only the user can put that right.
                issues.async_domain_missing(self.hass, self._domain_issue_id, self.domain)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="gandi_error",
                translation_placeholders={"domain": self.domain, "error": err.message},
            ) from err
        issues.async_clear(self.hass, self._domain_issue_id)
        self._note_overwrites(records)
        return records

    @property
    def _domain_issue_id(self) -> str:
        return f"domain_missing_{self.config_entry.entry_id}"

    def _check_rate_limit(self) -> None:
        wait = self._not_before - self.hass.loop.time()
        if wait > 0:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="rate_limited",
                translation_placeholders={"seconds": str(round(wait))},
            )

    def _rate_limited(self, err: GandiRateLimitError) -> dict[str, Any]:
        """Remember to stay quiet as long as Gandi asked; return the error's translation."""
        wait = err.retry_after if err.retry_after is not None else DEFAULT_RATE_LIMIT_WAIT
        self._not_before = self.hass.loop.time() + wait
        return {
            "translation_domain": DOMAIN,
            "translation_key": "rate_limited",
            "translation_placeholders": {"seconds": str(round(wait))},
        }

    def _note_overwrites(self, records: Mapping[RecordKey, Rrset | None]) -> None:
        """Spot another updater rewriting a record we wrote, while our address still holds."""
        public = self.wan.data
        for key, written in self._written.items():
            issue_id = self._overwritten_issue_id(key)
            current_public = public.address(key.family) if public is not None else None
            if current_public == written and not in_sync(records.get(key), written):
                if self._overwritten.seen(key) >= REPAIR_THRESHOLD:
                    issues.async_record_overwritten(
                        self.hass, issue_id, key.label(self.domain), key.type.value
                    )
            elif (
                not self._verifying
                and in_sync(records.get(key), written)
                and self._overwritten.over(key)
            ):
                # A whole check cycle in which nobody touched it: the fight is over.
                issues.async_clear(self.hass, issue_id)

    def _overwritten_issue_id(self, key: RecordKey) -> str:
        return f"record_overwritten_{self.config_entry.entry_id}_{key.name}_{key.type}"

    def clear_repairs(self) -> None:
        """Drop this entry's repair issues (on unload)."""
        issues.async_clear(self.hass, self._domain_issue_id)
        for key in self.keys:
            issues.async_clear(self.hass, self._overwritten_issue_id(key))

    # Deciding and writing -------------------------------------------------------------------

    def drift(self, key: RecordKey) -> bool | None:
        """Whether a record differs from the public address; None when either is unknown."""
        public = self.wan.data.address(key.family) if self.wan.data is not None else None
        if public is None or not self.last_update_success or self.data is None:
            return None
        if key not in self.data:
            return None
        return not in_sync(self.data[key], public, self.ttl)

    def problems(self) -> dict[str, list[str]]:
        """What keeps the records from being up to date, in the words of the health sensor."""
        needed = sorted({key.family for key in self.keys})
        public = self.wan.fresh()
        return {
            "drifted_records": [key.describe(self.domain) for key in self.keys if self.drift(key)],
            "failed_writes": [
                f"{key.describe(self.domain)}: {reason}"
                for key, reason in self.failed_writes.items()
            ],
            "no_consensus": [
                family.value
                for family in needed
                if public is None or public.address(family) is None
            ],
            "unreadable_records": (
                [] if self.last_update_success else [key.describe(self.domain) for key in self.keys]
            ),
        }

    @callback
    def async_schedule_auto_sync(self) -> None:
        """After new detection or record data, write drifted records if the user wants that.

        Each pair of inputs (detection, records) is acted on once: a failed write waits for the
        next cycle's data instead of retrying in a loop.
        """
        inputs = (self.wan.data, self.data)
        if (
            self._last_inputs is not None
            and inputs[0] is self._last_inputs[0]
            and inputs[1] is self._last_inputs[1]
        ):
            return
        self._last_inputs = inputs
        if not self.auto_sync or self.quiet or self.wan.quiet:
            # Data a dry run read is never acted on; the next regular cycle brings new data.
            return
        self.config_entry.async_create_background_task(
            self.hass, self._async_auto_sync(), f"{DOMAIN} auto sync {self.domain}"
        )

    async def _async_auto_sync(self) -> None:
        if self.wan.fresh() is None or not self.last_update_success:
            return
        try:
            await self.async_sync(force=False, dry_run=False, strict=False)
        except HomeAssistantError as err:
            # Failures reach the user through entity availability and the coordinator's log.
            LOGGER.debug("Automatic sync of %s did not complete: %s", self.domain, err)

    async def async_sync(
        self, *, force: bool, dry_run: bool, detect: bool = False, strict: bool = True
    ) -> list[RecordResult]:
        """Bring every managed record in line with the public address.

        ``detect`` runs a fresh detection first and ``force`` reads the records at Gandi again.
        Nothing is written without a fresh consensus. With ``strict`` (the action and the
        button), a missing consensus is an error; automatic syncs skip such records silently.
        What a dry run reads or detects is never acted on by the automatic sync.
        """
        async with self._lock, self._quietly(dry_run):
            if detect:
                await self._async_detect_or_raise()
            public = self.wan.fresh()
            if strict:
                for family in sorted({key.family for key in self.keys}):
                    if public is None or public.address(family) is None:
                        raise self._no_consensus(family)
            if public is None:
                return []
            if force or self.data is None or not self.last_update_success:
                await self._async_read_or_raise()
            results: list[RecordResult] = []
            for key in self.keys:
                # Asked again for each record: a detection that lands while an earlier write is
                # in flight must not leave later records with the superseded address.
                latest = self.wan.fresh()
                address = latest.address(key.family) if latest is not None else None
                if address is not None:
                    results.append(await self._async_sync_record(key, address, dry_run=dry_run))
            if not dry_run:
                self._note_write_outage(results)
            if any(result.action is Action.UPDATED for result in results):
                await self.history.async_record(self.domain, results)
                # Read back what was written; that read says nothing about other updaters.
                self._verifying = True
                try:
                    await self.async_refresh()
                finally:
                    self._verifying = False
            elif any(result.action is Action.FAILED for result in results):
                await self.history.async_record(self.domain, results)
                self.async_update_listeners()
            return results

    @contextlib.asynccontextmanager
    async def _quietly(self, quiet: bool) -> AsyncIterator[None]:
        """Mark the reads and detections made meanwhile as a dry run's, when ``quiet``."""
        step = int(quiet)
        self.quiet += step
        self.wan.quiet += step
        try:
            yield
        finally:
            self.quiet -= step
            self.wan.quiet -= step

    async def _async_detect_or_raise(self) -> None:
        """Run a detection now (shared with every entry that uses these settings)."""
        await self.wan.async_refresh()
        if not self.wan.last_update_success:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="no_source_answered"
            )

    def _no_consensus(self, family: Family) -> ServiceValidationError:
        """Why there is no address to write for ``family``, with the numbers behind it."""
        public = self.wan.data if self.wan.last_update_success else None
        detection = public.detections.get(family) if public is not None else None
        if detection is None or not detection.answers:
            return ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="no_source_answered_family",
                translation_placeholders={
                    "family": family.value,
                    "asked": str(len(self.wan.settings.sources(family))),
                },
            )
        if detection.address is None:
            return ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="no_consensus",
                translation_placeholders={
                    "family": family.value,
                    "agreeing": str(max(len(voters) for voters in detection.answers.values())),
                    "quorum": str(detection.quorum),
                    "answers": describe_answers(detection),
                },
            )
        assert public is not None  # a detection came from it
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="detection_stale",
            translation_placeholders={
                "detected_at": public.detected_at.isoformat(timespec="seconds"),
                "max_age": str(int(MAX_DETECTION_AGE.total_seconds() // 60)),
            },
        )

    def _note_write_outage(self, results: list[RecordResult]) -> None:
        """Log once when writes start failing, and once when they work again.

        A failed write leaves every entity available (the drift sensor stays on), and the
        coordinator's own log only covers reads: without this, a write outage is silent.
        """
        was_failing = bool(self.failed_writes)
        failed = [r for r in results if r.action is Action.FAILED]
        for result in results:
            if result.action is Action.FAILED:
                self.failed_writes[result.key] = result.reason or "unknown error"
            else:
                self.failed_writes.pop(result.key, None)
        if failed and not was_failing:
            LOGGER.warning(
                "Could not update %s at Gandi: %s",
                ", ".join(r.key.describe(self.domain) for r in failed),
                "; ".join(sorted({r.reason or "unknown error" for r in failed})),
            )
        elif was_failing and not self.failed_writes:
            LOGGER.info("Updating the records of %s at Gandi works again", self.domain)

    async def _async_read_or_raise(self) -> None:
        """Read the records now; a failure becomes a translated error for the caller."""
        await self.async_refresh()
        if self.last_update_success:
            return
        err = self.last_exception
        if isinstance(err, ConfigEntryAuthFailed):
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="invalid_auth",
                translation_placeholders={"domain": self.domain, "error": str(err)},
            ) from err
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="read_failed",
            translation_placeholders={"domain": self.domain, "error": str(err)},
        ) from err

    async def _async_sync_record(
        self, key: RecordKey, address: IPAddress | None, *, dry_run: bool
    ) -> RecordResult:
        assert address is not None  # filtered by the caller
        current = self.data.get(key) if self.data is not None else None
        before = current.values if current is not None else None
        if in_sync(current, address, self.ttl):
            return RecordResult(key, before, before, Action.UNCHANGED)
        after = (str(address),)
        if dry_run:
            return RecordResult(key, before, after, Action.WOULD_UPDATE)
        try:
            self._check_rate_limit()
            await self.client.put_rrset(self.domain, key.name, key.type, after, self.ttl)
        except UpdateFailed as err:
            return self._fire(RecordResult(key, before, before, Action.FAILED, str(err)))
        except GandiCredentialError as err:
            self.config_entry.async_start_reauth(self.hass)
            return self._fire(RecordResult(key, before, before, Action.FAILED, err.message))
        except GandiRateLimitError as err:
            self._rate_limited(err)
            return self._fire(RecordResult(key, before, before, Action.FAILED, err.message))
        except GandiError as err:
            return self._fire(RecordResult(key, before, before, Action.FAILED, err.message))
        self._written[key] = address
        LOGGER.info("Updated %s %s: %s -> %s", key.label(self.domain), key.type, before, after)
        return self._fire(RecordResult(key, before, after, Action.UPDATED))

    def _fire(self, result: RecordResult) -> RecordResult:
        """Tell automations, the logbook and blueprints what a write did (never for dry runs).

        ``repeated`` says the record's previous write failed too, so a notification can come
        once per outage instead of once per attempt.
        """
        # The entry's own device (async_get_device is deprecated from 2026.x, this works on both).
        devices = dr.async_entries_for_config_entry(
            dr.async_get(self.hass), self.config_entry.entry_id
        )
        device = devices[0] if devices else None
        self.hass.bus.async_fire(
            EVENT_RECORD_SYNCED,
            {
                "entry_id": self.config_entry.entry_id,
                # The logbook card of the device page finds the event by it.
                "device_id": device.id if device is not None else None,
                **result.as_event(self.domain),
                "repeated": result.action is Action.FAILED and result.key in self.failed_writes,
            },
        )
        return result
