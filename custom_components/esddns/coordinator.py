"""The records coordinator: reads the rrsets an account manages and maps Gandi's errors.

What to write, and when, is the syncer's (sync.py decides, syncer.py runs it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from . import errors, issues
from .const import (
    CONF_RECORD_CHECK_INTERVAL,
    DEFAULT_RATE_LIMIT_WAIT,
    DEFAULT_RECORD_CHECK_INTERVAL,
    DOMAIN,
    LOGGER,
)
from .detection import DetectionCoordinator
from .gandi import (
    GandiClient,
    GandiDomainNotFoundError,
    GandiError,
    GandiRateLimitError,
    RecordType,
    Rrset,
)
from .history import SyncHistory

if TYPE_CHECKING:
    from .syncer import AccountSyncer
from .records import AccountRecords, IPAddress, ManagedRecord, RecordKey, families_of
from .sync import (
    desired,
    in_sync,
)
from .wan import Family

type EsddnsConfigEntry = ConfigEntry[EsddnsData]


@dataclass
class EsddnsData:
    """What a loaded account holds at run time."""

    client: GandiClient
    detection: DetectionCoordinator
    records: RecordCoordinator
    syncer: AccountSyncer
    history: SyncHistory
    # The records as the account last applied them: those it keeps in sync, and those it
    # can't; and the record subentries' data they were read from.
    account_records: AccountRecords
    subentries: dict[str, Mapping[str, Any]]
    # The registry id of the account's device, the parent of its records' devices.
    account_device_id: str | None = None
    # The unique ids each platform's entities have now; any other is left from older records.
    unique_ids: dict[str, set[str]] = field(default_factory=dict)
    # Record changes are applied one at a time.
    records_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class RecordCoordinator(DataUpdateCoordinator[dict[RecordKey, Rrset | None]]):
    """Reads the rrsets of one account's records, and says what each should hold."""

    config_entry: EsddnsConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EsddnsConfigEntry,
        client: GandiClient,
        detection: DetectionCoordinator,
        records: Iterable[ManagedRecord],
    ) -> None:
        """Create the coordinator for one account."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} records {entry.title}",
            update_interval=timedelta(
                minutes=int(
                    entry.options.get(CONF_RECORD_CHECK_INTERVAL, DEFAULT_RECORD_CHECK_INTERVAL)
                )
            ),
        )
        self.client = client
        self.detection = detection
        self.set_records(records)
        self._not_before = 0.0
        # The "domain missing" repairs a setup that waited to retry left behind: the first read
        # clears those that no longer apply.
        self._missing_domains = issues.domains_missing(hass, entry.entry_id)

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

    # Reading --------------------------------------------------------------------------------

    async def _async_update_data(self) -> dict[RecordKey, Rrset | None]:
        self._check_rate_limit()
        records: dict[RecordKey, Rrset | None] = {}
        missing: set[str] = set()
        try:
            for key in self.keys:
                if key.domain in missing:
                    continue
                try:
                    records[key] = await self.client.get_rrset(key.domain, key.name, key.type)
                except GandiDomainNotFoundError:
                    # The domain left LiveDNS (or the account): only the user can put that right.
                    # The account's other domains are still read.
                    missing.add(key.domain)
                    issues.async_domain_missing(self.hass, self.config_entry.entry_id, key.domain)
        except GandiRateLimitError as err:
            raise self.rate_limited(err) from err
        except GandiError as err:
            raise errors.read_failed(err, self.account) from err
        issues.async_clear_domain_missing(
            self.hass, self.config_entry.entry_id, self._missing_domains - missing
        )
        self._missing_domains = missing
        if missing and not records:
            unknown = GandiDomainNotFoundError(f"unknown domain: {', '.join(sorted(missing))}")
            raise errors.read_failed(unknown, self.account)
        return records

    def rate_limit_wait(self) -> float:
        """Seconds left before Gandi wants to hear from us again (0 when it doesn't mind)."""
        return max(0.0, self._not_before - self.hass.loop.time())

    def _check_rate_limit(self) -> None:
        if (wait := self.rate_limit_wait()) > 0:
            raise errors.rate_limited(wait)

    def rate_limited(self, err: GandiRateLimitError) -> UpdateFailed:
        """Remember to stay quiet as long as Gandi asked."""
        wait = err.retry_after if err.retry_after is not None else DEFAULT_RATE_LIMIT_WAIT
        self._not_before = self.hass.loop.time() + wait
        return errors.rate_limited(wait)

    def clear_repairs(self) -> None:
        """Drop this account's "domain missing" repairs (on unload)."""
        issues.async_clear_domain_missing(
            self.hass, self.config_entry.entry_id, self._missing_domains
        )

    # The state entities show -----------------------------------------------------------------

    def addresses(self, *, fresh: bool = False) -> dict[Family, IPAddress]:
        """The agreed public address of each family (only from a fresh round, if ``fresh``)."""
        detected = self.detection.fresh() if fresh else self.detection.data
        if detected is None:
            return {}
        found = {family: detected.address(family) for family in self.families}
        return {family: address for family, address in found.items() if address is not None}

    def desired(self, key: RecordKey, *, fresh: bool = False) -> IPAddress | None:
        """The address a record should hold now; None without a consensus for its family
        (from a fresh round, if ``fresh``)."""
        return desired(self.record_of[key], key, self.addresses(fresh=fresh))

    def drift(self, key: RecordKey | None) -> bool | None:
        """Whether a record differs from what it should hold; None when either is unknown."""
        if key is None:
            return None
        address = self.desired(key)
        if address is None or not self.last_update_success or self.data is None:
            return None
        if key not in self.data:
            return None
        return not in_sync(self.data[key], address, self.record_of[key].ttl)
