"""Sensors: the public addresses, each record's value at Gandi, the last successful sync."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import EsddnsConfigEntry
from .entity import EsddnsDetectionEntity, EsddnsRecordEntity
from .sync import RecordKey
from .wan import Family

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EsddnsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the entry's sensors."""
    records = entry.runtime_data.records
    families = sorted({key.family for key in records.keys})
    entities: list[SensorEntity] = [PublicIpSensor(entry, family) for family in families]
    entities += [RecordValueSensor(entry, key) for key in records.keys]
    entities.append(LastSyncSensor(entry))
    async_add_entities(entities)
    entry.runtime_data.platforms_done.add("sensor")


class PublicIpSensor(EsddnsDetectionEntity, SensorEntity):
    """The agreed public address of one family; unavailable without consensus."""

    # The per-source detail changes every round: useful on screen, noise in the recorder.
    _unrecorded_attributes = frozenset(
        {"sources_asked", "sources_agreeing", "disagreeing_answers", "detection_time_ms"}
    )

    def __init__(self, entry: EsddnsConfigEntry, family: Family) -> None:
        """Follow one family's consensus."""
        super().__init__(entry, f"public_{family.value}")
        self.family = family
        self._attr_translation_key = f"public_{family.value}"

    @property
    def available(self) -> bool:
        """Only an address a quorum agreed on is shown."""
        return super().available and self.coordinator.data.address(self.family) is not None

    @property
    def native_value(self) -> str | None:
        """The public address."""
        address = self.coordinator.data.address(self.family)
        return str(address) if address is not None else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Who was asked, who agreed, who said something else, and how long it took."""
        detection = self.coordinator.data.detections[self.family]
        attributes: dict[str, Any] = {
            "sources_asked": len(detection.outcomes),
            "sources_agreeing": sorted(o.source.name for o in detection.agreeing),
            "detection_time_ms": round(detection.elapsed_ms, 1),
        }
        disagreeing = sorted(f"{o.address} ({o.source.name})" for o in detection.disagreeing)
        if disagreeing:  # no blank row when every source agreed
            attributes["disagreeing_answers"] = disagreeing
        return attributes


class RecordValueSensor(EsddnsRecordEntity, SensorEntity):
    """What one record holds at Gandi right now."""

    _attr_translation_key = "record_value"

    def __init__(self, entry: EsddnsConfigEntry, key: RecordKey) -> None:
        """Follow one managed rrset."""
        super().__init__(entry, f"record_{key.name}_{key.type}")
        self.key = key
        self._attr_translation_placeholders = {
            "record": key.label(self.coordinator.domain),
            "type": key.type.value,
        }

    @property
    def native_value(self) -> str | None:
        """The record's values; unknown while the record is absent."""
        rrset = self.coordinator.data.get(self.key)
        return ", ".join(rrset.values) if rrset is not None else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Whether the record exists, and its TTL."""
        rrset = self.coordinator.data.get(self.key)
        return {"present": rrset is not None, "ttl": rrset.ttl if rrset is not None else None}


class LastSyncSensor(EsddnsRecordEntity, SensorEntity):
    """When ESDDNS last wrote a record successfully (kept across restarts)."""

    _attr_translation_key = "last_sync"
    _attr_device_class = SensorDeviceClass.TIMESTAMP
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, entry: EsddnsConfigEntry) -> None:
        """Read from the entry's sync history."""
        super().__init__(entry, "last_sync")
        self._history = entry.runtime_data.history

    @property
    def available(self) -> bool:
        """The history is local: always available."""
        return True

    @property
    def native_value(self) -> datetime | None:
        """The time of the last successful write."""
        return self._history.last_success
