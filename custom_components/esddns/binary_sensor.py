"""Binary sensors: the account's health, and the drift of each record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_point_in_utc_time

from .coordinator import EsddnsConfigEntry
from .entity import EsddnsRecordEntity, async_add_account_entities
from .gandi import RecordType
from .records import ManagedRecord

PARALLEL_UPDATES = 0

HEALTH = BinarySensorEntityDescription(
    key="dns_up_to_date",
    translation_key="dns_up_to_date",
    device_class=BinarySensorDeviceClass.PROBLEM,
)
# "A drift", "AAAA drift": on when the rrset no longer holds what it should.
DRIFT = {
    rtype: BinarySensorEntityDescription(
        key=f"drift_{rtype}", translation_key="drift", device_class=BinarySensorDeviceClass.PROBLEM
    )
    for rtype in RecordType
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EsddnsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the account's health sensor and one drift sensor per managed rrset."""
    async_add_account_entities(
        entry,
        "binary_sensor",
        async_add_entities,
        lambda: [HealthSensor(entry)],
        lambda record: [DriftSensor(entry, record, rtype) for rtype in record.types],
    )


class _RecordsAndAddressSensor(EsddnsRecordEntity, BinarySensorEntity):
    """A problem sensor that compares the records with the public address."""

    async def async_added_to_hass(self) -> None:
        """Also follow the public address, which changes on its own schedule."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.coordinator.detection.async_add_listener(self._handle_coordinator_update)
        )


class DriftSensor(_RecordsAndAddressSensor):
    """On when a record no longer holds what it should (address or TTL)."""

    def __init__(self, entry: EsddnsConfigEntry, record: ManagedRecord, rtype: RecordType) -> None:
        """Compare one rrset of a record with its desired state."""
        super().__init__(entry, DRIFT[rtype], record)
        self._subentry_id = record.subentry_id
        self._type = rtype
        self._attr_translation_placeholders = {"type": rtype.value}

    @property
    def available(self) -> bool:
        """Drift is known only with both the record and a consensus address."""
        return super().available and self._drift() is not None

    @property
    def is_on(self) -> bool | None:
        """Whether the record differs from what it should hold."""
        return self._drift()

    def _drift(self) -> bool | None:
        return self.coordinator.drift(self.coordinator.key_of(self._subentry_id, self._type))


class HealthSensor(_RecordsAndAddressSensor):
    """One signal for dashboards and uptime checks: on when something keeps DNS from being
    right, and lasts.

    On when a record drifted, a write failed, a record can't be read, or a family a record
    needs has no fresh consensus; the attributes say which. A drift that the automatic sync is
    about to fix, and a failure that has not lasted yet, are not problems (AccountSyncer).
    """

    def __init__(self, entry: EsddnsConfigEntry) -> None:
        """Watch the whole account."""
        super().__init__(entry, HEALTH)
        self._syncer = entry.runtime_data.syncer
        self._problems: dict[str, list[str]] = {}
        self._recheck: CALLBACK_TYPE | None = None

    async def async_added_to_hass(self) -> None:
        """Look at the account once before the first update, and stop the timer at removal."""
        self._look()
        await super().async_added_to_hass()
        self.async_on_remove(self._cancel_recheck)

    @callback
    def _handle_coordinator_update(self) -> None:
        self._look()
        super()._handle_coordinator_update()

    @callback
    def _look(self) -> None:
        """Take the problems that have lasted, and look again when the next one will have."""
        self._problems = self._syncer.problems()
        self._cancel_recheck()
        if (due := self._syncer.next_problem_check()) is not None:
            self._recheck = async_track_point_in_utc_time(self.hass, self._recheck_due, due)

    @callback
    def _recheck_due(self, _now: datetime) -> None:
        self._recheck = None
        self._handle_coordinator_update()

    @callback
    def _cancel_recheck(self) -> None:
        if self._recheck is not None:
            self._recheck()
            self._recheck = None

    @property
    def available(self) -> bool:
        """A failing read is one of the problems it reports, not a reason to go away."""
        return True

    @property
    def is_on(self) -> bool:
        """Whether something is wrong, and has been for a while."""
        return any(self._problems.values())

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Which part is wrong; nothing when all is well."""
        return {name: found for name, found in self._problems.items() if found}
