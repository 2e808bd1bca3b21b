"""The base of every ESDDNS entity: one service device per entry, names from translations."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import EsddnsConfigEntry, RecordCoordinator, WanIpCoordinator


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


class EsddnsRecordEntity(CoordinatorEntity[RecordCoordinator]):
    """An entity fed by the entry's records at Gandi."""

    _attr_has_entity_name = True

    def __init__(self, entry: EsddnsConfigEntry, key: str) -> None:
        """Attach the entity to its entry's device."""
        super().__init__(entry.runtime_data.records)
        self._attr_unique_id = f"{entry.entry_id}_{key}"
        self._attr_device_info = device_info(entry)
        entry.runtime_data.unique_ids.add(self.unique_id or "")


class EsddnsWanEntity(CoordinatorEntity[WanIpCoordinator]):
    """An entity fed by the shared public-IP detection."""

    _attr_has_entity_name = True

    def __init__(self, entry: EsddnsConfigEntry, key: str) -> None:
        """Attach the entity to its entry's device."""
        super().__init__(entry.runtime_data.wan)
        self._attr_unique_id = f"{entry.entry_id}_{key}"
        self._attr_device_info = device_info(entry)
        entry.runtime_data.unique_ids.add(self.unique_id or "")
