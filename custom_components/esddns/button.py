"""The "Sync now" button."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import EsddnsConfigEntry
from .entity import EsddnsRecordEntity
from .services import sync_failed
from .sync import Action

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EsddnsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the entry's button."""
    async_add_entities([SyncNowButton(entry)])
    entry.runtime_data.platforms_done.add("button")


class SyncNowButton(EsddnsRecordEntity, ButtonEntity):
    """Bring every record of the entry in line with the public address now."""

    _attr_translation_key = "sync_now"

    def __init__(self, entry: EsddnsConfigEntry) -> None:
        """Attach the button to its entry."""
        super().__init__(entry, "sync_now")

    @property
    def available(self) -> bool:
        """A sync can always be asked for; it explains itself when it can't be done."""
        return True

    async def async_press(self) -> None:
        """Read the records at Gandi again, sync, and say which records failed.

        People press it when they suspect a record was changed elsewhere: the last hourly read
        can't tell, so the button always looks at Gandi first.
        """
        results = await self.coordinator.async_sync(force=True, dry_run=False)
        failed = [
            r.key.describe(self.coordinator.domain) for r in results if r.action is Action.FAILED
        ]
        if failed:
            raise sync_failed(failed)
