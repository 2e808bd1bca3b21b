"""The records coordinator: reads the rrsets an account manages, and maps Gandi's errors.

Nothing else: what each record should hold, when to write and what to tell the user are the
syncer's (syncer.py, plan.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .const import CONF_RECORD_CHECK_INTERVAL, DEFAULT_RECORD_CHECK_INTERVAL, DOMAIN, LOGGER
from .errors import coordinator_errors
from .gandi import GandiClient, GandiDomainNotFoundError, RecordType, Rrset
from .records import ManagedRecord, RecordKey, families_of
from .timing import jittered


class RecordCoordinator(DataUpdateCoordinator[dict[RecordKey, Rrset | None]]):
    """Reads the rrsets of one account's records (None: the rrset does not exist).

    A record whose domain Gandi no longer knows is left out of the data, and its domain is in
    ``missing_domains``; when every domain is missing, the read fails.
    """

    config_entry: ConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: GandiClient,
        records: Iterable[ManagedRecord],
    ) -> None:
        """Create the coordinator for one account."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} records {entry.title}",
            update_interval=jittered(self._check_interval(entry)),
        )
        self.client = client
        self.missing_domains: frozenset[str] = frozenset()
        self.set_records(records)

    @staticmethod
    def _check_interval(entry: ConfigEntry) -> timedelta:
        return timedelta(
            minutes=int(
                entry.options.get(CONF_RECORD_CHECK_INTERVAL, DEFAULT_RECORD_CHECK_INTERVAL)
            )
        )

    @property
    def account(self) -> str:
        """The account's title, for messages (it follows the records' domains)."""
        return self.config_entry.title

    def set_records(self, records: Iterable[ManagedRecord]) -> None:
        """The records to read from now on (a record was added, changed or removed)."""
        self.records = tuple(records)
        self.record_of: dict[RecordKey, ManagedRecord] = {
            key: record for record in self.records for key in record.keys
        }
        self.keys: tuple[RecordKey, ...] = tuple(self.record_of)
        # The address families the account's records hold.
        self.families = families_of(self.records)

    def key_of(self, subentry_id: str, rtype: RecordType) -> RecordKey | None:
        """The rrset that a record's entity of type ``rtype`` follows: a record's name may
        change while its entities stay."""
        return next(
            (
                key
                for key, record in self.record_of.items()
                if record.subentry_id == subentry_id and key.type is rtype
            ),
            None,
        )

    @coordinator_errors
    async def _async_update_data(self) -> dict[RecordKey, Rrset | None]:
        # The next scheduled read comes after a freshly jittered interval.
        self.update_interval = jittered(self._check_interval(self.config_entry))
        rrsets: dict[RecordKey, Rrset | None] = {}
        missing: set[str] = set()
        try:
            for key in self.keys:
                if key.domain in missing:
                    continue
                try:
                    rrsets[key] = await self.client.get_rrset(key.domain, key.name, key.type)
                except GandiDomainNotFoundError:
                    # The domain left LiveDNS (or the account): its other records are not
                    # asked for; the account's other domains still are.
                    missing.add(key.domain)
        finally:
            # Also when a later request failed: what was found missing is known.
            self.missing_domains = frozenset(missing)
        if missing and not rrsets:
            raise GandiDomainNotFoundError(f"unknown domain: {', '.join(sorted(missing))}")
        return rrsets
