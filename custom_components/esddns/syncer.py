"""The syncer of an account: runs the plan (sync.py) and tells what it did.

The records coordinator reads; the syncer decides when to sync (automatically, from a button,
from the action), has the plan carried out, and reports it: events, history, the health
sensor's failed writes, the repairs for a record someone else keeps rewriting.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
import contextlib
from datetime import datetime, timedelta

from homeassistant.components.sensor import DOMAIN as SENSOR_DOMAIN
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util

from . import errors, issues
from .const import (
    DOMAIN,
    EVENT_RECORD_SYNCED,
    LOGGER,
    MAX_DETECTION_AGE,
    PROBLEM_GRACE,
    REPAIR_THRESHOLD,
)
from .coordinator import RecordCoordinator
from .gandi import GandiCredentialError, GandiRateLimitError, Rrset
from .history import SyncHistory
from .records import IPAddress, ManagedRecord, RecordKey, families_of, record_sensor_key
from .streaks import Lasting, Streaks
from .sync import (
    Action,
    RecordResult,
    Step,
    SupersededError,
    apply,
    describe_answers,
    in_sync,
    plan,
)
from .wan import Family

# How many times one sync plans again for an address that changed while it was writing.
MAX_REPLANS = 3


class AccountSyncer:
    """Keeps one account's records in line with the public address."""

    def __init__(
        self, hass: HomeAssistant, coordinator: RecordCoordinator, history: SyncHistory
    ) -> None:
        """Sync the records ``coordinator`` reads; keep the outcomes in ``history``."""
        self.hass = hass
        self.coordinator = coordinator
        self.history = history
        self._lock = asyncio.Lock()
        # Reads and detections a dry run causes; while above 0, automatic syncs don't act.
        self.quiet = 0
        self._read: object = None
        self._last_inputs: tuple[object, object] | None = None
        self._verifying = False
        self._written: dict[RecordKey, IPAddress] = {}
        self._overwritten: Streaks[RecordKey] = Streaks()
        self._lasting: Lasting[tuple[str, str]] = Lasting()
        # Records whose last write failed, with Gandi's reason.
        self.failed_writes: dict[RecordKey, str] = {}

    def clear_repairs(self) -> None:
        """Drop the account's "overwritten" repairs (on unload)."""
        for key in self.coordinator.keys:
            issues.async_clear(self.hass, self._overwritten_issue_id(key))

    def _note_overwrites(self, records: Mapping[RecordKey, Rrset | None]) -> None:
        """Spot another updater rewriting a record we wrote, while our address still holds."""
        for key, written in self._written.items():
            issue_id = self._overwritten_issue_id(key)
            if self.coordinator.desired(key) == written and not in_sync(records.get(key), written):
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
        return f"record_overwritten_{self.coordinator.record_of[key].subentry_id}_{key.type}"

    def problems(self) -> dict[str, list[str]]:
        """What keeps the records from being up to date, in the words of the health sensor.

        Only what lasts is a problem: a drift that the automatic sync is about to fix, a write
        that fails once, a read or a detection that fails once are not, until they have lasted
        PROBLEM_GRACE (or one detection interval, when that is shorter). A drift on a record
        without automatic sync is one at once: nothing else will fix it.
        """
        now = dt_util.utcnow()
        found = self._problems_now()
        self._lasting.update(now, ((kind, item) for kind, items in found.items() for item in items))
        grace = self.problem_grace
        return {
            kind: [
                item
                for item, at_once in items.items()
                if at_once or self._lasting.lasted(now, (kind, item), grace)
            ]
            for kind, items in found.items()
        }

    @property
    def problem_grace(self) -> timedelta:
        """How long something must last to be a problem."""
        interval = self.coordinator.detection.update_interval or PROBLEM_GRACE
        return min(PROBLEM_GRACE, interval)

    def next_problem_check(self) -> datetime | None:
        """When a problem seen now will have lasted long enough to count."""
        return self._lasting.next_due(dt_util.utcnow(), self.problem_grace)

    def _problems_now(self) -> dict[str, dict[str, bool]]:
        """Everything wrong right now, each with whether it counts at once."""
        records = self.coordinator
        public = records.addresses(fresh=True)
        readable = records.last_update_success and records.data is not None
        return {
            "drifted_records": {
                key.description: not records.record_of[key].auto_sync
                for key in records.keys
                if records.drift(key)
            },
            "failed_writes": {
                f"{key.description}: {reason}": False for key, reason in self.failed_writes.items()
            },
            "no_consensus": {
                family.value: False for family in sorted(records.families) if family not in public
            },
            "unreadable_records": {
                key.description: False
                for key in records.keys
                if not readable or (records.data is not None and key not in records.data)
            },
        }

    def forget(self, keys: Iterable[RecordKey]) -> None:
        """Records that left the account (or changed name or type): drop what was noted of them
        and their "overwritten" repairs."""
        for key in keys:
            self.failed_writes.pop(key, None)
            self._written.pop(key, None)
            if self._overwritten.over(key):
                issues.async_clear(self.hass, self._overwritten_issue_id(key))

    # Syncing --------------------------------------------------------------------------------

    @callback
    def async_schedule_auto_sync(self) -> None:
        """After new detection or record data, write drifted records if the user wants that.

        Each pair of inputs (detection, records) is acted on once: a failed write waits for the
        next cycle's data instead of retrying in a loop.
        """
        if self.coordinator.last_update_success and self.coordinator.data is not self._read:
            self._read = self.coordinator.data
            self._note_overwrites(self._read)
        inputs = (self.coordinator.detection.data, self.coordinator.data)
        if (
            self._last_inputs is not None
            and inputs[0] is self._last_inputs[0]
            and inputs[1] is self._last_inputs[1]
        ):
            return
        self._last_inputs = inputs
        if self.quiet or self.coordinator.detection.quiet:
            # Data a dry run read is never acted on; the next regular cycle brings new data.
            return
        automatic = [record.subentry_id for record in self.coordinator.records if record.auto_sync]
        if not automatic:
            return
        self.coordinator.config_entry.async_create_background_task(
            self.hass,
            self._async_auto_sync(automatic),
            f"{DOMAIN} auto sync {self.coordinator.account}",
        )

    async def _async_auto_sync(self, subentry_ids: list[str]) -> None:
        if self.coordinator.detection.fresh() is None or not self.coordinator.last_update_success:
            return
        try:
            await self.async_sync(
                force=False, dry_run=False, strict=False, subentry_ids=subentry_ids
            )
        except HomeAssistantError as err:
            # Failures reach the user through entity availability and the coordinator's log.
            LOGGER.debug("Automatic sync of %s did not complete: %s", self.coordinator.account, err)

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
        records = [r for r in self.coordinator.records if wanted is None or r.subentry_id in wanted]
        async with self._lock, self._quietly(dry_run):
            if detect:
                await self._async_detect_or_raise()
            public = self.coordinator.addresses(fresh=True)
            if strict:
                for family in sorted(families_of(records)):
                    if family not in public:
                        raise self._no_consensus(family)
            if not public:
                return []
            if force or self.coordinator.data is None or not self.coordinator.last_update_success:
                await self._async_read_or_raise()
            read = self.coordinator.data or {}
            if strict and records and not any(k in read for r in records for k in r.keys):
                # Every record asked for is in a domain Gandi no longer knows (a repair says
                # so): the person who pressed the button hears it too.
                raise errors.domains_unreadable(sorted({r.domain for r in records}))
            steps = plan(records, read, public)
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
                    await self.coordinator.async_refresh()
                finally:
                    self._verifying = False
            elif any(result.action is Action.FAILED for result in results):
                await self.history.async_record(results)
                self.coordinator.async_update_listeners()
            return results

    async def _async_apply(
        self, records: list[ManagedRecord], steps: list[Step]
    ) -> list[RecordResult]:
        """Write a plan; rrsets whose address changed while earlier ones were written are
        planned again with the new address (a few times at most: addresses don't flap)."""
        results: list[RecordResult] = []
        # What Gandi holds, as far as this sync knows: what it read, then what it wrote.
        rrsets = dict(self.coordinator.data or {})
        for _ in range(MAX_REPLANS):
            done, superseded = await apply(steps, self._async_write)
            results += done
            for result in done:
                if result.action is Action.UPDATED and result.after is not None:
                    key = result.key
                    ttl = self.coordinator.record_of[key].ttl
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
            steps = plan(records, rrsets, self.coordinator.addresses(fresh=True), stale)
        return results

    def _overtaken(self, result: RecordResult) -> bool:
        """Whether the public address changed while this write was in flight."""
        address = self.coordinator.desired(result.key, fresh=True)
        return address is not None and (str(address),) != result.after

    async def _async_write(self, step: Step) -> None:
        """One PUT; the side effects Gandi's refusals call for (reauth, waiting)."""
        # A detection that landed while an earlier write was in flight must not leave later
        # records with the superseded address.
        address = self.coordinator.desired(step.key, fresh=True)
        if address is None or (str(address),) != step.after:
            raise SupersededError
        if (wait := self.coordinator.rate_limit_wait()) > 0:
            raise GandiRateLimitError(f"rate limited, retry in {round(wait)} s", retry_after=wait)
        try:
            await self.coordinator.client.put_rrset(
                step.key.domain, step.key.name, step.key.type, step.after, step.ttl
            )
        except GandiCredentialError:
            self.coordinator.config_entry.async_start_reauth(self.hass)
            raise
        except GandiRateLimitError as err:
            self.coordinator.rate_limited(err)
            raise
        self._written[step.key] = address
        LOGGER.info("Updated %s: %s", step.key.description, step.change)

    @contextlib.asynccontextmanager
    async def _quietly(self, quiet: bool) -> AsyncIterator[None]:
        """Mark the reads and detections made meanwhile as a dry run's, when ``quiet``."""
        step = int(quiet)
        self.quiet += step
        self.coordinator.detection.quiet += step
        try:
            yield
        finally:
            self.quiet -= step
            self.coordinator.detection.quiet -= step

    async def _async_detect_or_raise(self) -> None:
        """Run a detection now (shared with every account that uses these settings)."""
        await self.coordinator.detection.async_refresh()
        if not self.coordinator.detection.last_update_success:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="no_source_answered"
            )

    def _no_consensus(self, family: Family) -> ServiceValidationError:
        """Why there is no address to write for ``family``, with the numbers behind it."""
        public = (
            self.coordinator.detection.data
            if self.coordinator.detection.last_update_success
            else None
        )
        detection = public.detections.get(family) if public is not None else None
        if detection is None or not detection.answers:
            return ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="no_source_answered_family",
                translation_placeholders={
                    "family": family.label,
                    "asked": str(len(self.coordinator.detection.settings.sources(family))),
                },
            )
        if detection.address is None:
            return ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="no_consensus",
                translation_placeholders={
                    "family": family.label,
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
            LOGGER.info("Updating the records of %s at Gandi works again", self.coordinator.account)

    async def _async_read_or_raise(self) -> None:
        """Read the records now; a failure becomes a translated error for the caller."""
        await self.coordinator.async_refresh()
        if not self.coordinator.last_update_success:
            raise errors.action_failed(
                self.coordinator.last_exception, self.coordinator.account
            ) from (self.coordinator.last_exception)

    def _fire(self, result: RecordResult) -> None:
        """Tell automations, the logbook and blueprints what a write did (never for dry runs).

        ``repeated`` says the record's previous write failed too, so a notification can come
        once per outage instead of once per attempt.
        """
        subentry_id = self.coordinator.record_of[result.key].subentry_id
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
                "entry_id": self.coordinator.config_entry.entry_id,
                "entity_id": entity_id,
                **result.as_event(),
                "repeated": result.action is Action.FAILED and result.key in self.failed_writes,
            },
        )
