"""The stored 0.1.0 registry (tests/fixtures/storage_0_1_0) is what its README says.

The 0.2 migration is tested on these files; if one is regenerated or edited by mistake, this
fails instead of the migration tests passing on something else.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "storage_0_1_0"

COM = "01M8P0PM557GW9Q38M7ZQCR2YW"
ORG = "01M8P0PS3H9KKZ8GVD3VDDJDJG"
NET = "01M8P0PS3YBH1F4VEN6T8VVJN2"

# What each entry was created with, through the config flow of 0.1.0.
DATA = {
    COM: {"domain": "example.com", "credential_kind": "token", "secret": "token-a",
          "records": ["home", "@"], "record_types": ["A", "AAAA"], "ttl": 300,
          "auto_sync": True},
    ORG: {"domain": "example.org", "credential_kind": "token", "secret": "token-a",
          "records": ["vpn"], "record_types": ["A"], "ttl": 600, "auto_sync": False},
    NET: {"domain": "example.net", "credential_kind": "api_key", "secret": "apikey-b",
          "records": ["*.lab"], "record_types": ["A"], "ttl": 300, "auto_sync": True},
}  # fmt: skip
RENAMED = (f"{COM}_record_home_A", "sensor.home_ipv4_at_gandi", "Home IPv4 at Gandi")
DISABLED = f"{NET}_drift_*.lab_A"


def _load(name: str) -> dict[str, Any]:
    stored: dict[str, Any] = json.loads((FIXTURE / name).read_text())
    assert stored["key"] == name
    return stored


def _entries() -> dict[str, dict[str, Any]]:
    entries = _load("core.config_entries")["data"]["entries"]
    return {e["entry_id"]: e for e in entries if e["domain"] == "esddns"}


def _entities() -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = _load("core.entity_registry")["data"]["entities"]
    return [e for e in entities if e["platform"] == "esddns"]


def _keys(data: dict[str, Any]) -> set[str]:
    """The 0.1.0 entity keys of an entry: detection per family, then per record and type."""
    families = {"ipv6" if rtype == "AAAA" else "ipv4" for rtype in data["record_types"]}
    keys = {f"public_{family}" for family in families} | {"last_sync", "sync_now"}
    for name in data["records"]:
        for rtype in data["record_types"]:
            keys |= {f"record_{name}_{rtype}", f"drift_{name}_{rtype}"}
    return keys


def test_three_version_1_entries_with_their_domains_records_and_types() -> None:
    entries = _entries()
    assert set(entries) == set(DATA)
    for entry_id, expected in DATA.items():
        entry = entries[entry_id]
        assert (entry["version"], entry["minor_version"]) == (1, 1)
        assert entry["subentries"] == []
        assert entry["title"] == entry["unique_id"] == expected["domain"]
        assert {k: entry["data"][k] for k in expected} == expected
        assert entry["data"]["api_url"].startswith("http://127.0.0.1:")
    # One credential and endpoint shared by two entries; the third has its own.
    assert entries[COM]["data"]["api_url"] == entries[ORG]["data"]["api_url"]
    assert entries[NET]["data"]["api_url"] != entries[COM]["data"]["api_url"]


def test_options_custom_default_and_custom() -> None:
    entries = _entries()
    assert entries[ORG]["options"] == {}  # never opened the options flow
    com = entries[COM]["options"]
    assert (com["detection_mode"], com["quorum"], com["https_sources"]) == ("stun", 2, [])
    assert [s.split(":")[0] for s in com["stun_servers"]] == ["localhost", "localhost"]
    net = entries[NET]["options"]
    assert (net["detection_mode"], net["quorum"]) == ("stun_https", 3)
    assert len(net["stun_servers"]) == len(net["https_sources"]) == 2


def test_entity_registry_has_every_entity_with_0_1_0_unique_ids() -> None:
    entities = _entities()
    for entry_id, data in DATA.items():
        mine = [e for e in entities if e["config_entry_id"] == entry_id]
        assert {e["unique_id"] for e in mine} == {f"{entry_id}_{key}" for key in _keys(data)}
        assert len({e["device_id"] for e in mine}) == 1
    assert len(entities) == sum(len(_keys(data)) for data in DATA.values())


def test_user_changes_renamed_and_disabled() -> None:
    by_unique_id = {e["unique_id"]: e for e in _entities()}
    unique_id, entity_id, name = RENAMED
    assert (by_unique_id[unique_id]["entity_id"], by_unique_id[unique_id]["name"]) == (
        entity_id,
        name,
    )
    assert by_unique_id[DISABLED]["disabled_by"] == "user"
    others = [e for key, e in by_unique_id.items() if key not in (unique_id, DISABLED)]
    assert all(e["disabled_by"] is None and e["name"] is None for e in others)


def test_one_device_per_entry() -> None:
    devices = _load("core.device_registry")["data"]["devices"]
    ours = {d["identifiers"][0][1]: d for d in devices if d["identifiers"][0][0] == "esddns"}
    assert set(ours) == set(DATA)
    for entry_id, device in ours.items():
        assert device["config_entries"] == [entry_id]
        assert device["name"] == DATA[entry_id]["domain"]
    device_of = {e["config_entry_id"]: e["device_id"] for e in _entities()}
    assert {entry_id: d["id"] for entry_id, d in ours.items()} == device_of


@pytest.mark.parametrize("entry_id", list(DATA))
def test_sync_history_of_each_entry(entry_id: str) -> None:
    items = _load(f"esddns.{entry_id}")["data"]["items"]
    assert items
    domain = DATA[entry_id]["domain"]
    assert all(item["record"].endswith(domain) for item in items)
    assert {item["result"] for item in items} <= {"updated", "failed"}
    if entry_id == COM:
        assert items[0]["result"] == "failed"  # newest first: the write Gandi refused with 500


def test_no_other_history_files() -> None:
    histories = {p.name for p in FIXTURE.glob("esddns.*")}
    assert histories == {f"esddns.{entry_id}" for entry_id in DATA}
