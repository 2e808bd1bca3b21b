"""Binary sensors: the entry's health, and the drift of each record from the public address."""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import BinarySensorDeviceClass, BinarySensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import EsddnsConfigEntry
from .entity import EsddnsRecordEntity
from .sync import RecordKey

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EsddnsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the entry's health sensor and one drift sensor per managed record."""
    entities: list[BinarySensorEntity] = [HealthSensor(entry)]
    entities += [DriftSensor(entry, key) for key in entry.runtime_data.records.keys]
    async_add_entities(entities)
    entry.runtime_data.platforms_done.add("binary_sensor")


class _RecordsAndAddressSensor(EsddnsRecordEntity, BinarySensorEntity):
    """A problem sensor that compares the records with the public address."""

    _attr_device_class = BinarySensorDeviceClass.PROBLEM

    async def async_added_to_hass(self) -> None:
        """Also follow the public address, which changes on its own schedule."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.coordinator.wan.async_add_listener(self._handle_coordinator_update)
        )


class DriftSensor(_RecordsAndAddressSensor):
    """On when a record no longer holds the public address."""

    _attr_translation_key = "drift"

    def __init__(self, entry: EsddnsConfigEntry, key: RecordKey) -> None:
        """Compare one record with the public address of its family."""
        super().__init__(entry, f"drift_{key.name}_{key.type}")
        self.key = key
        self._attr_translation_placeholders = {
            "record": key.label(self.coordinator.domain),
            "type": key.type.value,
        }

    @property
    def available(self) -> bool:
        """Drift is known only with both the record and a consensus address."""
        return super().available and self.coordinator.drift(self.key) is not None

    @property
    def is_on(self) -> bool | None:
        """Whether the record differs from the public address."""
        return self.coordinator.drift(self.key)


class HealthSensor(_RecordsAndAddressSensor):
    """One signal for dashboards and uptime checks: on when anything keeps DNS from being right.

    On when a record drifted, a write failed, the records can't be read, or a family a record
    needs has no fresh consensus. The attributes say which.
    """

    _attr_translation_key = "dns_up_to_date"

    def __init__(self, entry: EsddnsConfigEntry) -> None:
        """Watch the whole entry."""
        super().__init__(entry, "dns_up_to_date")

    @property
    def available(self) -> bool:
        """A failing read is one of the problems it reports, not a reason to go away."""
        return True

    @property
    def is_on(self) -> bool:
        """Whether something is wrong."""
        return any(self.coordinator.problems().values())

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Which part is wrong; nothing when all is well."""
        return {name: found for name, found in self.coordinator.problems().items() if found}
