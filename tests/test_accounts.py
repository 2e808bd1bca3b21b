"""One Gandi account, many records: domains, per-record buttons and automatic sync."""

from __future__ import annotations

import logging
from types import MappingProxyType

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState, ConfigSubentry, ConfigSubentryData
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components import esddns
from custom_components.esddns.data import EsddnsConfigEntry
from devtools.fakes.gandi import FakeGandi
from tests.integration import (
    NEW_PUBLIC,
    PUBLIC,
    PublicSources,
    record_subentry,
    setup_entry,
    tick,
)

HEALTH = "binary_sensor.esddns_example_com_example_org_dns_up_to_date"
HEALTH_ONE = "binary_sensor.esddns_example_com_dns_up_to_date"


def _add_record(hass: HomeAssistant, entry: MockConfigEntry, data: ConfigSubentryData) -> None:
    """What "Add record" does once its form is filled in."""
    hass.config_entries.async_add_subentry(
        entry,
        ConfigSubentry(
            data=MappingProxyType(dict(data["data"])),
            subentry_type=data["subentry_type"],
            title=data["title"],
            unique_id=None,
        ),
    )


def _paths(fake_gandi: FakeGandi) -> list[str]:
    return sorted(write.path.rsplit("/domains/", 1)[1] for write in fake_gandi.writes())


@pytest.mark.entry(
    subentries=[
        record_subentry("example.com", "home", ["A"]),
        record_subentry("example.org", "@", ["A"], ttl=600),
    ],
    title="example.com, example.org",
)
@pytest.mark.usefixtures("init_integration")
async def test_one_account_keeps_records_of_two_domains(
    hass: HomeAssistant, fake_gandi: FakeGandi
) -> None:
    """Records of both domains of one token are written at setup, one PUT per rrset, and each
    record has its own device and entities."""
    assert _paths(fake_gandi) == ["example.com/records/home/A", "example.org/records/@/A"]
    assert fake_gandi.get_rrset("example.org", "@", "A").ttl == 600
    assert hass.states.get("sensor.home_example_com_a_record").state == PUBLIC
    assert hass.states.get("sensor.example_org_a_record").state == PUBLIC
    assert hass.states.get(HEALTH).state == STATE_OFF


@pytest.mark.gandi_holds(PUBLIC)
@pytest.mark.gandi_holds(PUBLIC, domain="example.org", name="@")
@pytest.mark.gandi_holds(PUBLIC, domain="example.org", name="www")
@pytest.mark.entry(
    subentries=[
        record_subentry("example.com", "home", ["A"]),
        record_subentry("example.org", "@", ["A"]),
        record_subentry("example.org", "www", ["A"]),
    ],
    title="example.com, example.org",
)
async def test_a_domain_gone_from_gandi_leaves_the_other_domain_working(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """One domain leaves LiveDNS: a repair names it and its record is unreadable, while the
    account's other domain is still read and written. Back at Gandi, the repair goes."""
    entry = init_integration
    records = entry.runtime_data.records

    fake_gandi.remove_domain("example.org")
    fake_gandi.clear_requests()
    await records.async_refresh()
    # One read tells the domain is gone; its other record is not asked for.
    assert [r.path.rsplit("/domains/", 1)[1] for r in fake_gandi.requests] == [
        "example.com/records/home/A",
        "example.org/records/@/A",
        "example.org",
    ]
    public_sources.answer(NEW_PUBLIC)
    await entry.runtime_data.detection.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)

    issues = ir.async_get(hass).issues
    assert [(i.translation_key, i.translation_placeholders) for i in issues.values()] == [
        ("domain_missing", {"domain": "example.org"})
    ]
    assert _paths(fake_gandi) == ["example.com/records/home/A"]
    assert hass.states.get("sensor.home_example_com_a_record").state == NEW_PUBLIC
    assert hass.states.get("sensor.example_org_a_record").state == STATE_UNAVAILABLE
    await tick(hass, freezer, 2)  # unreadable records count once they last
    health = hass.states.get(HEALTH)
    assert health.state == STATE_ON
    assert health.attributes["unreadable_records"] == ["example.org A", "www.example.org A"]

    fake_gandi.add_domain("example.org")
    await records.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not ir.async_get(hass).issues
    assert fake_gandi.get_rrset("example.org", "@", "A").values == [NEW_PUBLIC]
    assert fake_gandi.get_rrset("example.org", "www", "A").values == [NEW_PUBLIC]


@pytest.mark.gandi_holds("81.2.69.1")
@pytest.mark.gandi_holds("81.2.69.1", name="vpn")
@pytest.mark.entry(records=["home", "vpn"], auto_sync=False)
@pytest.mark.usefixtures("init_integration")
async def test_a_record_button_syncs_only_its_record(
    hass: HomeAssistant, fake_gandi: FakeGandi
) -> None:
    """ "Sync now" on a record's device writes that record; the account's writes them all."""
    assert fake_gandi.writes() == []

    await hass.services.async_call(
        "button", "press", {"entity_id": "button.vpn_example_com_sync_now"}, blocking=True
    )
    assert _paths(fake_gandi) == ["example.com/records/vpn/A"]
    assert hass.states.get("binary_sensor.vpn_example_com_a_drift").state == STATE_OFF
    assert hass.states.get("binary_sensor.home_example_com_a_drift").state == STATE_ON

    await hass.services.async_call(
        "button", "press", {"entity_id": "button.esddns_example_com_sync_now"}, blocking=True
    )
    assert _paths(fake_gandi) == ["example.com/records/home/A", "example.com/records/vpn/A"]


@pytest.mark.entry(records=["home", "vpn"], auto_sync=False)
@pytest.mark.usefixtures("init_integration")
async def test_a_refused_write_from_a_record_button_names_the_record(
    hass: HomeAssistant, fake_gandi: FakeGandi
) -> None:
    fake_gandi.fail_next("409", method="PUT")
    with pytest.raises(HomeAssistantError, match=r"^Gandi did not accept the update of: vpn"):
        await hass.services.async_call(
            "button", "press", {"entity_id": "button.vpn_example_com_sync_now"}, blocking=True
        )
    assert hass.states.get("binary_sensor.vpn_example_com_a_drift").state == STATE_ON


async def test_an_account_without_records_stays_loaded_and_quiet(
    hass: HomeAssistant, public_sources: PublicSources, init_integration: MockConfigEntry
) -> None:
    """Deleting the last record leaves the account (its credential kept for the next "Add
    record"): no detection to run, nothing to read, nothing wrong."""
    entry = init_integration
    (subentry_id,) = entry.subentries
    asked = sum(public_sources.requests)
    hass.config_entries.async_remove_subentry(entry, subentry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    await entry.runtime_data.detection.async_refresh()
    assert sum(public_sources.requests) == asked
    assert hass.states.get("sensor.esddns_example_com_public_ipv4_address") is None
    assert hass.states.get(HEALTH_ONE).state == STATE_OFF


@pytest.mark.entry(
    subentries=[
        record_subentry("example.com", "home", ["A"], auto_sync=True),
        record_subentry("example.com", "vpn", ["A"], auto_sync=False),
    ],
)
@pytest.mark.usefixtures("init_integration")
async def test_automatic_sync_is_a_choice_per_record(
    hass: HomeAssistant, fake_gandi: FakeGandi
) -> None:
    """A record with automatic sync off stays drifted while its neighbour is rewritten."""
    assert _paths(fake_gandi) == ["example.com/records/home/A"]
    assert hass.states.get("binary_sensor.vpn_example_com_a_drift").state == STATE_ON


async def test_the_title_follows_the_domains_of_the_records(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    init_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A record in a second domain: the account takes it without a reload, and its title (and
    the account device's name) names both domains."""
    entry = init_integration
    setups: list[str] = []
    real_setup = esddns.async_setup_entry

    async def counted(hass: HomeAssistant, entry: EsddnsConfigEntry) -> bool:
        setups.append(entry.entry_id)
        return await real_setup(hass, entry)

    monkeypatch.setattr(esddns, "async_setup_entry", counted)
    _add_record(hass, entry, record_subentry("example.org", "www", ["A"]))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert setups == []
    assert entry.title == "example.com, example.org"
    assert fake_gandi.get_rrset("example.org", "www", "A").values == [PUBLIC]
    assert hass.states.get("sensor.www_example_org_a_record").state == PUBLIC
    assert entry.runtime_data.records.account == "example.com, example.org"
    account = hass.states.get("sensor.esddns_example_com_public_ipv4_address")
    assert account.attributes["friendly_name"].startswith("ESDDNS example.com, example.org ")


async def test_removing_an_account_whose_domain_is_gone_takes_its_repair_along(
    hass: HomeAssistant, fake_gandi: FakeGandi, mock_config_entry: MockConfigEntry
) -> None:
    """The account's only domain left Gandi: setup waits to retry, and a repair says why. The
    user deletes the account; the repair must not stay behind about an account that is gone."""
    fake_gandi.remove_domain("example.com")
    entry = mock_config_entry
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    issues = ir.async_get(hass).issues
    assert [(i.translation_key, i.translation_placeholders) for i in issues.values()] == [
        ("domain_missing", {"domain": "example.com"})
    ]

    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not ir.async_get(hass).issues


async def test_a_domain_back_at_gandi_while_setup_waits_to_retry_clears_its_repair(
    hass: HomeAssistant, fake_gandi: FakeGandi, mock_config_entry: MockConfigEntry
) -> None:
    """The account's only domain is gone at start: setup waits to retry, with a repair. The
    domain is back at the retry: the account works and the repair goes."""
    fake_gandi.remove_domain("example.com")
    entry = mock_config_entry
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert ir.async_get(hass).issues

    fake_gandi.add_domain("example.com")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert fake_gandi.get_rrset("example.com", "home", "A").values == [PUBLIC]
    assert not ir.async_get(hass).issues


@pytest.mark.entry(records=["home", "vpn"])
async def test_setting_up_an_account_logs_no_warning(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A healthy account with two records starts without a warning, on every supported Home
    Assistant (2026.x warns about deprecated device links at each start, for instance)."""
    for name in ("home", "vpn"):
        fake_gandi.set_rrset("example.com", name, "A", [PUBLIC])
    entry = mock_config_entry
    await setup_entry(hass, entry)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    warnings = [
        record.getMessage()
        for record in caplog.records
        # The loader's "custom integration not tested by Home Assistant" is about every one;
        # asyncio's debug mode says "Executing <Task…> took 0.105 seconds" of a busy machine.
        if record.levelno >= logging.WARNING
        and record.name not in ("homeassistant.loader", "asyncio")
    ]
    assert warnings == []
    devices = dr.async_get(hass)
    (account,) = [
        d
        for d in dr.async_entries_for_config_entry(devices, entry.entry_id)
        if d.name_by_user is None and d.name == "ESDDNS example.com"
    ]
    records = [
        d for d in dr.async_entries_for_config_entry(devices, entry.entry_id) if d != account
    ]
    assert {d.name for d in records} == {"home.example.com", "vpn.example.com"}
    assert {d.via_device_id for d in records} == {account.id}


async def test_a_title_the_user_gave_is_kept_when_records_change(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Renamed to "My Gandi", the account keeps that name when a record of another domain is
    added; only a title ESDDNS made follows the domains."""
    entry = init_integration
    hass.config_entries.async_update_entry(entry, title="My Gandi")
    _add_record(hass, entry, record_subentry("example.org", "www", ["A"]))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.title == "My Gandi"
    assert hass.states.get("sensor.www_example_org_a_record").state == PUBLIC


@pytest.mark.entry(
    subentries=[
        record_subentry("example.com", "home", ["A"], auto_sync=False),
        record_subentry("example.org", "www", ["A"], auto_sync=False),
    ],
    title="example.com, example.org",
)
@pytest.mark.usefixtures("init_integration")
async def test_sync_now_on_a_record_of_a_domain_gone_from_gandi_says_why(
    hass: HomeAssistant, fake_gandi: FakeGandi
) -> None:
    """Pressing "Sync now" on a record whose domain left Gandi writes nothing and says so,
    instead of doing nothing in silence."""
    fake_gandi.remove_domain("example.org")
    with pytest.raises(
        HomeAssistantError,
        match=r"^Could not read the records of example\.org at Gandi: unknown domain$",
    ):
        await hass.services.async_call(
            "button", "press", {"entity_id": "button.www_example_org_sync_now"}, blocking=True
        )
    assert fake_gandi.writes() == []
