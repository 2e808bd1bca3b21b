"""The `esddns.sync` service: sync now, on demand, with a report of what was done."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.translation import async_get_exception_message
from homeassistant.util.json import JsonValueType
import voluptuous as vol

from .const import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DETECT,
    ATTR_DRY_RUN,
    ATTR_FORCE,
    CONF_MERGED_FROM,
    CONF_MERGED_INTO,
    DOMAIN,
    SERVICE_SYNC,
)
from .data import EsddnsConfigEntry
from .errors import sync_failed
from .plan import Action


def _sync_schema(hass: HomeAssistant) -> vol.Schema:
    """The action's fields; an id that names no ESDDNS entry is a bad parameter like any other."""

    def esddns_entry_id(value: Any) -> str:
        entry_id = cv.string(value)
        entry = hass.config_entries.async_get_entry(entry_id)
        if (entry is None or entry.domain != DOMAIN) and _merged_into(hass, entry_id) is None:
            # vol.Invalid, so that REST answers 400 on every supported Home Assistant release.
            raise vol.Invalid(
                async_get_exception_message(DOMAIN, "entry_not_found", {"entry_id": entry_id})
            )
        return entry_id

    return vol.Schema(
        {
            vol.Optional(ATTR_CONFIG_ENTRY_ID): esddns_entry_id,
            # A person or an automation asking for a sync wants Gandi's current state, not the
            # last hourly read: re-reading costs one request per record.
            vol.Optional(ATTR_FORCE, default=True): cv.boolean,
            vol.Optional(ATTR_DETECT, default=False): cv.boolean,
            vol.Optional(ATTR_DRY_RUN, default=False): cv.boolean,
        }
    )


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register `esddns.sync`."""

    async def async_sync(call: ServiceCall) -> ServiceResponse:
        entries = _entries(hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
        report: list[JsonValueType] = []
        failed: list[str] = []
        for entry, subentry_ids in entries:
            results = await entry.runtime_data.syncer.async_sync(
                force=call.data[ATTR_FORCE],
                dry_run=call.data[ATTR_DRY_RUN],
                detect=call.data[ATTR_DETECT],
                subentry_ids=subentry_ids,
            )
            for result in results:
                report.append(result.as_dict())
                if result.action is Action.FAILED:
                    failed.append(result.key.description)
        if failed and not call.return_response:
            # Without a response to read, a failed write must not pass silently.
            raise sync_failed(failed)
        return {"records": report} if call.return_response else None

    hass.services.async_register(
        DOMAIN,
        SERVICE_SYNC,
        async_sync,
        schema=_sync_schema(hass),
        supports_response=SupportsResponse.OPTIONAL,
    )


def _merged_into(hass: HomeAssistant, entry_id: str) -> tuple[EsddnsConfigEntry, list[str]] | None:
    """The account a 0.1.0 entry was merged into by the upgrade, and the records it brought."""
    accounts: list[EsddnsConfigEntry] = hass.config_entries.async_entries(DOMAIN)
    for account in accounts:
        if entry_id in (merged := account.data.get(CONF_MERGED_FROM) or {}):
            return account, list(merged[entry_id])
    return None


def _entries(
    hass: HomeAssistant, entry_id: str | None
) -> list[tuple[EsddnsConfigEntry, list[str] | None]]:
    """The loaded accounts a call is about, each with the records to sync (None: all).

    The id of a 0.1.0 entry merged into an account stands for the records it brought.
    """
    if entry_id is None:
        # An entry the upgrade merged into another account is loaded, with nothing to sync,
        # until its removal runs.
        entries: list[EsddnsConfigEntry] = [
            entry
            for entry in hass.config_entries.async_loaded_entries(DOMAIN)
            if CONF_MERGED_INTO not in entry.data
        ]
        if not entries:
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_entries")
        return [(entry, None) for entry in entries]
    subentry_ids: list[str] | None = None
    entry: EsddnsConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if (entry is None or entry.domain != DOMAIN or CONF_MERGED_INTO in entry.data) and (
        merged := _merged_into(hass, entry_id)
    ) is not None:
        entry, subentry_ids = merged
    if (
        entry is None
        or entry.state is not ConfigEntryState.LOADED
        or CONF_MERGED_INTO in entry.data
    ):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={
                "entry_id": entry_id,
                "title": entry.title if entry is not None else entry_id,
            },
        )
    return [(entry, subentry_ids)]
