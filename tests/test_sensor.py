"""The sensor platform, pinned by tests/__snapshots__/test_sensor.ambr.

The helpers, and how to regenerate the snapshots after a deliberate change: tests/snapshots.py.
"""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from syrupy.assertion import SnapshotAssertion

from devtools.fakes.gandi import FakeGandi
from tests.integration import PublicSources
from tests.snapshots import NOW, check_platform


@pytest.mark.freeze_time(NOW)
async def test_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    snap: SnapshotAssertion,
) -> None:
    """Every entity of the platform: registry entry, state and attributes after the first sync."""
    await check_platform(
        hass, entity_registry, device_registry, fake_gandi, public_sources, snap, Platform.SENSOR
    )
