"""Sensors: the public addresses, each record's value at Gandi, the last successful sync."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import EsddnsConfigEntry
from .entity import EsddnsDetectionEntity, EsddnsRecordEntity, async_add_account_entities
from .gandi import RecordType
from .records import ManagedRecord, RecordKey, record_sensor_key
from .wan import Family

PARALLEL_UPDATES = 0

PUBLIC_ADDRESS = {
    family: SensorEntityDescription(key=f"public_{family}", translation_key=f"public_{family}")
    for family in Family
}
LAST_SYNC = SensorEntityDescription(
    key="last_sync",
    translation_key="last_sync",
    device_class=SensorDeviceClass.TIMESTAMP,
    entity_category=EntityCategory.DIAGNOSTIC,
)
# "A record", "AAAA record": what the rrset holds at Gandi.
RECORD_VALUE = {
    rtype: SensorEntityDescription(key=record_sensor_key(rtype), translation_key="record_value")
    for rtype in RecordType
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EsddnsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the account's sensors, then each record's."""
    records = entry.runtime_data.records
    async_add_account_entities(
        entry,
        "sensor",
        async_add_entities,
        lambda: [
            *(PublicAddressSensor(entry, family) for family in sorted(records.families)),
            LastSyncSensor(entry),
        ],
        lambda record: [RecordValueSensor(entry, record, rtype) for rtype in record.types],
    )


class PublicAddressSensor(EsddnsDetectionEntity, SensorEntity):
    """The agreed public address of one family; unavailable without consensus."""

    # The per-source detail changes every round: useful on screen, noise in the recorder.
    _unrecorded_attributes = frozenset(
        {"sources_asked", "sources_agreeing", "disagreeing_answers", "detection_time_ms"}
    )

    def __init__(self, entry: EsddnsConfigEntry, family: Family) -> None:
        """Follow one family's consensus."""
        super().__init__(entry, PUBLIC_ADDRESS[family])
        self.family = family

    @property
    def available(self) -> bool:
        """Only an address a quorum agreed on is shown."""
        return (
            super().available
            and self.coordinator.data is not None
            and self.coordinator.data.address(self.family) is not None
        )

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
    """What one rrset of a record holds at Gandi right now."""

    def __init__(self, entry: EsddnsConfigEntry, record: ManagedRecord, rtype: RecordType) -> None:
        """Follow one rrset of a record (by its subentry: the record's name may change)."""
        super().__init__(entry, RECORD_VALUE[rtype], record)
        self._subentry_id = record.subentry_id
        self._type = rtype
        self._attr_translation_placeholders = {"type": rtype.value}

    @property
    def _key(self) -> RecordKey | None:
        return self.coordinator.key_of(self._subentry_id, self._type)

    @property
    def available(self) -> bool:
        """Unavailable while its domain can't be read."""
        return super().available and self._key in self.coordinator.data

    @property
    def native_value(self) -> str | None:
        """The record's values; unknown while the record is absent."""
        rrset = self.coordinator.data.get(self._key) if self._key is not None else None
        return ", ".join(rrset.values) if rrset is not None else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Whether the record exists, its TTL, and what it should hold."""
        key = self._key
        rrset = self.coordinator.data.get(key) if key is not None else None
        desired = self.coordinator.desired(key) if key is not None else None
        return {
            "present": rrset is not None,
            "ttl": rrset.ttl if rrset is not None else None,
            "desired": str(desired) if desired is not None else None,
        }


class LastSyncSensor(EsddnsRecordEntity, SensorEntity):
    """When ESDDNS last wrote a record of the account successfully (kept across restarts)."""

    def __init__(self, entry: EsddnsConfigEntry) -> None:
        """Read from the account's sync history."""
        super().__init__(entry, LAST_SYNC)
        self._history = entry.runtime_data.history

    @property
    def available(self) -> bool:
        """The history is local: always available."""
        return True

    @property
    def native_value(self) -> datetime | None:
        """The time of the last successful write."""
        return self._history.last_success
