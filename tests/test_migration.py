"""The 0.2 migration on the registry a real Home Assistant 2025.4.4 stored with ESDDNS 0.1.0.

tests/fixtures/storage_0_1_0 (see its README): example.com and example.org share token-a on one
LiveDNS endpoint, example.net has apikey-b on another. Home Assistant loads those files from
`.storage` (here `hass_storage`), then sets the integration up, which migrates the entries.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import timedelta
import json
import logging
from pathlib import Path
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import (
    area_registry as ar,
    category_registry as cr,
    device_registry as dr,
    entity_registry as er,
    floor_registry as fr,
    issue_registry as ir,
    label_registry as lr,
    restore_state as rs,
)
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.esddns import migration
from custom_components.esddns.const import DOMAIN
from custom_components.esddns.diagnostics import async_get_config_entry_diagnostics
from custom_components.esddns.history import async_merge_histories
from custom_components.esddns.migration import async_migrate_entry
from devtools.fakes.gandi import FakeGandi
from tests.integration import NEW_PUBLIC, PUBLIC, PublicSources, make_entry, record_subentry

FIXTURE = Path(__file__).parent / "fixtures" / "storage_0_1_0"
STORED = (
    "core.config_entries",
    "core.entity_registry",
    "core.device_registry",
    "core.restore_state",
)
COM = "01M8P0PM557GW9Q38M7ZQCR2YW"
ORG = "01M8P0PS3H9KKZ8GVD3VDDJDJG"
NET = "01M8P0PS3YBH1F4VEN6T8VVJN2"

type Stored = dict[str, dict[str, Any]]


@pytest.fixture
def load_registries() -> bool:
    """The `hass` fixture leaves the registries unloaded: `start` loads them from the fixture."""
    return False


@pytest.fixture
async def gandi_a(socket_enabled: None) -> AsyncGenerator[FakeGandi]:
    """The endpoint of token-a, with the records as 0.1.0 left them."""
    fake = FakeGandi()
    fake.add_token("token-a", ("example.com", "example.org"), name="token-a")
    # Already the public address the sources answer: no write at setup, the history stays.
    fake.set_rrset("example.com", "home", "A", [PUBLIC])
    fake.set_rrset("example.com", "@", "A", [PUBLIC])
    fake.set_rrset("example.org", "vpn", "A", [PUBLIC], ttl=600)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
async def gandi_b(socket_enabled: None) -> AsyncGenerator[FakeGandi]:
    """The other endpoint, of apikey-b."""
    fake = FakeGandi()
    fake.add_api_key("apikey-b", ("example.net",), name="apikey-b")
    fake.set_rrset("example.net", "*.lab", "A", [PUBLIC])
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
def stored(
    hass_storage: Stored, gandi_a: FakeGandi, gandi_b: FakeGandi, public_sources: PublicSources
) -> Stored:
    """The 0.1.0 `.storage`, its dead endpoints pointed at the running fakes: Gandi, and the
    STUN servers of the entries with custom options (example.org's are the defaults)."""
    for path in FIXTURE.iterdir():
        if path.name in STORED or path.name.startswith(f"{DOMAIN}."):
            hass_storage[path.name] = json.loads(path.read_text())
    for entry in _stored_entries(hass_storage).values():
        fake = gandi_b if entry["data"]["credential_kind"] == "api_key" else gandi_a
        entry["data"]["api_url"] = fake.url
        if entry["options"]:
            entry["options"].update(public_sources.options)
    return hass_storage


def _stored_entries(storage: Stored) -> dict[str, dict[str, Any]]:
    entries = storage["core.config_entries"]["data"]["entries"]
    return {entry["entry_id"]: entry for entry in entries if entry["domain"] == DOMAIN}


async def start(hass: HomeAssistant, *, setup: bool = True) -> None:
    """What Home Assistant does at startup: load `.storage`, then set the integration up."""
    if setup_registries := getattr(dr, "async_setup", None):
        setup_registries(hass)  # Home Assistant 2026.x: the device registry's own start
    with (
        patch("homeassistant.helpers.restore_state.RestoreStateData.async_setup_dump"),
        patch("homeassistant.helpers.restore_state.start.async_at_start"),
    ):
        for load in (ar, cr, dr, er, fr, ir, lr, rs):
            await load.async_load(hass)
    await hass.config_entries.async_initialize()
    if not setup:
        return
    assert await async_setup_component(hass, DOMAIN, {})
    await settle(hass)


async def settle(hass: HomeAssistant) -> None:
    """Let the scheduled work run, then the device registry's cleanup of orphans, which follows
    entity changes by seconds (its debouncer then waits once more)."""
    await hass.async_block_till_done()
    for _ in range(2):
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=dr.CLEANUP_DELAY + 1))
        await hass.async_block_till_done()


def subentries(entry: ConfigEntry) -> dict[str, tuple[str, dict[str, Any]]]:
    """Record subentries by title: (subentry id, data)."""
    return {
        sub.title: (sub.subentry_id, dict(sub.data))
        for sub in entry.subentries.values()
        if sub.subentry_type == "record"
    }


def service_device(
    hass: HomeAssistant, identifier: str, entry_id: str | None = None
) -> dr.DeviceEntry | None:
    """The account's device (identifiers {("esddns", entry id)}), or a record's (subentry id)."""
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry_id or identifier)
    return next((d for d in devices if (DOMAIN, identifier) in d.identifiers), None)


def entity(hass: HomeAssistant, entity_id: str) -> er.RegistryEntry:
    """The registry entry of ``entity_id``, which must exist."""
    entry = er.async_get(hass).async_get(entity_id)
    assert entry is not None, f"{entity_id} is gone"
    return entry


async def test_one_account_per_credential_with_every_record(
    stored: Stored,
    hass: HomeAssistant,
    gandi_a: FakeGandi,
    gandi_b: FakeGandi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    options_com = _stored_entries(stored)[COM]["options"]
    caplog.set_level(logging.INFO)
    await start(hass)

    entries = {entry.entry_id: entry for entry in hass.config_entries.async_entries(DOMAIN)}
    assert set(entries) == {COM, NET}  # example.org was merged into example.com's account
    account_a, account_b = entries[COM], entries[NET]
    assert all(entry.state is ConfigEntryState.LOADED for entry in entries.values())
    assert (account_a.version, account_a.minor_version) == (2, 2)
    assert account_a.title == "example.com, example.org"
    assert account_a.unique_id is None
    assert dict(account_a.data) == {
        "credential_kind": "token",
        "secret": "token-a",
        "api_url": gandi_a.url,
        # example.org's id, and the record it brought (for 0.1.0 automations that name it).
        "merged_from": {ORG: [subentries(account_a)["vpn.example.org"][0]]},
    }
    assert dict(account_a.options) == options_com
    assert {title: data for title, (_, data) in subentries(account_a).items()} == {
        "home.example.com": {"domain": "example.com", "name": "home",
                             "record_types": ["A", "AAAA"], "ttl": 300, "auto_sync": True},
        "example.com": {"domain": "example.com", "name": "@",
                        "record_types": ["A", "AAAA"], "ttl": 300, "auto_sync": True},
        "vpn.example.org": {"domain": "example.org", "name": "vpn",
                            "record_types": ["A"], "ttl": 600, "auto_sync": False},
    }  # fmt: skip
    assert all(sub.unique_id is None for sub in account_a.subentries.values())
    assert (account_b.title, dict(account_b.data)) == (
        "example.net",
        {"credential_kind": "api_key", "secret": "apikey-b", "api_url": gandi_b.url},
    )
    assert {title: data for title, (_, data) in subentries(account_b).items()} == {
        "*.lab.example.net": {"domain": "example.net", "name": "*.lab",
                              "record_types": ["A"], "ttl": 300, "auto_sync": True},
    }  # fmt: skip
    # example.org's detection options ({}: the defaults) were not kept, and the log says so.
    assert "kept the detection options of example.com, not those of example.org" in caplog.text
    assert gandi_a.writes() == gandi_b.writes() == []


async def test_every_entity_keeps_its_entity_id_under_its_new_unique_id(
    stored: Stored, hass: HomeAssistant
) -> None:
    await start(hass)
    com = subentries(hass.config_entries.async_get_known_entry(COM))
    home, apex, vpn = (com[title][0] for title in ("home.example.com", "example.com",
                                                   "vpn.example.org"))  # fmt: skip
    (lab,) = (sub for sub, _ in subentries(hass.config_entries.async_get_known_entry(NET)).values())
    # entity id -> (config entry, record subentry or None for the account, new unique id)
    expected = {
        "sensor.example_com_public_ipv4_address": (COM, None, f"{COM}_public_ipv4"),
        "sensor.example_com_public_ipv6_address": (COM, None, f"{COM}_public_ipv6"),
        "sensor.example_com_last_successful_sync": (COM, None, f"{COM}_last_sync"),
        "button.example_com_sync_now": (COM, None, f"{COM}_sync_now"),
        "sensor.home_ipv4_at_gandi": (COM, home, f"{home}_record_A"),
        "sensor.example_com_home_example_com_aaaa_record": (COM, home, f"{home}_record_AAAA"),
        "binary_sensor.example_com_home_example_com_a_drift": (COM, home, f"{home}_drift_A"),
        "binary_sensor.example_com_home_example_com_aaaa_drift":
            (COM, home, f"{home}_drift_AAAA"),
        "sensor.example_com_example_com_a_record": (COM, apex, f"{apex}_record_A"),
        "sensor.example_com_example_com_aaaa_record": (COM, apex, f"{apex}_record_AAAA"),
        "binary_sensor.example_com_example_com_a_drift": (COM, apex, f"{apex}_drift_A"),
        "binary_sensor.example_com_example_com_aaaa_drift": (COM, apex, f"{apex}_drift_AAAA"),
        # example.org's Sync now is now its record's.
        "button.example_org_sync_now": (COM, vpn, f"{vpn}_sync_now"),
        "sensor.example_org_vpn_example_org_a_record": (COM, vpn, f"{vpn}_record_A"),
        "binary_sensor.example_org_vpn_example_org_a_drift": (COM, vpn, f"{vpn}_drift_A"),
        "sensor.example_net_public_ipv4_address": (NET, None, f"{NET}_public_ipv4"),
        "sensor.example_net_last_successful_sync": (NET, None, f"{NET}_last_sync"),
        "button.example_net_sync_now": (NET, None, f"{NET}_sync_now"),
        "sensor.example_net_lab_example_net_a_record": (NET, lab, f"{lab}_record_A"),
        "binary_sensor.example_net_lab_example_net_a_drift": (NET, lab, f"{lab}_drift_A"),
    }  # fmt: skip
    registry = er.async_get(hass)
    found = {
        e.entity_id: (e.config_entry_id, e.config_subentry_id, e.unique_id)
        for e in registry.entities.values()
        if e.platform == DOMAIN
    }
    assert {e: found[e] for e in expected if e in found} == expected
    # What 0.2 adds: each account's "DNS up to date", a "Sync now" for each record without one;
    # 0.3 the token's expiry of an account with a token.
    assert {found[e][2] for e in set(found) - set(expected)} == {
        f"{COM}_token_expires",
        f"{COM}_dns_up_to_date",
        f"{NET}_dns_up_to_date",
        f"{home}_sync_now",
        f"{apex}_sync_now",
        f"{lab}_sync_now",
    }
    # The account already shows the public IPv4 and the last sync: example.org's copies went.
    assert registry.async_get("sensor.example_org_public_ipv4_address") is None
    assert registry.async_get("sensor.example_org_last_successful_sync") is None

    assert entity(hass, "sensor.home_ipv4_at_gandi").name == "Home IPv4 at Gandi"
    renamed = hass.states.get("sensor.home_ipv4_at_gandi")
    assert renamed is not None
    assert renamed.state == PUBLIC
    # Home Assistant 2026.x (entity registry 1.24) prefixes the device's name to a user's name
    # too, once an entity changes device.
    assert renamed.name in ("Home IPv4 at Gandi", "home.example.com Home IPv4 at Gandi")
    assert entity(hass, "binary_sensor.example_net_lab_example_net_a_drift").disabled_by is (
        er.RegistryEntryDisabler.USER
    )
    assert all(
        registry.entities[e].disabled_by is None
        for e in expected
        if e != "binary_sensor.example_net_lab_example_net_a_drift"
    )

    # The accounts keep their device (now the service device) with their account-level
    # entities, the records' are on the records' devices. example.org's went with its entry.
    devices = dr.async_get(hass)
    assert dr.async_entries_for_config_entry(devices, ORG) == []
    for entity_id, (account, subentry_id, _) in expected.items():
        device = service_device(hass, account if subentry_id is None else subentry_id, account)
        assert device is not None
        assert registry.entities[entity_id].device_id == device.id, entity_id
        if subentry_id is not None:
            title = hass.config_entries.async_get_known_entry(account).subentries[subentry_id].title
            assert device.name == title


async def test_sync_histories_are_merged_newest_first(stored: Stored, hass: HomeAssistant) -> None:
    before = {
        entry_id: stored[f"{DOMAIN}.{entry_id}"]["data"]["items"] for entry_id in (COM, ORG, NET)
    }
    await start(hass)

    items = stored[f"{DOMAIN}.{COM}"]["data"]["items"]
    assert sorted(items, key=lambda i: i["time"]) == sorted(
        before[COM] + before[ORG], key=lambda i: i["time"]
    )
    assert [item["time"] for item in items] == sorted((i["time"] for i in items), reverse=True)
    assert any(item["record"] == "vpn.example.org" for item in items)
    assert stored[f"{DOMAIN}.{NET}"]["data"]["items"] == before[NET]
    assert f"{DOMAIN}.{ORG}" not in stored  # removed with its entry

    # The account's last successful sync is example.org's (its button, after example.com's).
    newest = max(
        (i for i in before[COM] + before[ORG] if i["result"] == "updated"), key=lambda i: i["time"]
    )
    assert newest["record"] == "vpn.example.org"
    last_sync = hass.states.get("sensor.example_com_last_successful_sync")
    assert last_sync is not None
    assert dt_util.parse_datetime(last_sync.state) == dt_util.parse_datetime(
        newest["time"]
    ).replace(microsecond=0)
    # example.org's button, now its record's, still tells when it was pressed.
    button = hass.states.get("button.example_org_sync_now")
    assert button is not None
    assert button.state == "2026-11-30T10:41:14.384371+00:00"


async def test_merged_history_keeps_the_newest_items(stored: Stored, hass: HomeAssistant) -> None:
    """Two full histories merge into one of HISTORY_LENGTH (20) items, the newest of both."""
    for entry_id, record, first in ((COM, "home.example.com", 59), (ORG, "vpn.example.org", 58)):
        item = stored[f"{DOMAIN}.{entry_id}"]["data"]["items"][0]
        stored[f"{DOMAIN}.{entry_id}"]["data"]["items"] = [
            {**item, "record": record, "time": f"2026-11-29T10:{minute:02}:00+00:00"}
            for minute in range(first, first - 40, -2)
        ]
    await start(hass)

    items = stored[f"{DOMAIN}.{COM}"]["data"]["items"]
    assert [(i["record"], i["time"][11:16]) for i in items] == [
        ("home.example.com" if minute % 2 else "vpn.example.org", f"10:{minute}")
        for minute in range(59, 39, -1)
    ]


async def test_first_entry_is_the_account(
    stored: Stored, hass: HomeAssistant, public_sources: PublicSources
) -> None:
    """With example.org first, its entry becomes the account: its options and entities stay,
    example.com's public IPv6 sensor (the account had none) moves to it."""
    entries = stored["core.config_entries"]["data"]["entries"]
    entries.sort(key=lambda entry: entry["entry_id"] != ORG)
    options = _stored_entries(stored)[ORG]["options"] = {
        **public_sources.options,
        "detection_interval": 2,
    }
    await start(hass)

    assert {entry.entry_id for entry in hass.config_entries.async_entries(DOMAIN)} == {ORG, NET}
    account = hass.config_entries.async_get_known_entry(ORG)
    assert account.title == "example.com, example.org"
    assert account.state is ConfigEntryState.LOADED
    assert dict(account.options) == options
    assert list(subentries(account)) == ["vpn.example.org", "home.example.com", "example.com"]
    home = subentries(account)["home.example.com"][0]
    assert entity(hass, "sensor.example_org_public_ipv4_address").unique_id == (
        f"{ORG}_public_ipv4"
    )
    ipv6 = entity(hass, "sensor.example_com_public_ipv6_address")
    device = service_device(hass, ORG)
    assert device is not None
    assert (ipv6.unique_id, ipv6.config_entry_id, ipv6.device_id) == (
        f"{ORG}_public_ipv6",
        ORG,
        device.id,
    )
    assert entity(hass, "button.example_com_sync_now").unique_id == f"{home}_sync_now"
    registry = er.async_get(hass)
    assert registry.async_get("sensor.example_com_public_ipv4_address") is None
    assert entity(hass, "sensor.home_ipv4_at_gandi").unique_id == f"{home}_record_A"


@pytest.mark.parametrize(
    ("secret", "api_url_suffix"),
    [("  token-a\n", "/"), ("token a", "")],
    ids=["copied-with-whitespace", "not-a-valid-token"],
)
async def test_same_credential_written_differently_is_one_account(
    stored: Stored,
    hass: HomeAssistant,
    gandi_a: FakeGandi,
    secret: str,
    api_url_suffix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The credential and endpoint are compared as the client sends them; a text the client
    would refuse (the 0.2 flow does) is compared as stored."""
    for entry_id in (COM, ORG):
        _stored_entries(stored)[entry_id]["data"]["secret"] = secret
    _stored_entries(stored)[ORG]["data"]["api_url"] = gandi_a.url + api_url_suffix
    _stored_entries(stored)[ORG]["options"] = _stored_entries(stored)[COM]["options"]
    caplog.set_level(logging.INFO)
    await start(hass)

    assert {entry.entry_id for entry in hass.config_entries.async_entries(DOMAIN)} == {COM, NET}
    account = hass.config_entries.async_get_known_entry(COM)
    assert len(subentries(account)) == 3
    assert dict(account.data) == {
        "credential_kind": "token",
        "secret": secret.strip(),
        "api_url": gandi_a.url,
        "merged_from": {ORG: [subentries(account)["vpn.example.org"][0]]},
    }
    # Same detection options: nothing to say about them.
    assert "example.com, example.org merged into one account (one Gandi credential)\n" in (
        caplog.text
    )


async def test_other_kind_or_endpoint_is_another_account(
    stored: Stored,
    hass: HomeAssistant,
    gandi_a: FakeGandi,
    gandi_b: FakeGandi,
    public_sources: PublicSources,
) -> None:
    gandi_a.add_api_key("token-a", ("example.org",))
    gandi_b.add_token("token-a", ("example.net",))
    _stored_entries(stored)[ORG]["data"]["credential_kind"] = "api_key"
    _stored_entries(stored)[ORG]["options"] = public_sources.options
    _stored_entries(stored)[NET]["data"].update(credential_kind="token", secret="token-a")
    await start(hass)

    entries = hass.config_entries.async_entries(DOMAIN)
    titles = {entry.entry_id: entry.title for entry in entries}
    assert titles == {COM: "example.com", ORG: "example.org", NET: "example.net"}
    assert all(entry.state is ConfigEntryState.LOADED for entry in entries)


async def test_disabled_entry_is_not_merged_into_a_running_account(
    stored: Stored, hass: HomeAssistant
) -> None:
    """Merging would start syncing records the user stopped: example.org waits, disabled."""
    _stored_entries(stored)[ORG]["disabled_by"] = "user"
    await start(hass)

    account = hass.config_entries.async_get_known_entry(COM)
    assert (account.version, account.title) == (2, "example.com")
    assert list(subentries(account)) == ["home.example.com", "example.com"]
    org = hass.config_entries.async_get_known_entry(ORG)
    assert (org.version, org.state, org.data["domain"]) == (
        1,
        ConfigEntryState.NOT_LOADED,
        "example.org",
    )
    assert entity(hass, "sensor.example_org_public_ipv4_address").unique_id == (
        f"{ORG}_public_ipv4"
    )


async def test_newer_version_is_refused_and_left_untouched(
    stored: Stored,
    hass: HomeAssistant,
    public_sources: PublicSources,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A registry written by a later ESDDNS (downgrade): the entry stays as it is, in error."""
    _stored_entries(stored)[COM]["version"] = 3
    _stored_entries(stored)[ORG]["options"] = public_sources.options
    data = dict(_stored_entries(stored)[COM]["data"])
    await start(hass)

    entry = hass.config_entries.async_get_known_entry(COM)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR
    assert (entry.version, dict(entry.data), entry.subentries) == (3, data, {})
    assert (
        "downgrade not supported: this ESDDNS understands version 2" in caplog.text
        # Home Assistant 2026.x refuses it itself, without asking the integration.
        or "has version 3 which is higher than the current version 2" in caplog.text
    )
    # example.org, its own group now, is an account of its own.
    org = hass.config_entries.async_get_known_entry(ORG)
    assert (org.version, org.title, list(subentries(org)), org.state) == (
        2,
        "example.org",
        ["vpn.example.org"],
        ConfigEntryState.LOADED,
    )
    assert entity(hass, "sensor.home_ipv4_at_gandi").unique_id == f"{COM}_record_home_A"


@pytest.mark.parametrize(
    "damage",
    [{"domain": None}, {"records": "vpn"}, {"ttl": "six hundred"}],
    ids=["domain-missing", "records-not-a-list", "ttl-not-a-number"],
)
async def test_unreadable_entry_fails_alone_and_untouched(
    stored: Stored,
    hass: HomeAssistant,
    damage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An entry whose 0.1.0 settings can't be read (edited by hand) is not merged: it stays as
    it was, in error, and the others still migrate."""
    data = _stored_entries(stored)[ORG]["data"]
    for key, value in damage.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    kept = dict(data)
    await start(hass)

    org = hass.config_entries.async_get_known_entry(ORG)
    assert org.state is ConfigEntryState.MIGRATION_ERROR
    assert (org.version, dict(org.data)) == (1, kept)
    assert f"Config entry {org.title} can't be migrated" in caplog.text
    account = hass.config_entries.async_get_known_entry(COM)
    assert (account.version, account.title, account.state) == (
        2,
        "example.com",
        ConfigEntryState.LOADED,
    )
    assert entity(hass, "sensor.example_org_vpn_example_org_a_record").unique_id == (
        f"{ORG}_record_vpn_A"
    )


async def test_settings_0_1_0_left_to_its_defaults_migrate_as_it_read_them(
    stored: Stored, hass: HomeAssistant
) -> None:
    """0.1.0 read a missing record list as the apex, and missing types as A."""
    data = _stored_entries(stored)[ORG]["data"]
    del data["records"], data["record_types"]
    await start(hass)
    account = hass.config_entries.async_get_known_entry(COM)
    assert subentries(account)["example.org"][1] == {
        "domain": "example.org",
        "name": "@",
        "record_types": ["A"],
        "ttl": 600,
        "auto_sync": False,
    }


async def test_migrating_again_changes_nothing(stored: Stored, hass: HomeAssistant) -> None:
    await start(hass)
    entries = [entry.as_dict() for entry in hass.config_entries.async_entries(DOMAIN)]
    entities = dict(er.async_get(hass).entities)
    history = stored[f"{DOMAIN}.{COM}"]["data"]

    for entry in hass.config_entries.async_entries(DOMAIN):
        assert await async_migrate_entry(hass, entry)
    await settle(hass)

    assert [entry.as_dict() for entry in hass.config_entries.async_entries(DOMAIN)] == entries
    assert dict(er.async_get(hass).entities) == entities
    assert stored[f"{DOMAIN}.{COM}"]["data"] == history


async def test_concurrent_migrations_migrate_each_group_once(
    stored: Stored, hass: HomeAssistant
) -> None:
    """Home Assistant migrates entries concurrently, in any order: example.org's migration,
    run first, migrates example.com's too, which then has nothing left to do."""
    await start(hass, setup=False)
    entries = hass.config_entries.async_entries(DOMAIN)
    assert await asyncio.gather(*(async_migrate_entry(hass, e) for e in reversed(entries)))
    await settle(hass)

    assert {entry.entry_id for entry in hass.config_entries.async_entries(DOMAIN)} == {COM, NET}
    account = hass.config_entries.async_get_known_entry(COM)
    assert list(subentries(account)) == ["home.example.com", "example.com", "vpn.example.org"]
    assert entity(hass, "button.example_org_sync_now").unique_id == (
        f"{subentries(account)['vpn.example.org'][0]}_sync_now"
    )


async def test_the_account_waits_for_its_merged_history(
    stored: Stored, hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A member's migration ran first and is still writing the merged history: the account's
    setup (which waits through async_merged_history) sees the history only once it is merged."""
    await start(hass, setup=False)
    release = asyncio.Event()
    real_merge = migration.async_merge_histories

    async def slow_merge(*args: Any) -> None:
        await release.wait()
        await real_merge(*args)

    monkeypatch.setattr(migration, "async_merge_histories", slow_merge)
    migrating = hass.async_create_task(
        async_migrate_entry(hass, hass.config_entries.async_get_known_entry(ORG))
    )
    waiting = hass.async_create_task(migration.async_merged_history(hass, COM))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not waiting.done()  # the account's setup would wait here
    release.set()
    await waiting
    assert any(
        item["record"] == "vpn.example.org" for item in stored[f"{DOMAIN}.{COM}"]["data"]["items"]
    )
    assert await migrating
    await settle(hass)
    # Nothing to wait for afterwards.
    await migration.async_merged_history(hass, COM)


async def test_an_automation_naming_a_merged_entry_still_syncs_its_records(
    stored: Stored, hass: HomeAssistant
) -> None:
    """0.1.0 automations call esddns.sync with their entry's id: for example.org's, merged into
    example.com's account, the action syncs example.org's record, not the whole account."""
    await start(hass)
    assert hass.config_entries.async_get_entry(ORG) is None
    response = await hass.services.async_call(
        DOMAIN,
        "sync",
        {"config_entry_id": ORG, "dry_run": True},
        blocking=True,
        return_response=True,
    )
    assert isinstance(response, dict)
    assert [(r["domain"], r["name"], r["type"]) for r in response["records"]] == [
        ("example.org", "vpn", "A")
    ]
    # The account's own id (example.com's) still stands for all of its records: example.com's
    # AAAA records are among them, and this test has no IPv6 source.
    with pytest.raises(ServiceValidationError, match="public IPv6 address"):
        await hass.services.async_call(
            DOMAIN, "sync", {"config_entry_id": COM, "dry_run": True}, blocking=True
        )


async def test_merging_a_history_twice_copies_nothing_twice(
    stored: Stored, hass: HomeAssistant
) -> None:
    """Home Assistant stopped after the history was merged but before the migrated entries were
    saved: the migration runs again at the next start, and the account's history has each
    sync once."""
    await start(hass, setup=False)
    account_items = list(stored[f"{DOMAIN}.{COM}"]["data"]["items"])
    member_items = list(stored[f"{DOMAIN}.{ORG}"]["data"]["items"])
    await async_merge_histories(hass, COM, [ORG])
    once = list(stored[f"{DOMAIN}.{COM}"]["data"]["items"])
    await async_merge_histories(hass, COM, [ORG])
    assert stored[f"{DOMAIN}.{COM}"]["data"]["items"] == once
    assert len(once) == min(len(account_items) + len(member_items), 20)


async def test_a_0_1_0_full_name_becomes_the_name_it_meant(
    stored: Stored,
    hass: HomeAssistant,
    gandi_a: FakeGandi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """0.1.0 took www.example.org in example.org as typed (and wrote
    www.example.org.example.org): the record becomes www, and the log says so."""
    _stored_entries(stored)[ORG]["data"]["records"] = ["vpn", "WWW.example.org"]
    await start(hass)
    account = hass.config_entries.async_get_known_entry(COM)
    assert subentries(account)["www.example.org"][1]["name"] == "www"
    assert "www.example.org" not in {r.path.split("/records/")[-1] for r in gandi_a.writes()}
    assert (
        "The record name 'WWW.example.org' of example.org is the full name of www.example.org: "
        "ESDDNS now keeps www.example.org (name 'www'). Earlier versions wrote "
        "www.example.org.example.org instead; that record is left at Gandi as it is"
    ) in caplog.text


async def test_one_unusable_0_1_0_record_leaves_the_account_working(
    stored: Stored, hass: HomeAssistant, gandi_a: FakeGandi, public_sources: PublicSources
) -> None:
    """0.1.0 accepted a record whose full name is over 253 characters. After the upgrade its
    account loads: the record is left out with a repair that names it, the account's other
    records keep syncing, and nothing blames the sources or Gandi. Renamed, it syncs too."""
    long_name = ".".join(["a" * 60] * 4)
    _stored_entries(stored)[ORG]["data"]["records"] = ["vpn", long_name]
    await start(hass)

    account = hass.config_entries.async_get_known_entry(COM)
    assert (account.state, account.reason) == (ConfigEntryState.LOADED, None)
    repairs = [
        (issue.translation_key, issue.translation_placeholders)
        for (domain, _), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN
    ]
    assert repairs == [
        (
            "record_name_too_long",
            {
                "record": f"{long_name}.example.org",
                "detail": "the record's full name is longer than 253 characters",
            },
        )
    ]
    diagnostics = await async_get_config_entry_diagnostics(hass, account)
    assert [r["record"] for r in diagnostics["entry"]["unusable_records"]] == [
        f"{long_name}.example.org"
    ]
    public_sources.answer(NEW_PUBLIC)
    await account.runtime_data.detection.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    written = {r.path.split("/domains/")[1] for r in gandi_a.writes()}
    assert "example.com/records/home/A" in written
    assert all(long_name not in path for path in written)

    bad_id = subentries(account)[f"{long_name}.example.org"][0]
    hass.config_entries.async_update_subentry(
        account,
        account.subentries[bad_id],
        data={**account.subentries[bad_id].data, "name": "www", "auto_sync": True},
        title="www.example.org",
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not [key for key in ir.async_get(hass).issues if key[0] == DOMAIN]
    assert gandi_a.get_rrset("example.org", "www", "A").values == [NEW_PUBLIC]
    assert account.state is ConfigEntryState.LOADED


async def test_0_2_0_full_names_become_the_names_they_meant(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """0.2.0's Add record took home.example.com as typed: at the upgrade it becomes home,
    unless the account already has home (then it stays, and the log says which to delete)."""
    entry = make_entry(
        fake_gandi,
        public_sources,
        subentries=[
            record_subentry("example.com", "home.example.com", ["A"]),
            record_subentry("example.com", "vpn", ["A"]),
            record_subentry("example.com", "vpn.example.com.", ["A"]),
            record_subentry("example.com", "example.com", ["AAAA"]),
        ],
        minor_version=1,
        options={"stun_servers": [], "detection_mode": "stun"},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.minor_version == 2
    assert sorted((s.title, s.data["name"]) for s in entry.subentries.values()) == [
        ("example.com", "@"),
        ("home.example.com", "home"),
        ("vpn.example.com", "vpn"),
        ("vpn.example.com..example.com", "vpn.example.com."),
    ]
    assert "The record vpn.example.com..example.com of example.com is kept as it is" in (
        caplog.text
    )
