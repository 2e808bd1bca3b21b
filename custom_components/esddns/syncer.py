"""The syncer of an account: decides when to sync, has the plan (plan.py) carried out, and
tells what it did.

The coordinators only read. The syncer knows what each record should hold (the agreed public
address of its family, from a fresh round), whether it drifted, when to write (automatically,
from a button, from the action), keeps a dry run's reads and detections from being acted on,
and reports: events, history, failed writes, the repairs for a domain Gandi no longer knows and
for a record someone else keeps rewriting.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
import contextlib

from homeassistant.components.sensor import DOMAIN as SENSOR_DOMAIN
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er

from . import errors, issues
from .const import DOMAIN, EVENT_RECORD_SYNCED, LOGGER, MAX_DETECTION_AGE, REPAIR_THRESHOLD
from .coordinator import RecordCoordinator
from .detection import DRY_RUN
from .gandi import GandiCredentialError, Rrset
from .history import SyncHistory
from .plan import Action, RecordResult, Step, SupersededError, apply, in_sync, plan
from .records import (
    IPAddress,
    ManagedRecord,
    RecordKey,
    desired,
    families_of,
    record_sensor_key,
)
from .sharing import SharedDetection
from .streaks import Streaks
from .wan import Family

# How many times one sync plans again for an address that changed while it was writing.
MAX_REPLANS = 3


class AccountSyncer:
    """Keeps one account's records in line with the public address."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        records: RecordCoordinator,
        shared: SharedDetection,
        history: SyncHistory,
    ) -> None:
        """Sync what ``records`` reads with what the ``shared`` detection finds; keep the
        outcomes in ``history``."""
        self.hass = hass
        self.entry = entry
        self.records = records
        self.detection = shared.coordinator
        self._shared = shared
        self.history = history
        self._lock = asyncio.Lock()
        # Reads and detections a dry run causes; while above 0, automatic syncs don't act.
        self.quiet = 0
        self._read: object = None
        self._last_inputs: tuple[object, object] | None = None
        self._verifying = False
        self._written: dict[RecordKey, IPAddress] = {}
        self._overwritten: Streaks[RecordKey] = Streaks()
        # Records whose last write failed, with Gandi's reason.
        self.failed_writes: dict[RecordKey, str] = {}

    # What the records should hold ------------------------------------------------------------

    def addresses(self, *, fresh: bool = False) -> dict[Family, IPAddress]:
        """The agreed public address of each family (only from a fresh round, if ``fresh``)."""
        detected = self.detection.fresh() if fresh else self.detection.data
        if detected is None:
            return {}
        found = {family: detected.address(family) for family in self.records.families}
        return {family: address for family, address in found.items() if address is not None}

    def desired(self, key: RecordKey, *, fresh: bool = False) -> IPAddress | None:
        """The address a record should hold now; None without a consensus for its family
        (from a fresh round, if ``fresh``)."""
        record = self.records.record_of[key]
        return desired(record, key, self.addresses(fresh=fresh), self.detection.policies)

    def drift(self, key: RecordKey | None) -> bool | None:
        """Whether a record differs from what it should hold; None when either is unknown."""
        if key is None:
            return None
        address = self.desired(key)
        read = self.records.data
        if address is None or not self.records.last_update_success or read is None:
            return None
        if key not in read:
            return None
        return not in_sync(read[key], address, self.records.record_of[key].ttl)

    # Repairs ---------------------------------------------------------------------------------

    def clear_repairs(self) -> None:
        """Drop the account's "overwritten" and "domain missing" repairs (on unload)."""
        for key in self.records.keys:
            issues.async_clear(self.hass, self._overwritten_issue_id(key))
        issues.async_domains_missing(self.hass, self.entry.entry_id, ())

    async def async_take_records(self, records: Iterable[ManagedRecord]) -> None:
        """The account's records changed: once the sync in flight (if any) is done, read and
        write these from now on, and forget what was noted of the rrsets that left."""
        records = tuple(records)
        async with self._lock:
            kept = {key for record in records for key in record.keys}
            self.forget(set(self.records.keys) - kept)
            self.records.set_records(records)

    def forget(self, keys: Iterable[RecordKey]) -> None:
        """Records that left the account (or changed name or type): drop what was noted of them
        and their "overwritten" repairs."""
        for key in keys:
            self.failed_writes.pop(key, None)
            self._written.pop(key, None)
            if self._overwritten.over(key):
                issues.async_clear(self.hass, self._overwritten_issue_id(key))

    def _note_read(self) -> None:
        """After a read: the domains Gandi no longer knows, and another updater fighting us."""
        read = self.records.data
        if self.records.last_update_success:
            issues.async_domains_missing(
                self.hass, self.entry.entry_id, self.records.missing_domains
            )
        else:  # what is known of an unfinished read: no repair is cleared on it
            issues.async_domains_missing(
                self.hass, self.entry.entry_id, self.records.missing_domains, clear=False
            )
        if not self.records.last_update_success or read is self._read:
            return
        self._read = read
        for key, written in list(self._written.items()):
            if key not in self.records.record_of:
                continue  # left the account meanwhile
            issue_id = self._overwritten_issue_id(key)
            rrset = (read or {}).get(key)
            if self.desired(key) == written and not in_sync(rrset, written):
                if self._overwritten.seen(key) >= REPAIR_THRESHOLD:
                    issues.async_record_overwritten(self.hass, issue_id, key.label, key.type.value)
            elif not self._verifying and in_sync(rrset, written) and self._overwritten.over(key):
                # A whole check cycle in which nobody touched it: the fight is over.
                issues.async_clear(self.hass, issue_id)

    def _overwritten_issue_id(self, key: RecordKey) -> str:
        return f"record_overwritten_{self.records.record_of[key].subentry_id}_{key.type}"

    # Syncing --------------------------------------------------------------------------------

    @callback
    def async_schedule_auto_sync(self) -> None:
        """After new detection or record data, write drifted records if the user wants that.

        Each pair of inputs (detection, records) is acted on once: a failed write waits for the
        next cycle's data instead of retrying in a loop.
        """
        self._note_read()
        inputs = (self.detection.data, self.records.data)
        if (
            self._last_inputs is not None
            and inputs[0] is self._last_inputs[0]
            and inputs[1] is self._last_inputs[1]
        ):
            return
        self._last_inputs = inputs
        if self.quiet or self._shared.quiet:
            # Data a dry run read is never acted on; the next regular cycle brings new data.
            return
        automatic = [record.subentry_id for record in self.records.records if record.auto_sync]
        if not automatic:
            return
        self.entry.async_create_background_task(
            self.hass, self._async_auto_sync(automatic), f"{DOMAIN} auto sync {self.entry.title}"
        )

    async def _async_auto_sync(self, subentry_ids: list[str]) -> None:
        if self.detection.fresh() is None or not self.records.last_update_success:
            return
        try:
            await self.async_sync(
                force=False, dry_run=False, strict=False, subentry_ids=subentry_ids
            )
        except HomeAssistantError as err:
            # Failures reach the user through entity availability and the coordinator's log.
            LOGGER.debug("Automatic sync of %s did not complete: %s", self.entry.title, err)

    @errors.action_errors
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
        records = [r for r in self.records.records if wanted is None or r.subentry_id in wanted]
        async with self._lock, self._quietly(dry_run):
            if detect:
                await self._async_detect_or_raise(DRY_RUN if dry_run else "action")
            public = self.addresses(fresh=True)
            if strict:
                for family in sorted(families_of(records)):
                    if family not in public:
                        raise self._no_consensus(family)
            if not public:
                return []
            if force or self.records.data is None or not self.records.last_update_success:
                await self._async_read_or_raise()
            read = self.records.data or {}
            if strict and records and not any(k in read for r in records for k in r.keys):
                # Every record asked for is in a domain Gandi no longer knows (a repair says
                # so): the person who pressed the button hears it too.
                raise errors.domains_unreadable(sorted({r.domain for r in records}))
            steps = plan(records, read, public, policies=self.detection.policies)
            if dry_run:
                return [step.result(dry_run=True) for step in steps]
            results = await self._async_apply(records, steps)
            await self._async_report(results)
            return results

    async def _async_report(self, results: list[RecordResult]) -> None:
        """Tell what a sync did: events, the log, the history; then read back what it wrote."""
        for result in results:
            if result.action is not Action.UNCHANGED:
                self._fire(result)
        self._note_write_outage(results)
        if any(result.action is Action.UPDATED for result in results):
            await self.history.async_record(results)
            # Read back what was written; that read says nothing about other updaters.
            self._verifying = True
            try:
                await self.records.async_refresh()
            finally:
                self._verifying = False
        elif any(result.action is Action.FAILED for result in results):
            await self.history.async_record(results)
            self.records.async_update_listeners()

    async def _async_apply(
        self, records: list[ManagedRecord], steps: list[Step]
    ) -> list[RecordResult]:
        """Write a plan; rrsets whose address changed while earlier ones were written are
        planned again with the new address (a few times at most: addresses don't flap)."""
        results: list[RecordResult] = []
        # What Gandi holds, as far as this sync knows: what it read, then what it wrote.
        rrsets = dict(self.records.data or {})
        for _ in range(MAX_REPLANS):
            done, superseded = await apply(steps, self._async_write)
            results += done
            for result in done:
                if result.action is Action.UPDATED and result.after is not None:
                    key = result.key
                    ttl = self.records.record_of[key].ttl
                    rrsets[key] = Rrset(name=key.name, type=key.type, ttl=ttl, values=result.after)
            # Steps not written because the address changed, and writes the change overtook
            # while in flight: planned again with the new address.
            stale = {step.key for step in superseded} | {
                result.key
                for result in done
                if result.action is Action.UPDATED and self._overtaken(result)
            }
            if not stale:
                break
            steps = plan(
                records, rrsets, self.addresses(fresh=True), stale, self.detection.policies
            )
        return results

    def _overtaken(self, result: RecordResult) -> bool:
        """Whether the public address changed while this write was in flight."""
        address = self.desired(result.key, fresh=True)
        return address is not None and (str(address),) != result.after

    async def _async_write(self, step: Step) -> None:
        """One PUT; a refused credential starts reauthentication. (While Gandi asked us to wait,
        the client refuses to send: that is a failed write too.)"""
        # A detection that landed while an earlier write was in flight must not leave later
        # records with the superseded address.
        address = self.desired(step.key, fresh=True)
        if address is None or (str(address),) != step.after:
            raise SupersededError
        try:
            await self.records.client.put_rrset(
                step.key.domain, step.key.name, step.key.type, step.after, step.ttl
            )
        except GandiCredentialError:
            self.entry.async_start_reauth(self.hass)
            raise
        self._written[step.key] = address
        LOGGER.info("Updated %s: %s", step.key.description, step.change)

    @contextlib.asynccontextmanager
    async def _quietly(self, quiet: bool) -> AsyncIterator[None]:
        """Mark the reads and detections made meanwhile as a dry run's, when ``quiet``: the
        detection's for every account that shares it."""
        step = int(quiet)
        self.quiet += step
        self._shared.quiet += step
        try:
            yield
        finally:
            self.quiet -= step
            self._shared.quiet -= step

    async def _async_detect_or_raise(self, trigger: str) -> None:
        """Run a detection now (shared with every account that uses these settings)."""
        self.detection.note_trigger(trigger)
        await self.detection.async_refresh()
        if not self.detection.last_update_success:
            raise errors.no_source_answered()

    def _no_consensus(self, family: Family) -> HomeAssistantError:
        """Why there is no address to write for ``family``."""
        public = self.detection.data if self.detection.last_update_success else None
        return errors.no_consensus(
            family,
            public.detections.get(family) if public is not None else None,
            len(self.detection.settings.sources(family)),
            public.detected_at if public is not None else None,
            int(MAX_DETECTION_AGE.total_seconds() // 60),
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
            LOGGER.info("Updating the records of %s at Gandi works again", self.entry.title)

    async def _async_read_or_raise(self) -> None:
        """Read the records now; a failure is raised as the coordinator mapped it (the action's
        decorator says it in the action's words)."""
        await self.records.async_refresh()
        if not self.records.last_update_success and self.records.last_exception is not None:
            raise self.records.last_exception

    def _fire(self, result: RecordResult) -> None:
        """Tell automations, the logbook and blueprints what a write did (never for dry runs).

        ``repeated`` says the record's previous write failed too, so a notification can come
        once per outage instead of once per attempt.
        """
        subentry_id = self.records.record_of[result.key].subentry_id
        # The record's "A record"/"AAAA record" sensor: the logbook finds the event by it, on the
        # record's device page. Not by a device_id: that page's logbook card may subscribe with
        # the device alone, then with the device and its entities, and shows whatever both
        # subscriptions' histories hold (a line found by device_id twice).
        entity_id = er.async_get(self.hass).async_get_entity_id(
            SENSOR_DOMAIN, DOMAIN, f"{subentry_id}_{record_sensor_key(result.key.type)}"
        )
        self.hass.bus.async_fire(
            EVENT_RECORD_SYNCED,
            {
                "entry_id": self.entry.entry_id,
                "entity_id": entity_id,
                **result.as_event(),
                "repeated": result.action is Action.FAILED and result.key in self.failed_writes,
            },
        )
