"""The records coordinator: reads the rrsets an account manages, and runs its syncs.

It reads and maps errors; what to write is the syncer's decision (sync.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
import contextlib
from dataclasses import dataclass, field
from datetime import timedelta

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from . import errors, issues
from .const import (
    CONF_RECORD_CHECK_INTERVAL,
    DEFAULT_RATE_LIMIT_WAIT,
    DEFAULT_RECORD_CHECK_INTERVAL,
    DOMAIN,
    EVENT_RECORD_SYNCED,
    LOGGER,
    MAX_DETECTION_AGE,
    REPAIR_THRESHOLD,
    SUBENTRY_RECORD,
)
from .detection import DetectionCoordinator
from .gandi import (
    GandiClient,
    GandiCredentialError,
    GandiDomainNotFoundError,
    GandiError,
    GandiRateLimitError,
    Rrset,
)
from .history import SyncHistory
from .records import IPAddress, ManagedRecord, RecordKey
from .streaks import Streaks
from .sync import (
    Action,
    RecordResult,
    Step,
    SupersededError,
    apply,
    describe_answers,
    desired,
    in_sync,
    plan,
)
from .wan import Family

type EsddnsConfigEntry = ConfigEntry[EsddnsData]

# How many times one sync plans again for an address that changed while it was writing.
MAX_REPLANS = 3


@dataclass
class EsddnsData:
    """What a loaded account holds at run time."""

    client: GandiClient
    detection: DetectionCoordinator
    records: RecordCoordinator
    history: SyncHistory
    # The unique ids of the entities this setup created; any other is left from older settings.
    unique_ids: set[str] = field(default_factory=set)
    # The platforms that created theirs: a platform that failed must not cost its entities.
    platforms_done: set[str] = field(default_factory=set)


def managed_records(entry: ConfigEntry) -> tuple[ManagedRecord, ...]:
    """The records an account keeps in sync, one per record subentry, in a stable order."""
    return tuple(
        sorted(
            (
                ManagedRecord.from_data(subentry_id, subentry.data)
                for subentry_id, subentry in entry.subentries.items()
                if subentry.subentry_type == SUBENTRY_RECORD
            ),
            key=lambda record: (record.domain, record.name, record.subentry_id),
        )
    )


class RecordCoordinator(DataUpdateCoordinator[dict[RecordKey, Rrset | None]]):
    """Reads the rrsets of one account's records; runs the syncs the syncer plans."""

    config_entry: EsddnsConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EsddnsConfigEntry,
        client: GandiClient,
        detection: DetectionCoordinator,
        history: SyncHistory,
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
        self.history = history
        self.account: str = entry.title
        self.records = managed_records(entry)
        self.record_of: dict[RecordKey, ManagedRecord] = {
            key: record for record in self.records for key in record.keys
        }
        self.keys: tuple[RecordKey, ...] = tuple(self.record_of)
        self._lock = asyncio.Lock()
        # Reads a dry run causes; while above 0, automatic syncs must not act on new data.
        self.quiet = 0
        self._not_before = 0.0
        self._written: dict[RecordKey, IPAddress] = {}
        self._overwritten: Streaks[RecordKey] = Streaks()
        self._last_inputs: tuple[object, object] | None = None
        self._verifying = False
        self._missing_domains: set[str] = set()
        # Records whose last write failed, with Gandi's reason.
        self.failed_writes: dict[RecordKey, str] = {}

    @property
    def families(self) -> frozenset[Family]:
        """The address families the account's records hold."""
        return frozenset(key.family for key in self.keys)

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
                    issues.async_domain_missing(
                        self.hass, self._domain_issue_id(key.domain), key.domain
                    )
        except GandiRateLimitError as err:
            raise self._rate_limited(err) from err
        except GandiError as err:
            raise errors.read_failed(err, self.account) from err
        for domain in self._missing_domains - missing:
            issues.async_clear(self.hass, self._domain_issue_id(domain))
        self._missing_domains = missing
        if missing and not records:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="gandi_error",
                translation_placeholders={
                    "domain": self.account,
                    "error": f"unknown domain: {', '.join(sorted(missing))}",
                },
            )
        self._note_overwrites(records)
        return records

    def _domain_issue_id(self, domain: str) -> str:
        return f"domain_missing_{self.config_entry.entry_id}_{domain}"

    def _check_rate_limit(self) -> None:
        wait = self._not_before - self.hass.loop.time()
        if wait > 0:
            raise errors.rate_limited(wait)

    def _rate_limited(self, err: GandiRateLimitError) -> UpdateFailed:
        """Remember to stay quiet as long as Gandi asked."""
        wait = err.retry_after if err.retry_after is not None else DEFAULT_RATE_LIMIT_WAIT
        self._not_before = self.hass.loop.time() + wait
        return errors.rate_limited(wait)

    def _note_overwrites(self, records: Mapping[RecordKey, Rrset | None]) -> None:
        """Spot another updater rewriting a record we wrote, while our address still holds."""
        for key, written in self._written.items():
            issue_id = self._overwritten_issue_id(key)
            if self.desired(key) == written and not in_sync(records.get(key), written):
                if self._overwritten.seen(key) >= REPAIR_THRESHOLD:
                    issues.async_record_overwritten(self.hass, issue_id, key.label, key.type.value)
            elif (
                not self._verifying
                and in_sync(records.get(key), written)
                and self._overwritten.over(key)
            ):
                # A whole check cycle in which nobody touched it: the fight is over.
                issues.async_clear(self.hass, issue_id)

    def _overwritten_issue_id(self, key: RecordKey) -> str:
        return f"record_overwritten_{self.record_of[key].subentry_id}_{key.type}"

    def clear_repairs(self) -> None:
        """Drop this account's repair issues (on unload)."""
        for domain in self._missing_domains:
            issues.async_clear(self.hass, self._domain_issue_id(domain))
        for key in self.keys:
            issues.async_clear(self.hass, self._overwritten_issue_id(key))

    # The state entities show -----------------------------------------------------------------

    def addresses(self, *, fresh: bool = False) -> dict[Family, IPAddress]:
        """The agreed public address of each family (only from a fresh round, if ``fresh``)."""
        detected = self.detection.fresh() if fresh else self.detection.data
        if detected is None:
            return {}
        found = {family: detected.address(family) for family in self.families}
        return {family: address for family, address in found.items() if address is not None}

    def desired(self, key: RecordKey) -> IPAddress | None:
        """The address a record should hold now; None without a consensus for its family."""
        return desired(self.record_of[key], key, self.addresses())

    def drift(self, key: RecordKey) -> bool | None:
        """Whether a record differs from what it should hold; None when either is unknown."""
        address = self.desired(key)
        if address is None or not self.last_update_success or self.data is None:
            return None
        if key not in self.data:
            return None
        return not in_sync(self.data[key], address, self.record_of[key].ttl)

    def problems(self) -> dict[str, list[str]]:
        """What keeps the records from being up to date, in the words of the health sensor."""
        public = self.addresses(fresh=True)
        readable = self.last_update_success and self.data is not None
        return {
            "drifted_records": [key.description for key in self.keys if self.drift(key)],
            "failed_writes": [
                f"{key.description}: {reason}" for key, reason in self.failed_writes.items()
            ],
            "no_consensus": [
                family.value for family in sorted(self.families) if family not in public
            ],
            "unreadable_records": [
                key.description
                for key in self.keys
                if not readable or (self.data is not None and key not in self.data)
            ],
        }

    # Syncing --------------------------------------------------------------------------------

    @callback
    def async_schedule_auto_sync(self) -> None:
        """After new detection or record data, write drifted records if the user wants that.

        Each pair of inputs (detection, records) is acted on once: a failed write waits for the
        next cycle's data instead of retrying in a loop.
        """
        inputs = (self.detection.data, self.data)
        if (
            self._last_inputs is not None
            and inputs[0] is self._last_inputs[0]
            and inputs[1] is self._last_inputs[1]
        ):
            return
        self._last_inputs = inputs
        if self.quiet or self.detection.quiet:
            # Data a dry run read is never acted on; the next regular cycle brings new data.
            return
        automatic = [record.subentry_id for record in self.records if record.auto_sync]
        if not automatic:
            return
        self.config_entry.async_create_background_task(
            self.hass, self._async_auto_sync(automatic), f"{DOMAIN} auto sync {self.account}"
        )

    async def _async_auto_sync(self, subentry_ids: list[str]) -> None:
        if self.detection.fresh() is None or not self.last_update_success:
            return
        try:
            await self.async_sync(
                force=False, dry_run=False, strict=False, subentry_ids=subentry_ids
            )
        except HomeAssistantError as err:
            # Failures reach the user through entity availability and the coordinator's log.
            LOGGER.debug("Automatic sync of %s did not complete: %s", self.account, err)

    async def async_sync(
        self,
        *,
        force: bool,
        dry_run: bool,
        detect: bool = False,
        strict: bool = True,
        subentry_ids: Iterable[str] | None = None,
    ) -> list[RecordResult]:
        """Bring the account's records (or those of ``subentry_ids``) in line.

        ``detect`` runs a fresh detection first and ``force`` reads the records at Gandi again.
        Nothing is written without a fresh consensus. With ``strict`` (the action and the
        buttons), a missing consensus is an error; automatic syncs skip such records silently.
        A dry run returns the plan; what it reads or detects is never acted on automatically.
        """
        wanted = set(subentry_ids) if subentry_ids is not None else None
        records = [r for r in self.records if wanted is None or r.subentry_id in wanted]
        async with self._lock, self._quietly(dry_run):
            if detect:
                await self._async_detect_or_raise()
            public = self.addresses(fresh=True)
            if strict:
                for family in sorted({key.family for r in records for key in r.keys}):
                    if family not in public:
                        raise self._no_consensus(family)
            if not public:
                return []
            if force or self.data is None or not self.last_update_success:
                await self._async_read_or_raise()
            steps = plan(records, self.data or {}, public)
            if dry_run:
                return [step.result(dry_run=True) for step in steps]
            results = await self._async_apply(records, steps)
            for result in results:
                if result.action is not Action.UNCHANGED:
                    self._fire(result)
            self._note_write_outage(results)
            if any(result.action is Action.UPDATED for result in results):
                await self.history.async_record(results)
                # Read back what was written; that read says nothing about other updaters.
                self._verifying = True
                try:
                    await self.async_refresh()
                finally:
                    self._verifying = False
            elif any(result.action is Action.FAILED for result in results):
                await self.history.async_record(results)
                self.async_update_listeners()
            return results

    async def _async_apply(
        self, records: list[ManagedRecord], steps: list[Step]
    ) -> list[RecordResult]:
        """Write a plan; rrsets whose address changed while earlier ones were written are
        planned again with the new address (a few times at most: addresses don't flap)."""
        results: list[RecordResult] = []
        for _ in range(MAX_REPLANS):
            done, superseded = await apply(steps, self._async_write)
            results += done
            if not superseded:
                break
            steps = plan(
                records,
                self.data or {},
                self.addresses(fresh=True),
                only={step.key for step in superseded},
            )
        return results

    async def _async_write(self, step: Step) -> None:
        """One PUT; the side effects Gandi's refusals call for (reauth, waiting)."""
        # A detection that landed while an earlier write was in flight must not leave later
        # records with the superseded address.
        address = desired(self.record_of[step.key], step.key, self.addresses(fresh=True))
        if address is None or (str(address),) != step.after:
            raise SupersededError
        if (wait := self._not_before - self.hass.loop.time()) > 0:
            raise GandiRateLimitError(f"rate limited, retry in {round(wait)} s", retry_after=wait)
        try:
            await self.client.put_rrset(
                step.key.domain, step.key.name, step.key.type, step.after, step.ttl
            )
        except GandiCredentialError:
            self.config_entry.async_start_reauth(self.hass)
            raise
        except GandiRateLimitError as err:
            self._rate_limited(err)
            raise
        self._written[step.key] = address
        LOGGER.info("Updated %s: %s -> %s", step.key.description, step.before, step.after)

    @contextlib.asynccontextmanager
    async def _quietly(self, quiet: bool) -> AsyncIterator[None]:
        """Mark the reads and detections made meanwhile as a dry run's, when ``quiet``."""
        step = int(quiet)
        self.quiet += step
        self.detection.quiet += step
        try:
            yield
        finally:
            self.quiet -= step
            self.detection.quiet -= step

    async def _async_detect_or_raise(self) -> None:
        """Run a detection now (shared with every account that uses these settings)."""
        await self.detection.async_refresh()
        if not self.detection.last_update_success:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="no_source_answered"
            )

    def _no_consensus(self, family: Family) -> ServiceValidationError:
        """Why there is no address to write for ``family``, with the numbers behind it."""
        public = self.detection.data if self.detection.last_update_success else None
        detection = public.detections.get(family) if public is not None else None
        if detection is None or not detection.answers:
            return ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="no_source_answered_family",
                translation_placeholders={
                    "family": family.value,
                    "asked": str(len(self.detection.settings.sources(family))),
                },
            )
        if detection.address is None:
            return ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="no_consensus",
                translation_placeholders={
                    "family": family.value,
                    "agreeing": str(max(len(voters) for voters in detection.answers.values())),
                    "quorum": str(detection.quorum),
                    "answers": describe_answers(detection),
                },
            )
        assert public is not None  # a detection came from it
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="detection_stale",
            translation_placeholders={
                "detected_at": public.detected_at.isoformat(timespec="seconds"),
                "max_age": str(int(MAX_DETECTION_AGE.total_seconds() // 60)),
            },
        )

    def _note_write_outage(self, results: list[RecordResult]) -> None:
        """Log once when writes start failing, and once when they work again.

        A failed write leaves every entity available (the drift sensor stays on), and the
        coordinator's own log only covers reads: without this, a write outage is silent.
        """
        was_failing = bool(self.failed_writes)
        failed = [r for r in results if r.action is Action.FAILED]
        for result in results:
            if result.action is Action.FAILED:
                self.failed_writes[result.key] = result.reason or "unknown error"
            else:
                self.failed_writes.pop(result.key, None)
        if failed and not was_failing:
            LOGGER.warning(
                "Could not update %s at Gandi: %s",
                ", ".join(r.key.description for r in failed),
                "; ".join(sorted({r.reason or "unknown error" for r in failed})),
            )
        elif was_failing and not self.failed_writes:
            LOGGER.info("Updating the records of %s at Gandi works again", self.account)

    async def _async_read_or_raise(self) -> None:
        """Read the records now; a failure becomes a translated error for the caller."""
        await self.async_refresh()
        if not self.last_update_success:
            raise errors.action_failed(self.last_exception, self.account) from (self.last_exception)

    def _fire(self, result: RecordResult) -> None:
        """Tell automations, the logbook and blueprints what a write did (never for dry runs).

        ``repeated`` says the record's previous write failed too, so a notification can come
        once per outage instead of once per attempt.
        """
        subentry_id = self.record_of[result.key].subentry_id
        # The record's own device (async_get_device is deprecated from 2026.x; this works on
        # both).
        device = next(
            (
                device
                for device in dr.async_entries_for_config_entry(
                    dr.async_get(self.hass), self.config_entry.entry_id
                )
                if (DOMAIN, subentry_id) in device.identifiers
            ),
            None,
        )
        self.hass.bus.async_fire(
            EVENT_RECORD_SYNCED,
            {
                "entry_id": self.config_entry.entry_id,
                # The logbook card of the device page finds the event by it.
                "device_id": device.id if device is not None else None,
                **result.as_event(),
                "repeated": result.action is Action.FAILED and result.key in self.failed_writes,
            },
        )
