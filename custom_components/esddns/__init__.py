"""ESDDNS: keep Gandi LiveDNS records in sync with the home's public IP address."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from . import issues
from .const import (
    CONF_API_URL,
    CONF_CREDENTIAL_KIND,
    CONF_DOMAIN,
    CONF_MERGED_INTO,
    CONF_SECRET,
    DOMAIN,
)
from .coordinator import EsddnsConfigEntry, EsddnsData, RecordCoordinator
from .detection import async_acquire_detection, async_release_detection
from .entity import account_device
from .gandi import PRODUCTION_URL, Credential, CredentialKind, GandiClient
from .history import SyncHistory
from .migration import async_merged_history, async_migrate_entry, async_remove_merged
from .records import AccountRecords, ManagedRecord, account_title
from .services import async_setup_services
from .syncer import AccountSyncer
from .wan import Family

__all__ = ["async_migrate_entry"]

PLATFORMS = [Platform.BINARY_SENSOR, Platform.BUTTON, Platform.SENSOR]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's services once, whatever entries exist."""
    async_setup_services(hass)
    return True


def gandi_client(hass: HomeAssistant, entry: EsddnsConfigEntry) -> GandiClient:
    """The Gandi client an account's settings describe, on Home Assistant's shared session."""
    return GandiClient(
        async_get_clientsession(hass),
        Credential(CredentialKind(entry.data[CONF_CREDENTIAL_KIND]), entry.data[CONF_SECRET]),
        entry.data.get(CONF_API_URL, PRODUCTION_URL),
    )


async def async_setup_entry(hass: HomeAssistant, entry: EsddnsConfigEntry) -> bool:
    """Join the shared detection, read the records, then create the entities."""
    if CONF_MERGED_INTO in entry.data:
        # Merged into another account by the migration, which removes it; if Home Assistant
        # stopped before that, it is removed now.
        async_remove_merged(hass, entry.entry_id)
        return True
    subentries = _subentries_of(entry)
    read = AccountRecords.read(entry.subentries)
    detection = await async_acquire_detection(
        hass, entry.entry_id, entry.options, read.families, _labels(read.records)
    )
    try:
        if read.families and not detection.last_update_success:
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN, translation_key="no_source_answered"
            )
        await async_merged_history(hass, entry.entry_id)
        history = SyncHistory(hass, entry.entry_id)
        await history.async_load()
        coordinator = RecordCoordinator(
            hass, entry, gandi_client(hass, entry), detection, read.records
        )
        await coordinator.async_config_entry_first_refresh()
    except BaseException:
        await async_release_detection(hass, entry.entry_id)
        raise
    syncer = AccountSyncer(hass, coordinator, history)
    entry.runtime_data = EsddnsData(
        client=coordinator.client,
        detection=detection,
        records=coordinator,
        syncer=syncer,
        history=history,
        account_records=read,
        subentries=subentries,
    )
    issues.async_records_unusable(hass, entry.entry_id, read.unusable)
    # Made before the entities, so the records' devices can name it as their parent.
    entry.runtime_data.account_device_id = (
        dr.async_get(hass)
        .async_get_or_create(config_entry_id=entry.entry_id, **account_device(entry))
        .id
    )
    entry.async_on_unload(detection.async_add_listener(syncer.async_schedule_auto_sync))
    entry.async_on_unload(coordinator.async_add_listener(syncer.async_schedule_auto_sync))
    # Adding, changing or removing a record (a subentry) takes effect at once, without a
    # reload: the account's other entities stay available.
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    _async_remove_stale_entities(hass, entry)
    syncer.async_schedule_auto_sync()
    # Records added while this setup awaited.
    await _async_apply_records(hass, entry)
    return True


def _subentries_of(entry: EsddnsConfigEntry) -> dict[str, Mapping[str, Any]]:
    return {subentry_id: sub.data for subentry_id, sub in entry.subentries.items()}


def _domains(subentries: Mapping[str, Mapping[str, Any]]) -> set[str]:
    return {str(data[CONF_DOMAIN]) for data in subentries.values() if CONF_DOMAIN in data}


def _labels(records: Iterable[ManagedRecord]) -> dict[Family, list[str]]:
    """The records of each family, for the detection's repairs."""
    labels: dict[Family, list[str]] = {}
    for record in records:
        for key in record.keys:
            labels.setdefault(key.family, []).append(key.label)
    return labels


async def _async_entry_updated(hass: HomeAssistant, entry: EsddnsConfigEntry) -> None:
    """Records changed, or the title did; options and the credential reload through their own
    flows."""
    await _async_apply_records(hass, entry)


async def _async_apply_records(hass: HomeAssistant, entry: EsddnsConfigEntry) -> None:
    """Take added, changed and removed records into account, in place.

    The title follows the records' domains unless the user renamed the account; the devices
    follow the names; the detection learns of new families (and asks for them at once); the
    records are read; new entities appear, those of dropped types or families go.
    """
    data = entry.runtime_data
    async with data.records_lock:
        current = _subentries_of(entry)
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
        kept = {key for record in read.records for key in record.keys}
        data.syncer.forget(set(data.records.keys) - kept)
        data.records.set_records(read.records)
        await async_acquire_detection(
            hass, entry.entry_id, entry.options, read.families, _labels(read.records)
        )
        await data.records.async_refresh()
        _async_remove_stale_entities(hass, entry)


@callback
def _async_update_devices(
    hass: HomeAssistant, entry: EsddnsConfigEntry, records: Iterable[ManagedRecord]
) -> None:
    """The account's device is named by its title, a record's device by the record."""
    registry = dr.async_get(hass)
    registry.async_get_or_create(config_entry_id=entry.entry_id, **account_device(entry))
    for record in records:
        device = next(
            (
                device
                for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
                if (DOMAIN, record.subentry_id) in device.identifiers
            ),
            None,
        )
        if device is not None and device.name != record.label:
            registry.async_update_device(device.id, name=record.label)


@callback
def _async_remove_stale_entities(hass: HomeAssistant, entry: EsddnsConfigEntry) -> None:
    """Drop the entities of record types or families the account no longer has."""
    current = entry.runtime_data.unique_ids
    if set(current) != {str(platform) for platform in PLATFORMS}:
        return  # a platform that failed must not cost its entities
    wanted = set().union(*current.values())
    registry = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if entity.unique_id not in wanted:
            registry.async_remove(entity.entity_id)


async def async_unload_entry(hass: HomeAssistant, entry: EsddnsConfigEntry) -> bool:
    """Remove the entities and leave the shared detection."""
    if CONF_MERGED_INTO in entry.data:
        return True
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        entry.runtime_data.records.clear_repairs()
        entry.runtime_data.syncer.clear_repairs()
        issues.async_records_unusable(hass, entry.entry_id, ())
        await async_release_detection(hass, entry.entry_id)
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: EsddnsConfigEntry) -> None:
    """Forget the sync history of a deleted account, and its "domain missing" repairs: a setup
    waiting to retry raises them and is never unloaded."""
    await SyncHistory(hass, entry.entry_id).async_remove()
    issues.async_clear_domain_missing(
        hass, entry.entry_id, issues.domains_missing(hass, entry.entry_id)
    )
    issues.async_records_unusable(hass, entry.entry_id, ())
