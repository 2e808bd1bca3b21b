"""Records added, changed and removed, applied to a loaded account in place.

No reload: the account's other entities stay available. The title follows the records' domains
unless the user renamed the account; devices follow the records' names; the detection learns of
new families (and asks for them at once); the records are read again; the platforms add the new
entities (entity.async_add_account_entities), and those of dropped types or families go.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er

from . import issues
from .const import CONF_DOMAIN, DOMAIN, PLATFORMS
from .data import EsddnsConfigEntry
from .entity import account_device
from .records import AccountRecords, ManagedRecord, account_title
from .sharing import RecordLabels, async_acquire_detection, async_release_detection


def subentries_of(entry: EsddnsConfigEntry) -> dict[str, Mapping[str, Any]]:
    """The data of an account's subentries, to tell when they change."""
    return {subentry_id: sub.data for subentry_id, sub in entry.subentries.items()}


def labels_of(records: Iterable[ManagedRecord]) -> RecordLabels:
    """The records of each family, for the detection's repairs."""
    labels: dict[Any, list[str]] = {}
    for record in records:
        for key in record.keys:
            labels.setdefault(key.family, []).append(key.label)
    return labels


async def async_apply_records(hass: HomeAssistant, entry: EsddnsConfigEntry) -> None:
    """Take the account's records as its subentries now say (nothing when they didn't change:
    options and the credential reload through their own flows)."""
    if _gone(entry):
        return
    data = entry.runtime_data
    async with data.records_lock:
        if _gone(entry):
            return
        current = subentries_of(entry)
        if current == data.subentries:
            return
        named = _domains(data.subentries)
        ours = not named or entry.title == account_title(named)
        data.subentries = current
        read = AccountRecords.read(entry.subentries)
        data.account_records = read
        issues.async_records_unusable(hass, entry.entry_id, read.unusable)
        domains = _domains(current)
        if ours and domains and (title := account_title(domains)) != entry.title:
            hass.config_entries.async_update_entry(entry, title=title)
        _async_update_devices(hass, entry, read.records)
        await data.syncer.async_take_records(read.records)
        if _gone(entry):
            return
        # The platforms take the new records now, whether the next read works or not.
        data.records.async_update_listeners()
        async_remove_stale_entities(hass, entry)
        await async_acquire_detection(
            hass, entry.entry_id, entry.options, read.families, labels_of(read.records)
        )
        if _gone(entry):
            # Unloaded while joining: its unload released the detection before this joined.
            await async_release_detection(hass, entry.entry_id)
            return
        await data.records.async_refresh()
        if not _gone(entry):
            async_remove_stale_entities(hass, entry)


def _gone(entry: EsddnsConfigEntry) -> bool:
    """Whether the account was unloaded (deleted, disabled, reloading) since a change began."""
    return entry.state not in (ConfigEntryState.LOADED, ConfigEntryState.SETUP_IN_PROGRESS)


def _domains(subentries: Mapping[str, Mapping[str, Any]]) -> set[str]:
    return {str(data[CONF_DOMAIN]) for data in subentries.values() if CONF_DOMAIN in data}


@callback
def _async_update_devices(
    hass: HomeAssistant, entry: EsddnsConfigEntry, records: Iterable[ManagedRecord]
) -> None:
    """The account's device is named by its title, a record's device by the record."""
    registry = dr.async_get(hass)
    registry.async_get_or_create(config_entry_id=entry.entry_id, **account_device(entry))
    devices = dr.async_entries_for_config_entry(registry, entry.entry_id)
    for record in records:
        for device in devices:
            if (DOMAIN, record.subentry_id) in device.identifiers and device.name != record.label:
                registry.async_update_device(device.id, name=record.label)


@callback
def async_remove_stale_entities(hass: HomeAssistant, entry: EsddnsConfigEntry) -> None:
    """Drop the entities of record types or families the account no longer has."""
    current = entry.runtime_data.unique_ids
    if set(current) != {str(platform) for platform in PLATFORMS}:
        return  # a platform that failed must not cost its entities
    wanted = set().union(*current.values())
    registry = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if entity.unique_id not in wanted:
            registry.async_remove(entity.entity_id)
