"""The `esddns.sync` action, the Sync now button, and the sync history across restarts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from http import HTTPStatus
from typing import Any

from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
import voluptuous as vol

from custom_components.esddns.const import DOMAIN, SERVICE_SYNC
from devtools.fakes.gandi import FakeGandi
from tests.integration import NEW_PUBLIC, PUBLIC, PublicSources, setup_entry

LAST_SYNC = "sensor.esddns_example_com_last_successful_sync"
BUTTON = "button.esddns_example_com_sync_now"
DRIFT = "binary_sensor.home_example_com_a_drift"


async def _sync(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, SERVICE_SYNC, data, blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    return response


def _record(
    name: str, before: list[str] | None, after: list[str] | None, action: str
) -> dict[str, Any]:
    return {
        "domain": "example.com",
        "name": name,
        "type": "A",
        "before": before,
        "after": after,
        "result": action,
        "action": action,  # 0.1.0's name, kept through 0.2
        "reason": None,
    }


def _manual_entry[T: Callable[..., Any]](test: T) -> T:
    """The entry `init_integration` sets up for ``test``: without automatic sync, `home`
    holding an old address, `vpn` the right one."""
    test = pytest.mark.entry(records=["home", "vpn"], auto_sync=False)(test)
    test = pytest.mark.gandi_holds(PUBLIC, name="vpn")(test)
    return pytest.mark.gandi_holds("81.2.69.1")(test)


@_manual_entry
@pytest.mark.usefixtures("init_integration")
async def test_dry_run_decides_and_writes_nothing(
    hass: HomeAssistant, fake_gandi: FakeGandi
) -> None:
    """dry_run reports would_update and unchanged, and sends no PUT."""
    response = await _sync(hass, dry_run=True)
    assert response == {
        "records": [
            _record("home", ["81.2.69.1"], [PUBLIC], "would_update"),
            _record("vpn", [PUBLIC], [PUBLIC], "unchanged"),
        ]
    }
    assert fake_gandi.writes() == []


@_manual_entry
async def test_sync_updates_drifted_records_and_keeps_history(
    hass: HomeAssistant, fake_gandi: FakeGandi, init_integration: MockConfigEntry
) -> None:
    """A real sync writes only the drifted record and sets the last-sync sensor."""
    entry = init_integration
    assert hass.states.get(LAST_SYNC).state == STATE_UNKNOWN
    response = await _sync(hass, config_entry_id=entry.entry_id)
    assert response == {
        "records": [
            _record("home", ["81.2.69.1"], [PUBLIC], "updated"),
            _record("vpn", [PUBLIC], [PUBLIC], "unchanged"),
        ]
    }
    assert [w.path.rsplit("/", 2)[-2] for w in fake_gandi.writes()] == ["home"]
    assert hass.states.get(LAST_SYNC).state != STATE_UNKNOWN
    history = entry.runtime_data.history.items
    assert [(h["record"], h["result"], h["after"]) for h in history] == [
        ("home.example.com", "updated", [PUBLIC])
    ]


@_manual_entry
@pytest.mark.usefixtures("init_integration")
async def test_action_reads_records_again_unless_told_not_to(
    hass: HomeAssistant, fake_gandi: FakeGandi
) -> None:
    """By default the action asks Gandi first; with force off, the last read decides."""
    fake_gandi.set_rrset("example.com", "home", "A", [PUBLIC])  # fixed elsewhere meanwhile
    stale = await _sync(hass, dry_run=True, force=False)
    assert stale["records"][0]["result"] == "would_update"
    fresh = await _sync(hass, dry_run=True)
    assert fresh["records"][0]["result"] == "unchanged"
    assert fake_gandi.writes() == []


@pytest.mark.gandi_holds(PUBLIC)
async def test_dry_run_with_auto_sync_on_never_writes(
    hass: HomeAssistant, fake_gandi: FakeGandi, init_integration: MockConfigEntry
) -> None:
    """The README's preview: dry_run (with its forced read) answers would_update and no PUT
    follows, although automatic sync is on; the next regular cycle does the write."""
    entry = init_integration
    fake_gandi.set_rrset("example.com", "home", "A", ["81.2.69.1"])  # changed behind our back

    for data in ({"dry_run": True, "force": True}, {"dry_run": True, "detect": True}):
        response = await _sync(hass, **data)
        assert response["records"][0]["result"] == "would_update"
        await hass.async_block_till_done(wait_background_tasks=True)
        assert fake_gandi.writes() == []

    # The next regular read acts on the drift.
    await entry.runtime_data.records.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert [w.body["rrset_values"] for w in fake_gandi.writes()] == [[PUBLIC]]


@_manual_entry
@pytest.mark.usefixtures("init_integration")
async def test_detect_first_uses_the_new_address(
    hass: HomeAssistant, public_sources: PublicSources
) -> None:
    """detect: true runs a detection before deciding (a router's "my IP changed" webhook)."""
    public_sources.answer(NEW_PUBLIC)
    without = await _sync(hass, dry_run=True)
    assert without["records"][1]["result"] == "unchanged"  # vpn still matches the old address
    response = await _sync(hass, detect=True)
    assert [(r["name"], r["result"], r["after"]) for r in response["records"]] == [
        ("home", "updated", [NEW_PUBLIC]),
        ("vpn", "updated", [NEW_PUBLIC]),
    ]

    public_sources.silence()
    with pytest.raises(HomeAssistantError) as err:
        await _sync(hass, detect=True)
    assert err.value.translation_key == "no_source_answered"


@_manual_entry
async def test_failed_write_is_reported(
    hass: HomeAssistant, fake_gandi: FakeGandi, init_integration: MockConfigEntry
) -> None:
    """A refused write is `failed` with Gandi's reason in the response, an error without one."""
    entry = init_integration
    fake_gandi.fail_next("503")
    response = await _sync(hass, force=False)
    home = response["records"][0]
    assert home["result"] == "failed"
    assert home["after"] == ["81.2.69.1"]
    assert home["reason"]
    assert [h["result"] for h in entry.runtime_data.history.items] == ["failed"]

    fake_gandi.fail_next("500")
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(DOMAIN, SERVICE_SYNC, {"force": False}, blocking=True)
    assert err.value.translation_key == "sync_failed"
    assert fake_gandi.get_rrset("example.com", "home", "A").values == ["81.2.69.1"]


@_manual_entry
@pytest.mark.usefixtures("init_integration")
async def test_unknown_entry_is_a_bad_parameter(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, fake_gandi: FakeGandi
) -> None:
    """An id that names no ESDDNS entry is refused like any bad parameter: 400 over REST."""
    with pytest.raises(vol.Invalid, match="No ESDDNS account has the id nope"):
        await _sync(hass, config_entry_id="nope")

    assert await async_setup_component(hass, "api", {})
    client = await hass_client()
    for body in ({"config_entry_id": "nope"}, {"config_entry_id": 5}, {"dry_run": "maybe"}):
        response = await client.post(f"/api/services/{DOMAIN}/{SERVICE_SYNC}", json=body)
        assert response.status == HTTPStatus.BAD_REQUEST, body
    assert fake_gandi.writes() == []


@_manual_entry
async def test_no_consensus_says_why_with_numbers(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    monkeypatch: pytest.MonkeyPatch,
    init_integration: MockConfigEntry,
) -> None:
    """Disagreeing sources and silent sources are different errors, each with its numbers."""
    entry = init_integration
    public_sources.answer("81.2.69.10", "81.2.69.11", "81.2.69.12")
    await entry.runtime_data.detection.async_refresh()
    with pytest.raises(ServiceValidationError) as err:
        await _sync(hass)
    assert err.value.translation_key == "no_consensus"
    assert err.value.translation_placeholders["agreeing"] == "1"
    assert err.value.translation_placeholders["quorum"] == "2"
    assert "81.2.69.11: 127.0.0.1:" in err.value.translation_placeholders["answers"]
    assert "Only 1 of the 2 providers" in str(err.value)

    public_sources.silence()
    await entry.runtime_data.detection.async_refresh()
    with pytest.raises(ServiceValidationError) as err:
        await _sync(hass)
    assert err.value.translation_key == "no_source_answered_family"
    assert "None of the 3 sources asked answered with a public IPv4 address" in str(err.value)

    # A consensus too old to trust (the detection schedule stalled) is not written either.
    public_sources.answer(PUBLIC)
    await entry.runtime_data.detection.async_refresh()
    monkeypatch.setattr("custom_components.esddns.detection.MAX_DETECTION_AGE", timedelta(0))
    with pytest.raises(ServiceValidationError) as err:
        await _sync(hass, force=False)
    assert err.value.translation_key == "detection_stale"
    assert fake_gandi.writes() == []


@_manual_entry
async def test_unloaded_entry_and_no_entries(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A named entry that is not loaded, or no entry at all, is a validation error."""
    entry = init_integration
    assert await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _sync(hass, config_entry_id=entry.entry_id)
    assert err.value.translation_key == "entry_not_loaded"
    with pytest.raises(ServiceValidationError) as err:
        await _sync(hass)
    assert err.value.translation_key == "no_entries"


@_manual_entry
@pytest.mark.usefixtures("init_integration")
async def test_gandi_failure_on_forced_read_is_an_error(
    hass: HomeAssistant, fake_gandi: FakeGandi
) -> None:
    """When the records can't be read, the action fails with a translated error."""
    fake_gandi.fail_next("502")
    with pytest.raises(HomeAssistantError) as err:
        await _sync(hass, force=True)
    assert err.value.translation_key == "read_failed"
    fake_gandi.revoke("token-example")
    with pytest.raises(HomeAssistantError) as err:
        await _sync(hass, force=True)
    assert err.value.translation_key == "invalid_auth"
    assert fake_gandi.writes() == []


@_manual_entry
@pytest.mark.usefixtures("init_integration")
async def test_a_failed_read_is_told_once(hass: HomeAssistant, fake_gandi: FakeGandi) -> None:
    """The error of a read that failed says what Gandi answered, once, not wrapped in the
    sentence of the failed read itself ("Gandi refused the credential for example.com: Gandi
    refused the credential for example.com: ...")."""
    fake_gandi.fail_next("502")
    with pytest.raises(HomeAssistantError) as err:
        await _sync(hass, force=True)
    assert str(err.value) == "Could not read the records of example.com at Gandi: Bad Gateway"
    fake_gandi.revoke("token-example")
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call("button", "press", {ATTR_ENTITY_ID: BUTTON}, blocking=True)
    message = str(err.value)
    assert message.startswith("Gandi refused the credential for example.com: ")
    assert message.count("example.com") == 1
    assert fake_gandi.writes() == []


@pytest.mark.gandi_holds(PUBLIC)
@pytest.mark.entry(auto_sync=False)
@pytest.mark.usefixtures("init_integration")
async def test_button_looks_at_gandi_first(hass: HomeAssistant, fake_gandi: FakeGandi) -> None:
    """A record changed at Gandi behind ESDDNS's back: Sync now reads it and puts it right."""
    assert hass.states.get(DRIFT).state == STATE_OFF
    fake_gandi.set_rrset("example.com", "home", "A", ["81.2.69.1"])
    fake_gandi.clear_requests()

    await hass.services.async_call("button", "press", {ATTR_ENTITY_ID: BUTTON}, blocking=True)
    assert [r.method for r in fake_gandi.requests][:1] == ["GET"]
    assert fake_gandi.get_rrset("example.com", "home", "A").values == [PUBLIC]
    assert hass.states.get(DRIFT).state == STATE_OFF


@_manual_entry
@pytest.mark.usefixtures("init_integration")
async def test_button_says_when_gandi_cannot_be_read(
    hass: HomeAssistant, fake_gandi: FakeGandi
) -> None:
    """A press that can't read the records raises a translated error and writes nothing."""
    fake_gandi.fail_next("503")
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call("button", "press", {ATTR_ENTITY_ID: BUTTON}, blocking=True)
    assert err.value.translation_key == "read_failed"
    assert fake_gandi.writes() == []
    await hass.services.async_call("button", "press", {ATTR_ENTITY_ID: BUTTON}, blocking=True)
    assert fake_gandi.get_rrset("example.com", "home", "A").values == [PUBLIC]


@_manual_entry
async def test_history_survives_a_restart(
    hass: HomeAssistant,
    public_sources: PublicSources,
    hass_storage: dict[str, Any],
    init_integration: MockConfigEntry,
) -> None:
    """The sync history is saved at once and read back by the next setup."""
    entry = init_integration
    await _sync(hass)
    stored = hass_storage[f"{DOMAIN}.{entry.entry_id}"]["data"]["items"]
    assert stored[0]["record"] == "home.example.com"
    written_at = hass.states.get(LAST_SYNC).state

    assert await hass.config_entries.async_unload(entry.entry_id)
    public_sources.answer(NEW_PUBLIC)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(LAST_SYNC).state == written_at
    assert entry.runtime_data.history.items[0]["after"] == [PUBLIC]

    # Removing the entry deletes its history file.
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert f"{DOMAIN}.{entry.entry_id}" not in hass_storage


@pytest.mark.entry(auto_sync=False)
async def test_damaged_history_starts_empty(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """A history file with junk in it does not break setup."""
    entry = mock_config_entry
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = {
        "version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}",
        "data": {"items": [{"time": "not a time"}, 7, None]},
    }
    await setup_entry(hass, entry)
    assert entry.runtime_data.history.items == []
    assert hass.states.get(LAST_SYNC).state == STATE_UNKNOWN


@pytest.mark.entry(records=["a", "b"], auto_sync=False)
async def test_detection_during_a_sync_is_used_for_the_remaining_records(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    init_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new consensus that lands while one record is being written goes to the next ones, and
    the record whose write it overtook is written again: both end with the new address."""
    entry = init_integration
    client = entry.runtime_data.client
    real_put = client.put_rrset

    async def put_then_detect(*args: Any, **kwargs: Any) -> None:
        await real_put(*args, **kwargs)
        if len(fake_gandi.writes()) == 1:  # the address changes during the first write
            public_sources.answer(NEW_PUBLIC)
            await entry.runtime_data.detection.async_refresh()

    monkeypatch.setattr(client, "put_rrset", put_then_detect)
    response = await _sync(hass)
    written = [(w.path.rsplit("/", 2)[-2], w.body["rrset_values"]) for w in fake_gandi.writes()]
    assert written == [("a", [PUBLIC]), ("a", [NEW_PUBLIC]), ("b", [NEW_PUBLIC])]
    assert [(r["name"], r["before"], r["after"]) for r in response["records"]] == [
        ("a", None, [PUBLIC]),
        ("a", [PUBLIC], [NEW_PUBLIC]),  # what the first write left
        ("b", None, [NEW_PUBLIC]),
    ]
    for name in ("a", "b"):
        assert fake_gandi.get_rrset("example.com", name, "A").values == [NEW_PUBLIC]
        assert hass.states.get(f"binary_sensor.{name}_example_com_a_drift").state == "off"


@_manual_entry
async def test_an_entry_merged_by_the_upgrade_is_not_an_account_to_sync(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch, init_integration: MockConfigEntry
) -> None:
    """Right after an upgrade from 0.1.0, an entry merged into another account is still loaded
    until its removal runs. The action syncs the accounts and passes over it (no crash); named,
    it is an account that is not loaded."""
    entry = init_integration
    merged = MockConfigEntry(
        domain=DOMAIN,
        title="example.org",
        version=entry.version,
        data={"merged_into": entry.entry_id},
    )
    merged.add_to_hass(hass)
    # Its removal is still to come.
    monkeypatch.setattr("custom_components.esddns.async_remove_merged", lambda hass, entry_id: None)
    assert await hass.config_entries.async_setup(merged.entry_id)
    await hass.async_block_till_done()

    response = await _sync(hass)
    assert response == {
        "records": [
            _record("home", ["81.2.69.1"], [PUBLIC], "updated"),
            _record("vpn", [PUBLIC], [PUBLIC], "unchanged"),
        ]
    }
    with pytest.raises(ServiceValidationError) as err:
        await _sync(hass, config_entry_id=merged.entry_id)
    assert err.value.translation_key == "entry_not_loaded"
