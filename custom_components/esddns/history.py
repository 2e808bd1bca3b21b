"""The last syncs of an account, kept across restarts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TypedDict

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN, HISTORY_LENGTH
from .plan import Action, RecordResult

STORAGE_VERSION = 1


class HistoryItem(TypedDict):
    """One record's outcome in one sync, as stored."""

    time: str
    record: str
    type: str
    before: list[str] | None
    after: list[str] | None
    result: str
    reason: str | None


class SyncHistory:
    """A capped list of sync outcomes in `.storage/esddns.<entry_id>`."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Bind the history to its entry's store."""
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}")
        self._items: list[HistoryItem] = []

    @property
    def items(self) -> list[HistoryItem]:
        """Newest first."""
        return list(self._items)

    @property
    def last_success(self) -> datetime | None:
        """When a record was last written successfully."""
        for item in self._items:
            if item["result"] == Action.UPDATED:
                return dt_util.parse_datetime(item["time"])
        return None

    async def async_load(self) -> None:
        """Read what an earlier run kept; a damaged file starts an empty history."""
        stored = await self._store.async_load()
        items = stored.get("items") if isinstance(stored, dict) else None
        self._items = [item for item in items if _valid(item)] if isinstance(items, list) else []

    async def async_record(self, results: list[RecordResult]) -> None:
        """Keep the outcomes that changed or tried to change something, then save at once."""
        now = dt_util.utcnow().isoformat()
        kept: list[HistoryItem] = [
            {
                "time": now,
                "record": result.key.label,
                "type": result.key.type.value,
                "before": list(result.before) if result.before is not None else None,
                "after": list(result.after) if result.after is not None else None,
                "result": result.action.value,
                "reason": result.reason,
            }
            for result in results
            if result.action in (Action.UPDATED, Action.FAILED)
        ]
        if not kept:
            return
        self._items = (kept + self._items)[:HISTORY_LENGTH]
        await self._store.async_save({"items": self._items})

    async def async_remove(self) -> None:
        """Delete the file when the entry is removed."""
        await self._store.async_remove()


async def async_merge_histories(
    hass: HomeAssistant, entry_id: str, merged_entry_ids: Iterable[str]
) -> None:
    """Fold the histories of entries merged into ``entry_id`` into its own, newest first.

    Items name their record in full, so they stay unambiguous side by side. The merged entries'
    files are left for their removal to delete.
    """
    history = SyncHistory(hass, entry_id)
    await history.async_load()
    items = history.items
    # A migration run again (Home Assistant stopped before saving it) must not copy them twice.
    seen = {_identity(item) for item in items}
    for merged_id in merged_entry_ids:
        merged = SyncHistory(hass, merged_id)
        await merged.async_load()
        items += [item for item in merged.items if _identity(item) not in seen]
    if len(items) == len(history.items):
        return
    # Stable: at equal times the account's own items stay first.
    items.sort(key=_when, reverse=True)
    history._items = items[:HISTORY_LENGTH]
    await history._store.async_save({"items": history._items})


def _identity(item: HistoryItem) -> tuple[str, str, str, str]:
    return (item["time"], item["record"], item["type"], item["result"])


def _when(item: HistoryItem) -> datetime:
    # Stored items always parse (see _valid); 0.1.0 wrote them in UTC, naive ones are read so.
    parsed = dt_util.parse_datetime(item["time"]) or datetime.min
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _valid(item: object) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("time"), str)
        and dt_util.parse_datetime(item["time"]) is not None
        and isinstance(item.get("record"), str)
        and isinstance(item.get("type"), str)
        and isinstance(item.get("result"), str)
    )
