"""The "DNS up to date" health sensor: one signal that says which part is wrong, and only when
something stays wrong."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.esddns.const import DOMAIN, SERVICE_SYNC
from devtools.fakes.gandi import FakeGandi
from tests.integration import NEW_PUBLIC, PUBLIC, PublicSources, record_subentry, tick

HEALTH = "binary_sensor.esddns_example_com_dns_up_to_date"
PROBLEMS = ("drifted_records", "failed_writes", "no_consensus", "unreadable_records")


def _problems(hass: HomeAssistant) -> dict[str, list[str]]:
    state = hass.states.get(HEALTH)
    assert state is not None
    return {key: state.attributes[key] for key in PROBLEMS if key in state.attributes}


def _states_of(hass: HomeAssistant, entity_id: str) -> list[str]:
    """Every state ``entity_id`` takes from now on, as an automation's trigger sees them."""
    seen: list[str] = []

    @callback
    def _changed(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        seen.append(new.state if new is not None else "removed")

    async_track_state_change_event(hass, [entity_id], _changed)
    return seen


@pytest.mark.gandi_holds(PUBLIC)
@pytest.mark.usefixtures("init_integration")
async def test_health_is_off_when_all_is_well(hass: HomeAssistant) -> None:
    """Records in line, consensus fresh: off, and no attribute rows to read."""
    assert hass.states.get(HEALTH).state == STATE_OFF
    assert _problems(hass) == {}
    assert hass.states.get(HEALTH).attributes["device_class"] == "problem"


@pytest.mark.gandi_holds(PUBLIC)
@pytest.mark.usefixtures("init_integration")
async def test_address_changes_synced_automatically_raise_no_alarm(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Five address changes, each rewritten by the automatic sync: the alarm never goes off
    (0.2.0 turned it on and off again five times), and each record holds the new address."""
    seen = _states_of(hass, HEALTH)

    for last in range(161, 166):
        address = f"81.2.69.{last}"
        public_sources.answer(address)
        await tick(hass, freezer, 5)  # the next detection
        assert fake_gandi.get_rrset("example.com", "home", "A").values == [address]
        await tick(hass, freezer, 3)  # longer than the grace

    assert len(fake_gandi.writes()) == 5
    assert STATE_ON not in seen
    assert hass.states.get(HEALTH).state == STATE_OFF


@pytest.mark.gandi_holds("81.2.69.1")
@pytest.mark.entry(auto_sync=False)
@pytest.mark.usefixtures("init_integration")
async def test_a_drift_without_automatic_sync_is_a_problem_at_once(hass: HomeAssistant) -> None:
    """Nothing will fix it but the user: no grace."""
    assert hass.states.get(HEALTH).state == STATE_ON
    assert _problems(hass) == {"drifted_records": ["home.example.com A"]}


@pytest.mark.gandi_holds(PUBLIC)
@pytest.mark.usefixtures("init_integration")
async def test_failing_writes_are_reported_within_minutes(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Gandi refuses the rewrite an address change calls for: not an alarm for the first
    seconds, one once it has lasted the grace, with Gandi's reason; gone once a write works."""
    seen = _states_of(hass, HEALTH)

    fake_gandi.fail_next("409", 100, method="PUT")
    public_sources.answer(NEW_PUBLIC)
    await tick(hass, freezer, 5)
    assert fake_gandi.get_rrset("example.com", "home", "A").values == [PUBLIC]
    assert hass.states.get(HEALTH).state == STATE_OFF

    await tick(hass, freezer, 1)
    assert hass.states.get(HEALTH).state == STATE_OFF
    await tick(hass, freezer, 1)  # two minutes since the failure
    assert hass.states.get(HEALTH).state == STATE_ON
    problems = _problems(hass)
    assert problems["drifted_records"] == ["home.example.com A"]
    assert problems["failed_writes"] == ["home.example.com A: Conflict with the zone"]

    fake_gandi.clear_faults()
    await tick(hass, freezer, 3)  # the next detection retries, and the write works
    assert fake_gandi.get_rrset("example.com", "home", "A").values == [NEW_PUBLIC]
    assert hass.states.get(HEALTH).state == STATE_OFF
    assert _problems(hass) == {}
    assert seen.count(STATE_ON) == 1


@pytest.mark.gandi_holds(PUBLIC)
async def test_unreadable_records_and_lost_consensus_count_once_they_last(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A read that fails once, or a round without consensus, is no alarm; the same after the
    grace is one, named in the attributes."""
    entry = init_integration
    records = entry.runtime_data.records

    fake_gandi.fail_next("503", 100, method="GET")
    await records.async_refresh()
    assert hass.states.get(HEALTH).state == STATE_OFF
    await tick(hass, freezer, 2)
    assert _problems(hass) == {"unreadable_records": ["home.example.com A"]}
    fake_gandi.clear_faults()
    await records.async_refresh()
    assert hass.states.get(HEALTH).state == STATE_OFF

    public_sources.answer("81.2.69.10", "81.2.69.11", "81.2.69.12")
    await tick(hass, freezer, 5)
    assert hass.states.get(HEALTH).state == STATE_OFF
    await tick(hass, freezer, 2)
    assert _problems(hass) == {"no_consensus": ["IPv4"]}

    public_sources.answer(PUBLIC)
    await tick(hass, freezer, 5)
    assert hass.states.get(HEALTH).state == STATE_OFF
    assert _problems(hass) == {}


@pytest.mark.gandi_holds(PUBLIC)
@pytest.mark.entry(options={"detection_interval": 1})
@pytest.mark.usefixtures("init_integration")
async def test_a_problem_shows_by_the_next_detection_when_that_is_sooner(
    hass: HomeAssistant, public_sources: PublicSources, freezer: FrozenDateTimeFactory
) -> None:
    """With detections every minute, the grace is one minute, not two."""
    public_sources.answer("81.2.69.10", "81.2.69.11", "81.2.69.12")
    await tick(hass, freezer, 1)
    assert hass.states.get(HEALTH).state == STATE_OFF
    await tick(hass, freezer, 1)
    assert _problems(hass) == {"no_consensus": ["IPv4"]}


@pytest.mark.gandi_holds(PUBLIC)
async def test_the_account_stays_available_while_records_come_and_go(
    hass: HomeAssistant, fake_gandi: FakeGandi, init_integration: MockConfigEntry
) -> None:
    """Adding and removing a record changes that record's entities only: the account's
    alarm and address sensors never become unavailable (0.2.0 reloaded the account)."""
    entry = init_integration
    watched = [HEALTH, "sensor.esddns_example_com_public_ipv4_address"]
    seen = {entity_id: _states_of(hass, entity_id) for entity_id in watched}

    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "record"), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"domain": "example.com", "name": "vpn", "record_types": ["A"], "ttl": 300,
         "auto_sync": True},
    )  # fmt: skip
    await hass.async_block_till_done(wait_background_tasks=True)
    assert fake_gandi.get_rrset("example.com", "vpn", "A").values == [PUBLIC]
    assert hass.states.get("sensor.vpn_example_com_a_record").state == PUBLIC

    vpn = next(s for s in entry.subentries.values() if s.data["name"] == "vpn")
    assert hass.config_entries.async_remove_subentry(entry, vpn.subentry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get("sensor.vpn_example_com_a_record") is None

    for entity_id, states in seen.items():
        assert STATE_UNAVAILABLE not in states, entity_id
    assert hass.states.get(HEALTH).state == STATE_OFF


@pytest.mark.gandi_holds("81.2.69.1")
@pytest.mark.entry(subentries=[record_subentry("example.com", "home", ["A"], auto_sync=False)])
@pytest.mark.usefixtures("init_integration")
async def test_the_action_still_reports_a_refused_write_at_once(
    hass: HomeAssistant, fake_gandi: FakeGandi
) -> None:
    """The grace is the alarm's: the action's response says what Gandi answered right away."""
    fake_gandi.fail_next("409")
    response = await hass.services.async_call(
        DOMAIN, SERVICE_SYNC, {"force": False}, blocking=True, return_response=True
    )
    assert [r["result"] for r in response["records"]] == ["failed"]


@pytest.mark.gandi_holds(PUBLIC)
async def test_a_lasting_problem_stays_on_across_a_reload(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
) -> None:
    """Writes keep failing and the alarm is on; the account reloads (its options saved): the
    alarm comes back on at once, not off for a new grace and then on again (which would fire a
    "DNS not up to date" automation twice for one outage)."""
    entry = init_integration
    fake_gandi.fail_next("409", 100, method="PUT")
    public_sources.answer(NEW_PUBLIC)
    await tick(hass, freezer, 5)
    await tick(hass, freezer, 2)
    assert hass.states.get(HEALTH).state == STATE_ON
    seen = _states_of(hass, HEALTH)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(HEALTH).state == STATE_ON
    assert STATE_OFF not in seen
