"""Sensors: the public addresses, each record's value at Gandi, the last successful sync."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_CREDENTIAL_KIND
from .data import EsddnsConfigEntry, EsddnsData
from .entity import EsddnsDetectionEntity, EsddnsRecordEntity, async_add_account_entities
from .gandi import CredentialKind, RecordType
from .records import RecordKey, record_sensor_key
from .wan import Family

PARALLEL_UPDATES = 0

type Value = str | datetime | None


@dataclass(frozen=True, kw_only=True)
class EsddnsSensorEntityDescription(SensorEntityDescription):
    """A sensor of an account or of a record: its value, availability and attributes, read
    from the account's data (and the record's rrset ``key``)."""

    value_fn: Callable[[EsddnsData, RecordKey | None], Value]
    available_fn: Callable[[EsddnsData, RecordKey | None], bool] = lambda data, key: True
    attributes_fn: Callable[[EsddnsData, RecordKey | None], dict[str, Any]] | None = None


def _public(family: Family) -> EsddnsSensorEntityDescription:
    """The agreed public address of one family; unavailable without consensus."""

    def address(data: EsddnsData) -> str | None:
        round_ = data.detection.data
        found = round_.address(family) if round_ is not None else None
        return str(found) if found is not None else None

    def attributes(data: EsddnsData, _key: RecordKey | None) -> dict[str, Any]:
        """Who was asked, who agreed, who said something else, and how long it took."""
        round_ = data.detection.data
        assert round_ is not None  # available
        detection = round_.detections[family]
        found: dict[str, Any] = {
            "sources_asked": len(detection.outcomes),
            "sources_agreeing": sorted(o.source.name for o in detection.agreeing),
            "detection_time_ms": round(detection.elapsed_ms, 1),
        }
        disagreeing = sorted(f"{o.address} ({o.source.name})" for o in detection.disagreeing)
        if disagreeing:  # no blank row when every source agreed
            found["disagreeing_answers"] = disagreeing
        return found

    return EsddnsSensorEntityDescription(
        key=f"public_{family}",
        translation_key=f"public_{family}",
        value_fn=lambda data, _key: address(data),
        available_fn=lambda data, _key: (
            data.detection.last_update_success and address(data) is not None
        ),
        attributes_fn=attributes,
    )


def _record_value(data: EsddnsData, key: RecordKey | None) -> str | None:
    """The record's values at Gandi; unknown while the record is absent."""
    rrset = (data.records.data or {}).get(key) if key is not None else None
    return ", ".join(rrset.values) if rrset is not None else None


def _record_attributes(data: EsddnsData, key: RecordKey | None) -> dict[str, Any]:
    """Whether the record exists, its TTL, and what it should hold."""
    rrset = (data.records.data or {}).get(key) if key is not None else None
    desired = data.syncer.desired(key) if key is not None else None
    return {
        "present": rrset is not None,
        "ttl": rrset.ttl if rrset is not None else None,
        "desired": str(desired) if desired is not None else None,
    }


PUBLIC_ADDRESS = {family: _public(family) for family in Family}
LAST_SYNC = EsddnsSensorEntityDescription(
    key="last_sync",
    translation_key="last_sync",
    device_class=SensorDeviceClass.TIMESTAMP,
    entity_category=EntityCategory.DIAGNOSTIC,
    # When ESDDNS last wrote a record of the account (the history is local: always available).
    value_fn=lambda data, _key: data.history.last_success,
)
# When the account's personal access token expires, as the user gave it (tokens only).
TOKEN_EXPIRES = EsddnsSensorEntityDescription(
    key="token_expires",
    translation_key="token_expires",
    device_class=SensorDeviceClass.TIMESTAMP,
    value_fn=lambda data, _key: data.expiry.expires_at,
)
# "A record", "AAAA record": what the rrset holds at Gandi.
RECORD_VALUE = {
    rtype: EsddnsSensorEntityDescription(
        key=record_sensor_key(rtype),
        translation_key="record_value",
        value_fn=_record_value,
        # Unavailable while its domain can't be read.
        available_fn=lambda data, key: (
            data.records.last_update_success and key in (data.records.data or {})
        ),
        attributes_fn=_record_attributes,
    )
    for rtype in RecordType
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EsddnsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the account's sensors, then each record's."""
    records = entry.runtime_data.records
    token = entry.data[CONF_CREDENTIAL_KIND] == CredentialKind.TOKEN.value
    async_add_account_entities(
        entry,
        "sensor",
        async_add_entities,
        lambda: [
            *(PublicAddressSensor(entry, family) for family in sorted(records.families)),
            EsddnsSensor(entry, LAST_SYNC),
            *([EsddnsSensor(entry, TOKEN_EXPIRES)] if token else []),
        ],
        lambda record: [
            EsddnsSensor(entry, RECORD_VALUE[rtype], record, rtype) for rtype in record.types
        ],
    )


class _Described(SensorEntity):
    """What a sensor shows comes from its description's functions (first in the bases, so
    that its availability wins over the coordinator's)."""

    entity_description: EsddnsSensorEntityDescription
    data: EsddnsData
    key: RecordKey | None

    @property
    def available(self) -> bool:
        """As the description says."""
        return self.entity_description.available_fn(self.data, self.key)

    @property
    def native_value(self) -> Value:
        """As the description says."""
        return self.entity_description.value_fn(self.data, self.key)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """As the description says, if it has any."""
        if (attributes := self.entity_description.attributes_fn) is None:
            return None
        return attributes(self.data, self.key)


class EsddnsSensor(_Described, EsddnsRecordEntity):
    """A sensor of the account or of a record, following the records at Gandi."""


class PublicAddressSensor(_Described, EsddnsDetectionEntity):
    """The agreed public address of one family (updating it runs a detection)."""

    # The per-source detail changes every round: useful on screen, noise in the recorder.
    _unrecorded_attributes = frozenset(
        {"sources_asked", "sources_agreeing", "disagreeing_answers", "detection_time_ms"}
    )

    def __init__(self, entry: EsddnsConfigEntry, family: Family) -> None:
        """Follow one family's consensus."""
        super().__init__(entry, PUBLIC_ADDRESS[family])
