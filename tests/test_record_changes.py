"""Records added, changed and removed while the account runs: what a change racing a write, a
Gandi outage or the account's own removal must not break (each found by a review)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import logging
from types import MappingProxyType
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState, ConfigSubentry, ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest
import pytest_socket  # type: ignore[import-untyped]

from custom_components.esddns.const import CONF_STUN_SERVERS, DOMAIN
from custom_components.esddns.diagnostics import async_get_config_entry_diagnostics
from custom_components.esddns.sharing import DATA_DETECTION
from devtools.fakes.gandi import FakeGandi
from devtools.fakes.stun import FakeStunServer
from tests.integration import (
    NEW_PUBLIC,
    PUBLIC,
    PublicSources,
    make_entry,
    record_subentry,
    setup_entry,
    subentry_id,
)


def _record(name: str) -> ConfigSubentry:
    data = record_subentry("example.com", name, ["A"])["data"]
    return ConfigSubentry(
        data=MappingProxyType(data),
        subentry_type="record",
        title=f"{name}.example.com",
        unique_id=None,
    )


def _held(method: Callable[..., Awaitable[Any]]) -> tuple[Any, asyncio.Event, asyncio.Event]:
    """``method`` held until the returned gate opens; ``started`` says it was called."""
    gate, started = asyncio.Event(), asyncio.Event()

    async def slow(*args: Any, **kwargs: Any) -> Any:
        started.set()
        await gate.wait()
        return await method(*args, **kwargs)

    return slow, gate, started


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("change", ["rename", "remove another"])
async def test_a_record_changed_while_it_is_written(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    caplog: pytest.LogCaptureFixture,
    change: str,
) -> None:
    """A record renamed (or another removed) while a write is in flight: the change waits for
    the write, nothing fails, and the account goes on: the next address and a new record are
    written."""
    for name in ("home", "vpn"):
        fake_gandi.set_rrset("example.com", name, "A", [PUBLIC])
    entry = make_entry(fake_gandi, public_sources, records=["home", "vpn"])
    await setup_entry(hass, entry)
    client = entry.runtime_data.records.client
    real_put = client.put_rrset
    client.put_rrset, gate, started = _held(real_put)
    public_sources.answer(NEW_PUBLIC)
    entry.runtime_data.detection.async_detect_soon("test")
    await asyncio.wait_for(started.wait(), 5)
    if change == "rename":
        home = entry.subentries[subentry_id(entry, "home")]
        hass.config_entries.async_update_subentry(
            entry, home, data={**home.data, "name": "www"}, title="www.example.com"
        )
    else:
        hass.config_entries.async_remove_subentry(entry, subentry_id(entry, "vpn"))
    await asyncio.sleep(0.1)
    gate.set()
    await hass.async_block_till_done(wait_background_tasks=True)
    client.put_rrset = real_put
    assert _errors(caplog) == []

    public_sources.answer("81.2.69.200")
    await entry.runtime_data.detection.async_refresh()
    hass.config_entries.async_add_subentry(entry, _record("nas"))
    await hass.async_block_till_done(wait_background_tasks=True)
    kept = "www" if change == "rename" else "home"
    assert fake_gandi.get_rrset("example.com", kept, "A").values == ["81.2.69.200"]
    assert fake_gandi.get_rrset("example.com", "nas", "A").values == ["81.2.69.200"]
    assert hass.states.get("sensor.nas_example_com_a_record").state == "81.2.69.200"
    assert _errors(caplog) == []


async def test_entities_of_a_removed_family_go_even_while_gandi_fails(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The only AAAA record is deleted during a Gandi outage: the public IPv6 sensor goes at
    once, not at the next record change or restart."""
    pytest_socket.socket_allow_hosts(["127.0.0.1", "::1"])
    servers = [await FakeStunServer("2a01:4f8:c17:1::1").start("::1") for _ in range(2)]
    try:
        stun = [*public_sources.options[CONF_STUN_SERVERS], *(f"[::1]:{s.port}" for s in servers)]
        entry = make_entry(
            fake_gandi,
            public_sources,
            subentries=[
                record_subentry("example.com", "home", ["A"]),
                record_subentry("example.com", "nas", ["AAAA"]),
            ],
            options={CONF_STUN_SERVERS: stun},
        )
        await setup_entry(hass, entry)
        public_v6 = "sensor.esddns_example_com_public_ipv6_address"
        assert hass.states.get(public_v6) is not None
        fake_gandi.fail_next("503", 1000)
        await entry.runtime_data.records.async_refresh()
        assert hass.config_entries.async_remove_subentry(entry, subentry_id(entry, "nas"))
        await hass.async_block_till_done(wait_background_tasks=True)
        assert er.async_get(hass).async_get(public_v6) is None
        fake_gandi.clear_faults()
    finally:
        for server in servers:
            await server.stop()
        pytest_socket.socket_allow_hosts(["127.0.0.1"])


async def test_diagnostics_after_a_record_removed_while_gandi_fails(
    hass: HomeAssistant, fake_gandi: FakeGandi, public_sources: PublicSources
) -> None:
    """The diagnostics a user downloads when something is wrong still come."""
    entry = make_entry(fake_gandi, public_sources, records=["home", "vpn"])
    await setup_entry(hass, entry)
    fake_gandi.fail_next("503", 50)
    assert hass.config_entries.async_remove_subentry(entry, subentry_id(entry, "vpn"))
    await hass.async_block_till_done(wait_background_tasks=True)
    dump = await async_get_config_entry_diagnostics(hass, entry)
    assert [r["name"] for r in dump["records"]["values"]] == ["home"]


async def test_an_account_deleted_while_a_record_change_is_applied(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two records added, the account deleted while the first is being read: no error, and
    nothing of it stays (its shared detection is gone)."""
    entry = make_entry(fake_gandi, public_sources)
    await setup_entry(hass, entry)
    client = entry.runtime_data.records.client
    client.get_rrset, gate, started = _held(client.get_rrset)
    hass.config_entries.async_add_subentry(entry, _record("a"))
    await asyncio.wait_for(started.wait(), 5)
    hass.config_entries.async_add_subentry(entry, _record("b"))
    await asyncio.sleep(0)
    removal = hass.async_create_task(hass.config_entries.async_remove(entry.entry_id))
    await asyncio.sleep(0.1)
    gate.set()
    await removal
    await hass.async_block_till_done(wait_background_tasks=True)
    assert _errors(caplog) == []
    assert not hass.data[DATA_DETECTION].shared


# ----- a record stored with settings no form accepts (edited by hand, or an old bug) ----------


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        ({"interface_id": "not an id", "record_types": ["AAAA"]}, "'not an id' is not an"),
        ({"interface_id": "::10", "ipv6_prefix_length": 40, "record_types": ["AAAA"]}, "40 bits"),
        ({"record_types": []}, "no record type"),
        ({"interface_id": "::10", "record_types": ["A"]}, "an interface identifier without AAAA"),
        ({"ttl": 12}, "TTL"),
        ({"record_types": None}, "incomplete settings"),
    ],
    ids=["bad-id", "prefix-40", "no-type", "id-without-aaaa", "ttl-12", "types-none"],
)
async def test_a_record_stored_unusable_is_left_out_with_a_repair(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    data: dict[str, Any],
    detail: str,
) -> None:
    """A record whose stored settings no form would accept gets a repair naming it and why;
    the account loads, and its other record is written."""
    bad = record_subentry("example.com", "lab", ["A"])
    bad = ConfigSubentryData(**{**bad, "data": {**bad["data"], **data}})
    home = record_subentry("example.com", "home", ["A"])
    entry = make_entry(fake_gandi, public_sources, subentries=[home, bad])
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    (issue,) = [i for (d, _), i in ir.async_get(hass).issues.items() if d == DOMAIN]
    assert issue.translation_key == "record_unusable"
    assert issue.translation_placeholders["record"] == "lab.example.com"
    assert detail in issue.translation_placeholders["detail"]
    assert fake_gandi.get_rrset("example.com", "home", "A").values == [PUBLIC]
    assert [w.path.rsplit("/", 2)[-2] for w in fake_gandi.writes()] == ["home"]
