"""The base of every ESDDNS entity: one service device per entry, names from translations."""

from __future__ import annotations

from typing import Any

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity, DataUpdateCoordinator

from .const import DOMAIN
from .coordinator import DetectionCoordinator, EsddnsConfigEntry, RecordCoordinator


def device_info(entry: EsddnsConfigEntry) -> DeviceInfo:
    """The entry's device: the Gandi domain ESDDNS keeps in sync."""
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        name=entry.title,
        manufacturer="ESDDNS",
        model="Gandi LiveDNS",
        entry_type=DeviceEntryType.SERVICE,
        configuration_url="https://admin.gandi.net/",
    )


class EsddnsEntity[CoordinatorT: DataUpdateCoordinator[Any]](CoordinatorEntity[CoordinatorT]):
    """An entity of an entry's device, fed by one of its coordinators."""

    _attr_has_entity_name = True

    def __init__(self, entry: EsddnsConfigEntry, coordinator: CoordinatorT, key: str) -> None:
        """Attach the entity to its entry's device; ``key`` makes its unique id."""
        super().__init__(coordinator)
        self._attr_unique_id = f"{entry.entry_id}_{key}"
        self._attr_device_info = device_info(entry)
        entry.runtime_data.unique_ids.add(self.unique_id or "")


class EsddnsRecordEntity(EsddnsEntity[RecordCoordinator]):
    """An entity fed by the entry's records at Gandi."""

    def __init__(self, entry: EsddnsConfigEntry, key: str) -> None:
        """Follow the entry's record coordinator."""
        super().__init__(entry, entry.runtime_data.records, key)


class EsddnsDetectionEntity(EsddnsEntity[DetectionCoordinator]):
    """An entity fed by the shared public-IP detection."""

    def __init__(self, entry: EsddnsConfigEntry, key: str) -> None:
        """Follow the detection the entry shares."""
        super().__init__(entry, entry.runtime_data.wan, key)
