"""The base of every ESDDNS entity: an account's service device, or a record's device."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity, DataUpdateCoordinator

from .const import DOMAIN
from .coordinator import RecordCoordinator
from .data import EsddnsConfigEntry
from .detection import DetectionCoordinator
from .gandi import RecordType
from .records import ManagedRecord, RecordKey

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
    """An entity of an account's device, or of one of its records' devices.

    A record's entity follows its record by subentry (and type), not by name: a record renamed
    keeps its entities.
    """

    _attr_has_entity_name = True

    def __init__(
        self,
        entry: EsddnsConfigEntry,
        coordinator: CoordinatorT,
        description: EntityDescription,
        record: ManagedRecord | None = None,
        rtype: RecordType | None = None,
    ) -> None:
        """Attach the entity to its device; the description's key makes its unique id."""
        super().__init__(coordinator)
        self.entity_description = description
        self.data = entry.runtime_data
        self._subentry_id = record.subentry_id if record is not None else None
        self._type = rtype
        if rtype is not None:
            self._attr_translation_placeholders = {"type": rtype.value}
        if record is None:
            self._attr_unique_id = f"{entry.entry_id}_{description.key}"
            self._attr_device_info = account_device(entry)
        else:
            self._attr_unique_id = f"{record.subentry_id}_{description.key}"
            self._attr_device_info = record_device(entry, record)

    @property
    def key(self) -> RecordKey | None:
        """The rrset this entity is about (None for the account's and a record's button)."""
        if self._subentry_id is None or self._type is None:
            return None
        return self.data.records.key_of(self._subentry_id, self._type)

    @property
    def subentry_ids(self) -> list[str] | None:
        """The records this entity covers: its own, or every record of the account (None)."""
        return [self._subentry_id] if self._subentry_id is not None else None


class EsddnsRecordEntity(EsddnsEntity[RecordCoordinator]):
    """An entity fed by the account's records at Gandi, and by the public address it compares
    them with."""

    def __init__(
        self,
        entry: EsddnsConfigEntry,
        description: EntityDescription,
        record: ManagedRecord | None = None,
        rtype: RecordType | None = None,
    ) -> None:
        """Follow the account's record coordinator."""
        super().__init__(entry, entry.runtime_data.records, description, record, rtype)

    async def async_added_to_hass(self) -> None:
        """Also follow the public address, which changes on its own schedule."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.data.detection.async_add_listener(self._handle_coordinator_update)
        )


class EsddnsDetectionEntity(EsddnsEntity[DetectionCoordinator]):
    """An entity fed by the shared public-address detection alone (updating it detects)."""

    def __init__(self, entry: EsddnsConfigEntry, description: EntityDescription) -> None:
        """Follow the detection the account shares."""
        super().__init__(entry, entry.runtime_data.detection, description)


@callback
def async_add_account_entities(
    entry: EsddnsConfigEntry,
    platform: str,
    async_add_entities: AddConfigEntryEntitiesCallback,
    account: Callable[[], Iterable[Entity]],
    of_record: Callable[[ManagedRecord], Iterable[Entity]],
) -> None:
    """Add the account's entities and each record's, now and whenever records change.

    Records are added, changed and removed without a reload, so that the account's other
    entities stay available: a record (or a type, or a family) that appears gets its entities
    at the next read of the records. Those of a removed record go with its subentry; those of a
    dropped type or family are removed by the setup (``unique_ids`` says which are current).
    """
    known: set[str] = set()

    @callback
    def async_add_new() -> None:
        wanted: dict[str | None, list[Entity]] = {None: list(account())}
        for record in entry.runtime_data.records.records:
            if record.subentry_id in entry.subentries:  # not one being deleted
                wanted[record.subentry_id] = list(of_record(record))
        current = {entity.unique_id or "" for entities in wanted.values() for entity in entities}
        entry.runtime_data.unique_ids[platform] = current
        known.intersection_update(current)
        for subentry_id, entities in wanted.items():
            new = [entity for entity in entities if entity.unique_id not in known]
            if new:
                known.update(entity.unique_id or "" for entity in new)
                async_add_entities(new, config_subentry_id=subentry_id)

    async_add_new()
    entry.async_on_unload(entry.runtime_data.records.async_add_listener(async_add_new))
