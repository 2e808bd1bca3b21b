"""The base of every ESDDNS entity: an account's service device, or a record's device."""

from __future__ import annotations

from typing import Any, cast

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity, DataUpdateCoordinator

from .const import DOMAIN
from .coordinator import EsddnsConfigEntry, RecordCoordinator
from .detection import DetectionCoordinator
from .records import ManagedRecord

GANDI_ADMIN = "https://admin.gandi.net/"
# Home Assistant 2026.x links a device to its parent by registry id (it deprecates via_device,
# and logs so at every start); 2025.x knows only via_device.
VIA_DEVICE_ID = "via_device_id" in getattr(DeviceInfo, "__optional_keys__", frozenset())


def account_device(entry: EsddnsConfigEntry) -> DeviceInfo:
    """The account's device: the public addresses and the account's health.

    Its name is "ESDDNS <account>", never just a domain: the record device of ``@`` is named
    by the domain, and the two must not share entity ids.
    """
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        translation_key="account",
        translation_placeholders={"account": entry.title},
        manufacturer="ESDDNS",
        model="Gandi LiveDNS account",
        entry_type=DeviceEntryType.SERVICE,
        configuration_url=GANDI_ADMIN,
    )


def record_device(entry: EsddnsConfigEntry, record: ManagedRecord) -> DeviceInfo:
    """A record's device, named by its full name: its entities are "A record", "A drift"…"""
    fields: dict[str, Any] = {
        "identifiers": {(DOMAIN, record.subentry_id)},
        "name": record.label,
        "manufacturer": "ESDDNS",
        "model": "Gandi LiveDNS record",
        "entry_type": DeviceEntryType.SERVICE,
        "configuration_url": f"{GANDI_ADMIN}domain/{record.domain}/records",
    }
    if VIA_DEVICE_ID:
        fields["via_device_id"] = entry.runtime_data.account_device_id
    else:
        fields["via_device"] = (DOMAIN, entry.entry_id)
    device_info: DeviceInfo = cast(Any, DeviceInfo)(**fields)  # via_device_id: 2026.x only
    return device_info


class EsddnsEntity[CoordinatorT: DataUpdateCoordinator[Any]](CoordinatorEntity[CoordinatorT]):
    """An entity of an account's device, or of one of its records' devices."""

    _attr_has_entity_name = True

    def __init__(
        self,
        entry: EsddnsConfigEntry,
        coordinator: CoordinatorT,
        description: EntityDescription,
        record: ManagedRecord | None = None,
    ) -> None:
        """Attach the entity to its device; the description's key makes its unique id."""
        super().__init__(coordinator)
        self.entity_description = description
        if record is None:
            self._attr_unique_id = f"{entry.entry_id}_{description.key}"
            self._attr_device_info = account_device(entry)
        else:
            self._attr_unique_id = f"{record.subentry_id}_{description.key}"
            self._attr_device_info = record_device(entry, record)
        entry.runtime_data.unique_ids.add(self.unique_id or "")


class EsddnsRecordEntity(EsddnsEntity[RecordCoordinator]):
    """An entity fed by the account's records at Gandi."""

    def __init__(
        self,
        entry: EsddnsConfigEntry,
        description: EntityDescription,
        record: ManagedRecord | None = None,
    ) -> None:
        """Follow the account's record coordinator."""
        super().__init__(entry, entry.runtime_data.records, description, record)


class EsddnsDetectionEntity(EsddnsEntity[DetectionCoordinator]):
    """An entity fed by the shared public-address detection."""

    def __init__(self, entry: EsddnsConfigEntry, description: EntityDescription) -> None:
        """Follow the detection the account shares."""
        super().__init__(entry, entry.runtime_data.detection, description)
