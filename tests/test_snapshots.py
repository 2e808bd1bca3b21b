"""The devices' snapshots (tests/__snapshots__/test_snapshots.ambr), and proof that the
snapshots pin the unique ids.

The entities are pinned per platform: test_sensor.py, test_binary_sensor.py and test_button.py.
The helpers, and how to regenerate the snapshots after a deliberate change: tests/snapshots.py.
"""

from __future__ import annotations

import os
from pathlib import Path
import re
import subprocess
import sys
import textwrap

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from syrupy.assertion import SnapshotAssertion

from devtools.fakes.gandi import FakeGandi
from tests.integration import PublicSources
from tests.snapshots import NOW, set_up

# The per-platform snapshot tests: a changed unique-id format must fail each of them.
PLATFORM_TESTS = [
    "tests/test_sensor.py::test_entities",
    "tests/test_binary_sensor.py::test_entities",
    "tests/test_button.py::test_entities",
]


@pytest.mark.freeze_time(NOW)
async def test_device(
    hass: HomeAssistant,
    device_registry: dr.DeviceRegistry,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    snap: SnapshotAssertion,
) -> None:
    """The account's service device and one device per record, named by its full name
    (their identifiers are what entities attach to)."""
    entry = await set_up(hass, fake_gandi, public_sources, [Platform.BUTTON])
    devices = dr.async_entries_for_config_entry(device_registry, entry.entry_id)
    assert len(devices) == 3
    for device in sorted(devices, key=lambda device: device.name or ""):
        assert device == snap  # one snapshot each: version-specific fields are left out


_OTHER_UNIQUE_IDS = """
    import pytest
    from homeassistant.helpers.entity import Entity


    @pytest.fixture(autouse=True)
    def other_unique_ids(monkeypatch):
        # Some new scheme: every unique id gains a suffix (a user's entities would be orphaned).
        changed = property(lambda self: f"{self._attr_unique_id}-v2")
        monkeypatch.setattr(Entity, "unique_id", changed)
"""


def test_a_changed_unique_id_format_fails_the_snapshots(
    tmp_path: Path, snapshot: SnapshotAssertion
) -> None:
    """The snapshots really pin the unique ids: run the platform tests with another format
    (in a child pytest, which never updates the snapshot file) and see them fail on it."""
    if snapshot.update_snapshots:
        pytest.skip("the snapshot file is being rewritten: what is on disk is stale by design")
    (tmp_path / "other_unique_ids.py").write_text(textwrap.dedent(_OTHER_UNIQUE_IDS))
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(root)]))
    env["PYTEST_ADDOPTS"] = env.get("PYTEST_ADDOPTS", "").replace("--snapshot-update", "")
    plugins = ["-p", "no:cacheprovider", "-p", "other_unique_ids"]
    run = subprocess.run(  # noqa: S603 - our own command, no shell
        [sys.executable, "-m", "pytest", "-vv", *plugins, *PLATFORM_TESTS],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    out = run.stdout + run.stderr
    summary = out.strip().splitlines()[-1]
    assert run.returncode == 1, out
    assert "failed" in summary, out
    assert "passed" not in summary, out  # every platform fails
    assert re.search(r"^E +- +'unique_id': '[^']*(?<!-v2)',$", out, re.MULTILINE), out
    assert re.search(r"^E +\+ +'unique_id': '[^']*-v2',$", out, re.MULTILINE), out
