"""ESDDNS: keep Gandi LiveDNS records in sync with the home's public address."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.typing import ConfigType

from . import issues
from .const import CONF_MERGED_INTO, DOMAIN, PLATFORMS
from .coordinator import RecordCoordinator
from .data import EsddnsConfigEntry, EsddnsData, gandi_client
from .detection import DetectionSettings
from .entity import account_device
from .expiry import TokenExpiry
from .gandi import RateLimitGate
from .health import AccountHealth
from .history import SyncHistory
from .migration import async_merged_history, async_migrate_entry, async_remove_merged
from .record_changes import (
    async_apply_records,
    async_remove_stale_entities,
    labels_of,
    subentries_of,
)
from .records import AccountRecords
from .services import async_setup_services
from .sharing import async_acquire_detection, async_release_detection
from .syncer import AccountSyncer

__all__ = ["async_migrate_entry"]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's services once, whatever entries exist; drop the detection
    repairs of settings no account has any more."""
    async_setup_services(hass)
    issues.async_clear_detection_orphans(
        hass,
        {
            DetectionSettings.from_options(entry.options).fingerprint
            for entry in hass.config_entries.async_entries(DOMAIN)
        },
    )
    return True


async def async_setup_entry(hass: HomeAssistant, entry: EsddnsConfigEntry) -> bool:
    """Join the shared detection, read the records, then create the entities."""
    if CONF_MERGED_INTO in entry.data:
        # Merged into another account by the migration, which removes it; if Home Assistant
        # stopped before that, it is removed now.
        async_remove_merged(hass, entry.entry_id)
        return True
    subentries = subentries_of(entry)
    read = AccountRecords.read(entry.subentries)
    shared = await async_acquire_detection(
        hass, entry.entry_id, entry.options, read.families, labels_of(read.records)
    )
    try:
        if read.families and not shared.coordinator.last_update_success:
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN, translation_key="no_source_answered"
            )
        await async_merged_history(hass, entry.entry_id)
        history = SyncHistory(hass, entry.entry_id)
        await history.async_load()
        # The syncer's writes and the coordinator's reads share the account's gate.
        gate = RateLimitGate()
        client = gandi_client(hass, entry.data, gate)
        records = RecordCoordinator(hass, entry, client, read.records)
        try:
            await records.async_config_entry_first_refresh()
        finally:
            # A domain Gandi no longer knows says so, also while the setup waits to retry.
            issues.async_domains_missing(hass, entry.entry_id, records.missing_domains, clear=False)
    except BaseException:
        await async_release_detection(hass, entry.entry_id)
        raise
    syncer = AccountSyncer(hass, entry, records, shared, history)
    expiry = TokenExpiry(hass, entry)
    entry.runtime_data = EsddnsData(
        client=records.client,
        gate=gate,
        detection=shared.coordinator,
        shared=shared,
        records=records,
        syncer=syncer,
        health=AccountHealth(syncer, expiry),
        history=history,
        expiry=expiry,
        account_records=read,
        subentries=subentries,
    )
    issues.async_records_unusable(hass, entry.entry_id, read.unusable)
    entry.async_on_unload(expiry.async_start())
    # Made before the entities, so the records' devices can name it as their parent.
    entry.runtime_data.account_device_id = (
        dr.async_get(hass)
        .async_get_or_create(config_entry_id=entry.entry_id, **account_device(entry))
        .id
    )
    entry.async_on_unload(shared.coordinator.async_add_listener(syncer.async_schedule_auto_sync))
    entry.async_on_unload(records.async_add_listener(syncer.async_schedule_auto_sync))
    # Adding, changing or removing a record (a subentry) takes effect at once, without a
    # reload (record_changes.py); options and the credential reload through their flows.
    entry.async_on_unload(entry.add_update_listener(async_apply_records))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    async_remove_stale_entities(hass, entry)
    syncer.async_schedule_auto_sync()
    # Records added while this setup awaited.
    await async_apply_records(hass, entry)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: EsddnsConfigEntry) -> bool:
    """Remove the entities and leave the shared detection."""
    if CONF_MERGED_INTO in entry.data:
        return True
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        entry.runtime_data.syncer.clear_repairs()
        issues.async_records_unusable(hass, entry.entry_id, ())
        issues.async_token_expires(hass, entry.entry_id, entry.title, None)
        await async_release_detection(hass, entry.entry_id)
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: EsddnsConfigEntry) -> None:
    """Forget the sync history of a deleted account, and its repairs: a setup waiting to retry
    raises them and is never unloaded."""
    await SyncHistory(hass, entry.entry_id).async_remove()
    issues.async_domains_missing(hass, entry.entry_id, ())
    issues.async_records_unusable(hass, entry.entry_id, ())
    issues.async_token_expires(hass, entry.entry_id, entry.title, None)
