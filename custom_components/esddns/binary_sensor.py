"""Binary sensors: the account's health, and the drift of each record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.restore_state import RestoreEntity

from .data import EsddnsConfigEntry, EsddnsData
from .entity import EsddnsRecordEntity, async_add_account_entities
from .gandi import RecordType
from .records import RecordKey

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class EsddnsBinarySensorEntityDescription(BinarySensorEntityDescription):
    """A problem sensor: whether it is on, from the account's data and a record's rrset."""

    is_on_fn: Callable[[EsddnsData, RecordKey | None], bool | None]


HEALTH = BinarySensorEntityDescription(
    key="dns_up_to_date",
    translation_key="dns_up_to_date",
    device_class=BinarySensorDeviceClass.PROBLEM,
)
# "A drift", "AAAA drift": on when the rrset no longer holds what it should (address or TTL);
# known only with both the record and a consensus address.
DRIFT = {
    rtype: EsddnsBinarySensorEntityDescription(
        key=f"drift_{rtype}",
        translation_key="drift",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=lambda data, key: data.syncer.drift(key),
    )
    for rtype in RecordType
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EsddnsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the account's health sensor and one drift sensor per managed rrset."""
    async_add_account_entities(
        entry,
        "binary_sensor",
        async_add_entities,
        lambda: [HealthSensor(entry)],
        lambda record: [
            EsddnsBinarySensor(entry, DRIFT[rtype], record, rtype) for rtype in record.types
        ],
    )


class EsddnsBinarySensor(EsddnsRecordEntity, BinarySensorEntity):
    """A record's problem sensor, as its description says."""

    entity_description: EsddnsBinarySensorEntityDescription

    @property
    def available(self) -> bool:
        """Known only while the records can be read and the description can tell."""
        return super().available and self.is_on is not None

    @property
    def is_on(self) -> bool | None:
        """As the description says."""
        return self.entity_description.is_on_fn(self.data, self.key)


class HealthSensor(EsddnsRecordEntity, BinarySensorEntity, RestoreEntity):
    """One signal for dashboards and uptime checks: on when something keeps DNS from being
    right, and lasts (health.py); the attributes say which part is wrong. A failing read is
    one of the problems it reports, not a reason to go away: always available."""

    def __init__(self, entry: EsddnsConfigEntry) -> None:
        """Watch the whole account."""
        super().__init__(entry, HEALTH)
        self._problems: dict[str, list[str]] = {}
        self._recheck: CALLBACK_TYPE | None = None

    async def async_added_to_hass(self) -> None:
        """Take what it showed before a reload or restart as lasting, look at the account once
        before the first update, and stop the timer at removal."""
        if (last := await self.async_get_last_state()) is not None and last.state == "on":
            self.data.health.seed(last.attributes)
        self._look()
        await super().async_added_to_hass()
        self.async_on_remove(self._cancel_recheck)

    @callback
    def _handle_coordinator_update(self) -> None:
        self._look()
        super()._handle_coordinator_update()

    @callback
    def _look(self) -> None:
        """Take the problems that have lasted, and look again when the next one will have."""
        self._problems = self.data.health.problems()
        self._cancel_recheck()
        if (due := self.data.health.next_check()) is not None:
            self._recheck = async_track_point_in_utc_time(self.hass, self._recheck_due, due)

    @callback
    def _recheck_due(self, _now: datetime) -> None:
        self._recheck = None
        self._handle_coordinator_update()

    @callback
    def _cancel_recheck(self) -> None:
        if self._recheck is not None:
            self._recheck()
            self._recheck = None

    @property
    def available(self) -> bool:
        """Always: see the class."""
        return True

    @property
    def is_on(self) -> bool:
        """Whether something is wrong, and has been for a while."""
        return any(self._problems.values())

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Which part is wrong; nothing when all is well."""
        return {name: found for name, found in self._problems.items() if found}
