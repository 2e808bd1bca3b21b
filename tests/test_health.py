"""The "DNS up to date" health sensor: one signal that says which part is wrong."""

from __future__ import annotations

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant

from custom_components.esddns.const import DOMAIN, SERVICE_SYNC
from devtools.fakes.gandi import FakeGandi
from tests.integration import PUBLIC, PublicSources, make_entry, setup_entry

HEALTH = "binary_sensor.esddns_example_com_dns_up_to_date"
PROBLEMS = ("drifted_records", "failed_writes", "no_consensus", "unreadable_records")


def _problems(hass: HomeAssistant) -> dict[str, list[str]]:
    state = hass.states.get(HEALTH)
    assert state is not None
    return {key: state.attributes[key] for key in PROBLEMS if key in state.attributes}


async def test_health_is_off_when_all_is_well(
    hass: HomeAssistant, fake_gandi: FakeGandi, public_sources: PublicSources
) -> None:
    """Records in line, consensus fresh: off, and no attribute rows to read."""
    fake_gandi.set_rrset("example.com", "home", "A", [PUBLIC])
    await setup_entry(hass, make_entry(fake_gandi, public_sources))
    assert hass.states.get(HEALTH).state == STATE_OFF
    assert _problems(hass) == {}
    assert hass.states.get(HEALTH).attributes["device_class"] == "problem"


async def test_health_names_each_problem(
    hass: HomeAssistant, fake_gandi: FakeGandi, public_sources: PublicSources
) -> None:
    """Drift, a refused write, unreadable records and a lost consensus each show up by name."""
    fake_gandi.set_rrset("example.com", "home", "A", ["81.2.69.1"])
    entry = make_entry(fake_gandi, public_sources, auto_sync=False)
    await setup_entry(hass, entry)
    records = entry.runtime_data.records
    assert hass.states.get(HEALTH).state == STATE_ON
    assert _problems(hass) == {"drifted_records": ["home.example.com A"]}

    fake_gandi.fail_next("409")
    await hass.services.async_call(
        DOMAIN, SERVICE_SYNC, {"force": False}, blocking=True, return_response=True
    )
    problems = _problems(hass)
    assert problems["drifted_records"] == ["home.example.com A"]
    assert problems["failed_writes"][0].startswith("home.example.com A: ")

    fake_gandi.fail_next("503")
    await records.async_refresh()
    assert hass.states.get(HEALTH).state == STATE_ON
    assert _problems(hass)["unreadable_records"] == ["home.example.com A"]

    public_sources.answer("81.2.69.10", "81.2.69.11", "81.2.69.12")
    await entry.runtime_data.detection.async_refresh()
    await records.async_refresh()
    assert _problems(hass)["no_consensus"] == ["ipv4"]

    # Everything put right: a sync that works clears the failure, the drift and the rest.
    public_sources.answer(PUBLIC)
    await entry.runtime_data.detection.async_refresh()
    await hass.services.async_call(DOMAIN, SERVICE_SYNC, {}, blocking=True, return_response=True)
    assert hass.states.get(HEALTH).state == STATE_OFF
    assert _problems(hass) == {}
