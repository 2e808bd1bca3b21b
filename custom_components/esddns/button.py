"""The "Sync now" buttons: one for the whole account, one per record."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import EsddnsConfigEntry
from .entity import EsddnsRecordEntity, async_add_account_entities
from .errors import sync_failed
from .records import ManagedRecord
from .sync import Action

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
        lambda: [SyncNowButton(entry)],
        lambda record: [SyncNowButton(entry, record)],
    )


class SyncNowButton(EsddnsRecordEntity, ButtonEntity):
    """Bring the account's records (or one record) in line with the public address now."""

    def __init__(self, entry: EsddnsConfigEntry, record: ManagedRecord | None = None) -> None:
        """Attach the button to the account, or to one record."""
        super().__init__(entry, SYNC_NOW, record)
        self._syncer = entry.runtime_data.syncer
        self._subentry_ids = [record.subentry_id] if record is not None else None

    @property
    def available(self) -> bool:
        """A sync can always be asked for; it explains itself when it can't be done."""
        return True

    async def async_press(self) -> None:
        """Read the records at Gandi again, sync, and say which records failed.

        People press it when they suspect a record was changed elsewhere: the last hourly read
        can't tell, so the button always looks at Gandi first.
        """
        results = await self._syncer.async_sync(
            force=True, dry_run=False, subentry_ids=self._subentry_ids
        )
        failed = [r.key.description for r in results if r.action is Action.FAILED]
        if failed:
            raise sync_failed(failed)
