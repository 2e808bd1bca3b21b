"""Snapshot helpers: the `snap` fixture, and the entry the snapshot tests set up.

The per-platform snapshots (test_sensor.py, test_binary_sensor.py, test_button.py) and the device
snapshots (test_snapshots.py) pin what users' automations and dashboards depend on. Each platform
is set up alone; its entity registry entries (unique ids, entity ids, translation keys,
categories), states and attributes are pinned, and so is the entry's device. After a deliberate
change to the entities, regenerate with:

    .venv/bin/python -m pytest tests/test_sensor.py tests/test_binary_sensor.py \\
        tests/test_button.py tests/test_snapshots.py --snapshot-update

and review the diff of tests/__snapshots__/: a changed unique id orphans the user's entities, a
changed entity id breaks their automations.
"""

from __future__ import annotations

import re
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigSubentryDataWithId
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion
from syrupy.location import PyTestLocation
from syrupy.types import PropertyPath, SerializableData

from devtools.fakes.gandi import FakeGandi
from tests.integration import PublicSources, make_entry, setup_entry

# Fixed, so that unique ids and device identifiers (built from it) are the same on every run.
ENTRY_ID = "01JESDDNSSNAPSHOTENTRY0000"
SUBENTRY_IDS = ("01JESDDNSSNAPSHOTRECORD001", "01JESDDNSSNAPSHOTRECORD002")
NOW = "2026-01-02T03:04:05+00:00"

# Fields that differ between the Home Assistant releases we support (2025.4 ... 2026.11), and
# say nothing about our entities: left out so that one snapshot holds on every leg.
_VERSION_FIELDS = frozenset(
    # entity: 2026.x adds None to aliases, compat_name, object_id_base, suggested_object_id
    {"aliases", "compat_name", "object_id_base", "suggested_object_id"}
    | {"is_new", "primary_config_entry", "suggested_area"}  # device: gone in 2026.x
    # device: 2026.x's serializer names them config_entry_id / config_subentry_id (<ANY> anyway)
    | {"config_entries", "config_entries_subentries", "config_entry_id", "config_subentry_id"}
)

_PORT = re.compile(r"127\.0\.0\.1:\d+")


def _stable(*, data: SerializableData, path: PropertyPath) -> SerializableData:
    """Placeholders for what changes from run to run: loopback ports and measured times."""
    if path and path[-1][0] == "detection_time_ms":
        return "<ms>"
    if isinstance(data, str):
        return _PORT.sub("127.0.0.1:<port>", data)
    return data


def _leave_out(*, prop: Any, path: PropertyPath) -> bool:
    return not path and prop in _VERSION_FIELDS  # top-level fields of an entry only


class _Extension(HomeAssistantSnapshotExtension):
    """Home Assistant's serializer, in tests/__snapshots__/ like the project's other snapshots."""

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        return super(HomeAssistantSnapshotExtension, cls).dirname(test_location=test_location)


@pytest.fixture
def snap(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """HA's serializer (ids it makes up are <ANY>), minus what varies by run or by release."""
    return snapshot.use_extension(_Extension).with_defaults(matcher=_stable, exclude=_leave_out)


def fixed_entry(entry: MockConfigEntry) -> MockConfigEntry:
    """The same account as `make_entry` builds, with fixed entry and subentry ids."""
    return MockConfigEntry(
        domain=entry.domain,
        title=entry.title,
        unique_id=entry.unique_id,
        data=dict(entry.data),
        options=dict(entry.options),
        version=entry.version,
        minor_version=entry.minor_version,
        entry_id=ENTRY_ID,
        subentries_data=[
            ConfigSubentryDataWithId(**{**subentry.as_dict(), "subentry_id": SUBENTRY_IDS[index]})
            for index, subentry in enumerate(entry.subentries.values())
        ],
    )


async def set_up(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    platforms: list[Platform],
) -> MockConfigEntry:
    # The third source is slow: the two first agree, it is cancelled, always the same picture.
    public_sources.servers[2].delay = 2.0
    entry = fixed_entry(make_entry(fake_gandi, public_sources, records=["home", "@"]))
    with patch("custom_components.esddns.PLATFORMS", platforms):
        await setup_entry(hass, entry)
    return entry


async def check_platform(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    snap: SnapshotAssertion,
    platform: Platform,
) -> None:
    """Every entity of ``platform``, set up alone: registry entry, state and attributes after
    the first sync, each on its device."""
    entry = await set_up(hass, fake_gandi, public_sources, [platform])
    await snapshot_platform(hass, entity_registry, snap, entry.entry_id)
    devices = {
        next(iter(d.identifiers))[1]: d.id
        for d in dr.async_entries_for_config_entry(device_registry, entry.entry_id)
    }
    for entity in er.async_entries_for_config_entry(entity_registry, entry.entry_id):
        # A record's entities on its own device, the account's on the account's.
        assert entity.device_id == devices[entity.config_subentry_id or ENTRY_ID]
