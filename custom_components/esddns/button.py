"""The "Sync now" buttons: one for the whole account, one per record."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import EsddnsConfigEntry
from .entity import EsddnsRecordEntity, async_add_account_entities
from .errors import sync_failed
from .plan import Action

PARALLEL_UPDATES = 1

SYNC_NOW = ButtonEntityDescription(key="sync_now", translation_key="sync_now")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EsddnsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the account's button and each record's."""
    async_add_account_entities(
        entry,
        "button",
        async_add_entities,
        lambda: [SyncNowButton(entry, SYNC_NOW)],
        lambda record: [SyncNowButton(entry, SYNC_NOW, record)],
    )


class SyncNowButton(EsddnsRecordEntity, ButtonEntity):
    """Bring the account's records (or one record) in line with the public address now."""

    @property
    def available(self) -> bool:
        """A sync can always be asked for; it explains itself when it can't be done."""
        return True

    async def async_press(self) -> None:
        """Read the records at Gandi again, sync, and say which records failed.

        People press it when they suspect a record was changed elsewhere: the last hourly read
        can't tell, so the button always looks at Gandi first.
        """
        results = await self.data.syncer.async_sync(
            force=True, dry_run=False, subentry_ids=self.subentry_ids
        )
        failed = [r.key.description for r in results if r.action is Action.FAILED]
        if failed:
            raise sync_failed(failed)
