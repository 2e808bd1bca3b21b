"""Binary sensors: the account's health, and the drift of each record."""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import EsddnsConfigEntry
from .entity import EsddnsRecordEntity
from .gandi import RecordType
from .records import ManagedRecord, RecordKey

PARALLEL_UPDATES = 0

HEALTH = BinarySensorEntityDescription(
    key="dns_up_to_date",
    translation_key="dns_up_to_date",
    device_class=BinarySensorDeviceClass.PROBLEM,
)
# "A drift", "AAAA drift": on when the rrset no longer holds what it should.
DRIFT = {
    rtype: BinarySensorEntityDescription(
        key=f"drift_{rtype}", translation_key="drift", device_class=BinarySensorDeviceClass.PROBLEM
    )
    for rtype in RecordType
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EsddnsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the account's health sensor and one drift sensor per managed rrset."""
    async_add_entities([HealthSensor(entry)])
    for record in entry.runtime_data.records.records:
        async_add_entities(
            [DriftSensor(entry, record, key) for key in record.keys],
            config_subentry_id=record.subentry_id,
        )
    entry.runtime_data.platforms_done.add("binary_sensor")


class _RecordsAndAddressSensor(EsddnsRecordEntity, BinarySensorEntity):
    """A problem sensor that compares the records with the public address."""

    async def async_added_to_hass(self) -> None:
        """Also follow the public address, which changes on its own schedule."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.coordinator.detection.async_add_listener(self._handle_coordinator_update)
        )


class DriftSensor(_RecordsAndAddressSensor):
    """On when a record no longer holds what it should (address or TTL)."""

    def __init__(self, entry: EsddnsConfigEntry, record: ManagedRecord, key: RecordKey) -> None:
        """Compare one rrset with its desired state."""
        super().__init__(entry, DRIFT[key.type], record)
        self.key = key
        self._attr_translation_placeholders = {"type": key.type.value}

    @property
    def available(self) -> bool:
        """Drift is known only with both the record and a consensus address."""
        return super().available and self.coordinator.drift(self.key) is not None

    @property
    def is_on(self) -> bool | None:
        """Whether the record differs from what it should hold."""
        return self.coordinator.drift(self.key)


class HealthSensor(_RecordsAndAddressSensor):
    """One signal for dashboards and uptime checks: on when anything keeps DNS from being right.

    On when a record drifted, a write failed, a record can't be read, or a family a record
    needs has no fresh consensus. The attributes say which.
    """

    def __init__(self, entry: EsddnsConfigEntry) -> None:
        """Watch the whole account."""
        super().__init__(entry, HEALTH)
        self._syncer = entry.runtime_data.syncer

    @property
    def available(self) -> bool:
        """A failing read is one of the problems it reports, not a reason to go away."""
        return True

    @property
    def is_on(self) -> bool:
        """Whether something is wrong."""
        return any(self._syncer.problems().values())

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Which part is wrong; nothing when all is well."""
        return {name: found for name, found in self._syncer.problems().items() if found}
