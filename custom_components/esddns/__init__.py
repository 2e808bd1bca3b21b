"""ESDDNS: keep Gandi LiveDNS records in sync with the home's public IP address."""

from __future__ import annotations

from types import MappingProxyType

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
from .coordinator import (
    EsddnsConfigEntry,
    EsddnsData,
    RecordCoordinator,
    families_of,
    managed_records,
)
from .detection import async_acquire_detection, async_release_detection
from .entity import account_device
from .gandi import PRODUCTION_URL, Credential, CredentialKind, GandiClient
from .history import SyncHistory
from .migration import async_merged_history, async_migrate_entry, async_remove_merged
from .records import account_title
from .services import async_setup_services
from .syncer import AccountSyncer

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
    # Records added while this setup awaits are in entry.subentries but not in `families`, and
    # no update listener hears of them: compared at the end, they reload the entry.
    loaded_records = _records_of(entry)
    records = managed_records(entry)
    needed = families_of(records)
    labels = {
        family: [key.label for record in records for key in record.keys if key.family is family]
        for family in needed
    }
    detection = await async_acquire_detection(
        hass, entry.entry_id, entry.options, needed, lambda family: labels.get(family, [])
    )
    try:
        if needed and not detection.last_update_success:
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN, translation_key="no_source_answered"
            )
        await async_merged_history(hass, entry.entry_id)
        history = SyncHistory(hass, entry.entry_id)
        await history.async_load()
        coordinator = RecordCoordinator(hass, entry, gandi_client(hass, entry), detection)
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
    )
    # Made before the entities, so the records' devices can name it as their parent.
    entry.runtime_data.account_device_id = (
        dr.async_get(hass)
        .async_get_or_create(config_entry_id=entry.entry_id, **account_device(entry))
        .id
    )
    entry.async_on_unload(detection.async_add_listener(syncer.async_schedule_auto_sync))
    entry.async_on_unload(coordinator.async_add_listener(syncer.async_schedule_auto_sync))
    # Adding, changing or removing a record (a subentry) takes effect at once.
    entry.async_on_unload(
        entry.add_update_listener(
            lambda hass, entry: _async_records_changed(hass, entry, loaded_records)
        )
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    _async_remove_stale_entities(hass, entry)
    syncer.async_schedule_auto_sync()
    await _async_records_changed(hass, entry, loaded_records)
    return True


def _records_of(entry: EsddnsConfigEntry) -> dict[str, MappingProxyType[str, object]]:
    return {subentry_id: sub.data for subentry_id, sub in entry.subentries.items()}


def _domains(records: dict[str, MappingProxyType[str, object]]) -> set[str]:
    return {str(data[CONF_DOMAIN]) for data in records.values() if CONF_DOMAIN in data}


async def _async_records_changed(
    hass: HomeAssistant,
    entry: EsddnsConfigEntry,
    loaded: dict[str, MappingProxyType[str, object]],
) -> None:
    """Reload when the records changed, and keep the title naming the account's domains."""
    current = _records_of(entry)
    if current == loaded:
        return  # options and the credential reload through their own flows
    # The title names the domains, unless the user renamed the account: then it is theirs.
    named = _domains(loaded)
    ours = not named or entry.title == account_title(named)
    # Seen: the title update below calls this listener again, which must not reload twice.
    loaded.clear()
    loaded.update(current)
    domains = _domains(current)
    if ours and domains and (title := account_title(domains)) != entry.title:
        hass.config_entries.async_update_entry(entry, title=title)
    hass.config_entries.async_schedule_reload(entry.entry_id)


@callback
def _async_remove_stale_entities(hass: HomeAssistant, entry: EsddnsConfigEntry) -> None:
    """Drop the entities of record types or families the account no longer has."""
    if entry.runtime_data.platforms_done != {str(platform) for platform in PLATFORMS}:
        return
    registry = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if entity.unique_id not in entry.runtime_data.unique_ids:
            registry.async_remove(entity.entity_id)


async def async_unload_entry(hass: HomeAssistant, entry: EsddnsConfigEntry) -> bool:
    """Remove the entities and leave the shared detection."""
    if CONF_MERGED_INTO in entry.data:
        return True
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        entry.runtime_data.records.clear_repairs()
        entry.runtime_data.syncer.clear_repairs()
        await async_release_detection(hass, entry.entry_id)
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: EsddnsConfigEntry) -> None:
    """Forget the sync history of a deleted account, and its "domain missing" repairs: a setup
    waiting to retry raises them and is never unloaded."""
    await SyncHistory(hass, entry.entry_id).async_remove()
    issues.async_clear_domain_missing(
        hass, entry.entry_id, issues.domains_missing(hass, entry.entry_id)
    )
