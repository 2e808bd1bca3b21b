"""The blueprints, loaded by Home Assistant's own blueprint code, notify what a user expects."""

from __future__ import annotations

from pathlib import Path
import shutil
from typing import Any
from urllib.parse import parse_qs, urlparse

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from devtools.fakes.gandi import FakeGandi
from tests.integration import NEW_PUBLIC, PUBLIC, PublicSources, setup_entry, tick

ROOT = Path(__file__).parent.parent
BLUEPRINTS = ROOT / "blueprints" / "automation" / "esddns"
REPO = "https://github.com/esddns/esddns-homeassistant"
RAW = "https://raw.githubusercontent.com/esddns/esddns-homeassistant/main/"
DRIFT = "binary_sensor.home_example_com_a_drift"
PHONE = "notify.mobile_app_phone"


@pytest.fixture
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A config dir holding the blueprints where an import puts them."""
    hass.config.config_dir = str(tmp_path)
    shutil.copytree(BLUEPRINTS, tmp_path / "blueprints" / "automation" / "esddns")
    return tmp_path


async def _automation(hass: HomeAssistant, blueprint: str, **inputs: Any) -> None:
    """One automation made from ``blueprint`` with ``inputs``, as the UI saves it."""
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                {
                    "alias": blueprint.removesuffix(".yaml"),
                    "use_blueprint": {"path": f"esddns/{blueprint}", "input": inputs},
                }
            ]
        },
    )
    await hass.async_block_till_done()
    state = hass.states.get(f"automation.{blueprint.removesuffix('.yaml')}")
    assert state is not None
    assert state.state == STATE_ON  # an invalid config would leave it unavailable


def _said(calls: list[ServiceCall]) -> list[tuple[str, str]]:
    return [(call.data["title"], " ".join(call.data["message"].split())) for call in calls]


async def test_every_blueprint_loads_and_says_where_it_lives(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """HA's loader accepts each file; its source URL (for re-import) is its place on GitHub."""
    assert await async_setup_component(hass, "automation", {})
    loaded = await async_get_blueprints(hass).async_get_blueprints()
    files = sorted(path.name for path in BLUEPRINTS.glob("*.yaml"))
    assert sorted(
        path.removeprefix("esddns/") for path in loaded if path.startswith("esddns/")
    ) == (files)
    for name in files:
        blueprint = loaded[f"esddns/{name}"]
        assert not isinstance(blueprint, Exception), blueprint
        assert blueprint.metadata["source_url"] == (
            f"{REPO}/blob/main/blueprints/automation/esddns/{name}"
        )


def test_readme_import_badges_point_at_the_files() -> None:
    """Each blueprint has a my.home-assistant.io import link to its raw file on main."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = set()
    for word in readme.split("("):
        url = word.split(")")[0]
        if url.startswith("https://my.home-assistant.io/redirect/blueprint_import/"):
            (target,) = parse_qs(urlparse(url).query)["blueprint_url"]
            assert target.startswith(RAW)
            assert (ROOT / target.removeprefix(RAW)).is_file(), target
            linked.add(target.removeprefix(RAW))
    assert linked == {
        f"blueprints/automation/esddns/{path.name}" for path in BLUEPRINTS.glob("*.yaml")
    }


async def test_public_ip_changed_notifies_before_and_after(
    hass: HomeAssistant,
    config_dir: Path,
    public_sources: PublicSources,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A new public address, agreed on by the sources: one message with both addresses."""
    calls = async_mock_service(hass, "notify", "mobile_app_phone")
    await _automation(hass, "notify_public_ip_changed.yaml", notify_service=PHONE)
    await setup_entry(hass, mock_config_entry)
    assert calls == []  # the first detection after a start is no change

    public_sources.answer(NEW_PUBLIC)
    await tick(hass, freezer, 5)

    assert _said(calls) == [
        ("Public IPv4 address changed", f"Public IPv4 changed: {PUBLIC} → {NEW_PUBLIC}")
    ]


async def test_public_ip_changed_keeps_to_the_chosen_family_and_defaults(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """Only the chosen families notify; with no inputs it notifies Home Assistant itself."""
    phone = async_mock_service(hass, "notify", "mobile_app_phone")
    built_in = async_mock_service(hass, "notify", "persistent_notification")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                {
                    "alias": "v6 only",
                    "use_blueprint": {
                        "path": "esddns/notify_public_ip_changed.yaml",
                        "input": {"notify_service": PHONE, "families": ["ipv6"]},
                    },
                },
                {
                    "alias": "defaults",
                    "use_blueprint": {
                        "path": "esddns/notify_public_ip_changed.yaml",
                        "input": {},
                    },
                },
            ]
        },
    )
    await hass.async_block_till_done()

    hass.bus.async_fire(
        "esddns_public_ip_changed", {"family": "ipv4", "before": PUBLIC, "after": NEW_PUBLIC}
    )
    hass.bus.async_fire(
        "esddns_public_ip_changed",
        {"family": "ipv6", "before": "2a01:4f8:c17:1::1", "after": "2a01:4f8:c17:1::2"},
    )
    await hass.async_block_till_done()

    assert _said(phone) == [
        (
            "Public IPv6 address changed",
            "Public IPv6 changed: 2a01:4f8:c17:1::1 → 2a01:4f8:c17:1::2",
        )
    ]
    assert sorted(_said(built_in)) == [
        ("Public IPv4 address changed", f"Public IPv4 changed: {PUBLIC} → {NEW_PUBLIC}"),
        (
            "Public IPv6 address changed",
            "Public IPv6 changed: 2a01:4f8:c17:1::1 → 2a01:4f8:c17:1::2",
        ),
    ]


async def test_refused_update_notifies_record_address_and_reason(
    hass: HomeAssistant,
    config_dir: Path,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Gandi refuses the rewrite: the message names the record, what it holds, and why."""
    calls = async_mock_service(hass, "notify", "mobile_app_phone")
    await _automation(hass, "notify_record_not_updated.yaml", notify_service=PHONE)
    fake_gandi.set_rrset("example.com", "home", "A", [PUBLIC])
    entry = mock_config_entry
    await setup_entry(hass, entry)

    fake_gandi.fail_next("409")
    public_sources.answer(NEW_PUBLIC)
    await tick(hass, freezer, 5)

    assert fake_gandi.get_rrset("example.com", "home", "A").values == [PUBLIC]
    # "Conflict with the zone" is Gandi's message for the 409 (devtools/fakes/gandi.py).
    told = [
        (
            "DNS record not updated",
            "home.example.com A could not be updated: Conflict with the zone. "
            f"It still holds {PUBLIC}.",
        )
    ]
    assert _said(calls) == told

    # The same outage goes on for two more attempts: no new message. Once a write works and
    # a later one fails again, that is a new outage.
    fake_gandi.fail_next("409", count=2)
    for _ in range(2):
        await entry.runtime_data.syncer.async_sync(force=False, dry_run=False)
        await hass.async_block_till_done()
    assert _said(calls) == told
    await entry.runtime_data.syncer.async_sync(force=False, dry_run=False)
    assert fake_gandi.get_rrset("example.com", "home", "A").values == [NEW_PUBLIC]
    fake_gandi.fail_next("409")
    public_sources.answer(PUBLIC)
    await tick(hass, freezer, 5)
    assert len(_said(calls)) == 2


@pytest.mark.entry(auto_sync=False)
async def test_drift_that_lasts_notifies_once_with_both_addresses(
    hass: HomeAssistant,
    config_dir: Path,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Automatic sync off, the record drifted: told after the minutes chosen, not before."""
    calls = async_mock_service(hass, "notify", "mobile_app_phone")
    fake_gandi.set_rrset("example.com", "home", "A", [NEW_PUBLIC])
    await setup_entry(hass, mock_config_entry)
    assert hass.states.get(DRIFT).state == STATE_ON
    await _automation(
        hass,
        "notify_record_not_updated.yaml",
        notify_service=PHONE,
        drift_sensors=[DRIFT],
        minutes=20,
    )
    # The trigger counts from a change to on: the sensor goes off and on again.
    public_sources.answer(NEW_PUBLIC)
    await tick(hass, freezer, 5)
    assert hass.states.get(DRIFT).state != STATE_ON
    public_sources.answer(PUBLIC)
    await tick(hass, freezer, 5)
    assert hass.states.get(DRIFT).state == STATE_ON

    await tick(hass, freezer, 19)
    assert calls == []
    await tick(hass, freezer, 1)

    assert fake_gandi.writes() == []  # the dry run behind the message writes nothing
    assert _said(calls) == [
        (
            "DNS record drifted",
            "home.example.com A drift: the record has not held the public address "
            f"for 20 minutes. home.example.com A holds {NEW_PUBLIC}; "
            f"the public address is {PUBLIC}.",
        )
    ]
    await tick(hass, freezer, 60)
    assert len(calls) == 1  # still drifted, no new message


async def test_refused_creation_says_the_record_held_nothing(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """A record that did not exist and could not be created: "nothing", not "None"."""
    calls = async_mock_service(hass, "notify", "mobile_app_phone")
    await _automation(hass, "notify_record_not_updated.yaml", notify_service=PHONE)
    hass.bus.async_fire(
        "esddns_record_synced",
        {
            "entry_id": "01J0000000000000000000000",
            "domain": "example.com",
            "record": "example.com",
            "name": "@",
            "type": "AAAA",
            "result": "failed",
            "before": None,
            "after": None,
            "reason": "Gandi asked to slow down",
            "repeated": False,
        },
    )
    await hass.async_block_till_done()
    assert _said(calls) == [
        (
            "DNS record not updated",
            "example.com AAAA could not be updated: Gandi asked to slow down. "
            "It still holds nothing.",
        )
    ]
