"""One detection for every account with equal detection settings.

The registry maps settings to a shared detection (its coordinator, its reporter, the accounts
that use it), keeps what reporting remembers across reloads (each record change used to reload
an account; options and credentials still do), and keeps each source's scoreboard in one Store
across restarts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, SCOREBOARD_SAVE_DELAY, SCOREBOARD_STORAGE_VERSION, SCOREBOARDS_KEPT
from .detection import DetectionCoordinator, DetectionSettings
from .reporting import DetectionReporter, ReportingMemory
from .triggers import DetectionTriggers
from .wan import Family, Scoreboard

DATA_DETECTION: HassKey[DetectionRegistry] = HassKey(f"{DOMAIN}_wan")

# The records of one account that hold each family's address, for a repair's text.
type RecordLabels = Mapping[Family, Sequence[str]]


@dataclass
class SharedDetection:
    """A detection coordinator, what reports its rounds, and the accounts that use them."""

    coordinator: DetectionCoordinator
    memory: ReportingMemory
    users: dict[str, tuple[frozenset[Family], RecordLabels]] = field(default_factory=dict)
    # Detections a dry run causes; while above 0, no account's automatic sync acts on a round.
    quiet: int = 0
    reporter: DetectionReporter = field(init=False)
    triggers: DetectionTriggers = field(init=False)
    _unsubscribe: CALLBACK_TYPE = field(init=False)

    def __post_init__(self) -> None:
        # Listening before any account does: a round is reported before it is acted on.
        hass = self.coordinator.hass
        self.reporter = DetectionReporter(hass, self.coordinator, self.memory, self.records_of)
        self._unsubscribe = self.coordinator.async_add_listener(self.reporter.async_on_round)
        self.triggers = DetectionTriggers(hass, self.coordinator)
        self.triggers.async_start()

    async def async_dispose(self) -> None:
        """The last account left: stop detecting, and drop the repairs of these settings."""
        self.triggers.async_stop()
        self._unsubscribe()
        await self.coordinator.async_shutdown()
        self.reporter.clear_repairs()

    def join(self, entry_id: str, families: frozenset[Family], labels: RecordLabels) -> bool:
        """Add an account, or take its new records; True when it needs a family not detected
        yet."""
        new_family = not families <= self.coordinator.families
        self.users[entry_id] = (families, labels)
        self._update_families()
        return new_family

    def leave(self, entry_id: str) -> bool:
        """Remove an account; True when it was a user."""
        left = self.users.pop(entry_id, None) is not None
        self._update_families()
        return left

    def records_of(self, family: Family) -> list[str]:
        """The records of every account that hold ``family``'s address."""
        return [name for _, labels in self.users.values() for name in labels.get(family, ())]

    def _update_families(self) -> None:
        self.coordinator.families = frozenset().union(
            *(families for families, _ in self.users.values())
        )


@dataclass
class DetectionRegistry:
    """The shared detections, one per distinct set of settings, and what each source did in
    past rounds (kept in one Store across restarts)."""

    store: Store[dict[str, Any]]
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    shared: dict[DetectionSettings, SharedDetection] = field(default_factory=dict)
    memories: dict[DetectionSettings, ReportingMemory] = field(default_factory=dict)
    boards: dict[str, Any] | None = None  # as stored, by settings fingerprint

    @property
    def coordinators(self) -> dict[DetectionSettings, DetectionCoordinator]:
        """The detection coordinator of each set of settings in use."""
        return {settings: shared.coordinator for settings, shared in self.shared.items()}

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
        in_use = {s.fingerprint for s in self.shared} | {settings.fingerprint}
        recent = [fp for fp in boards if fp not in in_use][-SCOREBOARDS_KEPT:]
        self.boards = {fp: board for fp, board in boards.items() if fp in in_use or fp in recent}
        self.store.async_delay_save(lambda: dict(self.boards or {}), SCOREBOARD_SAVE_DELAY)

    async def async_create(
        self, hass: HomeAssistant, settings: DetectionSettings
    ) -> SharedDetection:
        """A new shared detection for ``settings``, with what was kept of earlier ones."""
        coordinator = DetectionCoordinator(
            hass,
            settings,
            await self.async_scoreboard(settings),
            partial(self.async_keep, settings),
        )
        return SharedDetection(coordinator, self.memories.setdefault(settings, ReportingMemory()))


async def async_acquire_detection(
    hass: HomeAssistant,
    entry_id: str,
    options: Mapping[str, Any],
    families: frozenset[Family],
    labels: RecordLabels,
) -> SharedDetection:
    """Join (or create) the shared detection for an account's detection options; joined again,
    it takes the account's new families and records.

    A first round that no source answers leaves ``last_update_success`` False for the caller.
    """
    settings = DetectionSettings.from_options(options)
    if (registry := hass.data.get(DATA_DETECTION)) is None:
        registry = hass.data[DATA_DETECTION] = DetectionRegistry(
            Store(hass, SCOREBOARD_STORAGE_VERSION, f"{DOMAIN}.scoreboard")
        )
    async with registry.lock:
        shared = registry.shared.get(settings)
        if shared is None:
            shared = registry.shared[settings] = await registry.async_create(hass, settings)
        coordinator = shared.coordinator
        new_family = shared.join(entry_id, families, labels)
        if families and (
            new_family or coordinator.data is None or not coordinator.last_update_success
        ):
            # Quiet, as async_config_entry_first_refresh is: a failure here becomes
            # ConfigEntryNotReady, which Home Assistant reports itself, once per outage.
            coordinator.note_trigger("start" if coordinator.data is None else "record")
            await coordinator._async_refresh(log_failures=False)
    return shared


async def async_release_detection(hass: HomeAssistant, entry_id: str) -> None:
    """Leave the shared detection; the last account to leave shuts it down."""
    registry = hass.data.get(DATA_DETECTION)
    if registry is None:
        return
    async with registry.lock:
        for settings, shared in list(registry.shared.items()):
            if not shared.leave(entry_id):
                continue
            if not shared.users:
                await shared.async_dispose()
                del registry.shared[settings]
