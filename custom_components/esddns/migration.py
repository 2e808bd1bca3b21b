"""Placeholder until the migration lands (helper branch `migrate`)."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from .const import ENTRY_VERSION


async def async_migrate_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Refuse anything but the current version, until the migration lands."""
    return entry.version == ENTRY_VERSION
