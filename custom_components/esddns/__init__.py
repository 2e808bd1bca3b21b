"""ESDDNS: keep Gandi LiveDNS records in sync with the home's public IP address."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv, entity_registry as er
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .const import CONF_API_URL, CONF_CREDENTIAL_KIND, CONF_SECRET, DOMAIN
from .coordinator import (
    EsddnsConfigEntry,
    EsddnsData,
    RecordCoordinator,
    async_acquire_wan,
    async_release_wan,
)
from .gandi import PRODUCTION_URL, Credential, CredentialKind, GandiClient
from .history import SyncHistory
from .services import async_setup_services

PLATFORMS = [Platform.BINARY_SENSOR, Platform.BUTTON, Platform.SENSOR]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's services once, whatever entries exist."""
    async_setup_services(hass)
    return True


def gandi_client(hass: HomeAssistant, entry: EsddnsConfigEntry) -> GandiClient:
    """The Gandi client an entry's settings describe, on Home Assistant's shared session."""
    return GandiClient(
        async_get_clientsession(hass),
        Credential(CredentialKind(entry.data[CONF_CREDENTIAL_KIND]), entry.data[CONF_SECRET]),
        entry.data.get(CONF_API_URL, PRODUCTION_URL),
    )


async def async_setup_entry(hass: HomeAssistant, entry: EsddnsConfigEntry) -> bool:
    """Join the shared detection, read the records, then create the entities."""
    wan = await async_acquire_wan(hass, entry)
    try:
        if not wan.last_update_success:
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN, translation_key="no_source_answered"
            )
        history = SyncHistory(hass, entry.entry_id)
        await history.async_load()
        records = RecordCoordinator(hass, entry, gandi_client(hass, entry), wan, history)
        await records.async_config_entry_first_refresh()
    except BaseException:
        await async_release_wan(hass, entry)
        raise
    entry.runtime_data = EsddnsData(
        client=records.client, wan=wan, records=records, history=history
    )
    entry.async_on_unload(wan.async_add_listener(records.async_schedule_auto_sync))
    entry.async_on_unload(records.async_add_listener(records.async_schedule_auto_sync))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    _async_remove_stale_entities(hass, entry)
    records.async_schedule_auto_sync()
    return True


@callback
def _async_remove_stale_entities(hass: HomeAssistant, entry: EsddnsConfigEntry) -> None:
    """Drop the entities of records (or families) that the entry no longer manages."""
    if entry.runtime_data.platforms_done != {str(platform) for platform in PLATFORMS}:
        return
    registry = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if entity.unique_id not in entry.runtime_data.unique_ids:
            registry.async_remove(entity.entity_id)


async def async_unload_entry(hass: HomeAssistant, entry: EsddnsConfigEntry) -> bool:
    """Remove the entities and leave the shared detection."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        entry.runtime_data.records.clear_repairs()
        await async_release_wan(hass, entry)
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: EsddnsConfigEntry) -> None:
    """Forget the sync history of a deleted entry."""
    await SyncHistory(hass, entry.entry_id).async_remove()
