"""The logbook ("Activity") tells what ESDDNS did, in words, as a user reads it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
import itertools
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    MockHAClientWebSocket,
    WebSocketGenerator,
)

from custom_components.esddns.const import DOMAIN, EVENT_PUBLIC_IP_CHANGED, EVENT_RECORD_SYNCED
from devtools.fakes.gandi import FakeGandi
from tests.integration import NEW_PUBLIC, PUBLIC, PublicSources, setup_entry, tick


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder must exist before `hass` (which enabling custom integrations starts)."""


async def _esddns_entries(
    hass: HomeAssistant, client: ClientSessionGenerator, start: datetime
) -> list[dict[str, Any]]:
    """What the logbook REST API shows for ESDDNS since ``start``: name and message."""
    await async_wait_recording_done(hass)
    http = await client()
    end = dt_util.utcnow() + timedelta(hours=1)
    response = await http.get(
        f"/api/logbook/{start.isoformat()}", params={"end_time": end.isoformat()}
    )
    assert response.status == 200
    entries: list[dict[str, Any]] = await response.json()
    esddns = [e for e in entries if e.get("domain") == DOMAIN]
    assert all(e["name"] == "ESDDNS" for e in esddns)
    return esddns


async def _ws_entries(client_of: WebSocketGenerator, start: datetime) -> list[dict[str, Any]]:
    """What the frontend's websocket call shows for ESDDNS since ``start``."""
    client = await client_of()
    await client.send_json(
        {
            "id": 1,
            "type": "logbook/get_events",
            "start_time": start.isoformat(),
            "end_time": (dt_util.utcnow() + timedelta(hours=1)).isoformat(),
        }
    )
    response = await client.receive_json()
    assert response["success"], response
    return [e for e in response["result"] if e.get("domain") == DOMAIN]


async def _setup_logbook(hass: HomeAssistant) -> datetime:
    assert await async_setup_component(hass, "logbook", {})
    await hass.async_block_till_done()
    return dt_util.utcnow() - timedelta(seconds=1)


async def test_created_changed_rewritten_in_words(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A new record, then a new public address and the rewrite it causes, one line each."""
    start = await _setup_logbook(hass)
    await setup_entry(hass, mock_config_entry)  # the record is absent

    public_sources.answer(NEW_PUBLIC)
    await tick(hass, freezer, 5)

    assert fake_gandi.get_rrset("example.com", "home", "A").values == [NEW_PUBLIC]
    messages = [e["message"] for e in await _esddns_entries(hass, hass_client, start)]
    assert messages[0] == f"home.example.com A created: {PUBLIC}"
    # Frozen time gives the change and the rewrite one timestamp, so their order is open.
    assert sorted(messages[1:]) == [
        f"Public IPv4 changed: {PUBLIC} → {NEW_PUBLIC}",
        f"home.example.com A rewritten: {PUBLIC} → {NEW_PUBLIC}",
    ]


async def test_refused_write_says_why(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Gandi refuses the rewrite: the logbook names the record and Gandi's reason."""
    fake_gandi.set_rrset("example.com", "home", "A", [PUBLIC])
    start = await _setup_logbook(hass)
    await setup_entry(hass, mock_config_entry)

    fake_gandi.fail_next("409")
    public_sources.answer(NEW_PUBLIC)
    await tick(hass, freezer, 5)

    assert fake_gandi.get_rrset("example.com", "home", "A").values == [PUBLIC]
    messages = [e["message"] for e in await _esddns_entries(hass, hass_client, start)]
    # Gandi's own words for the 409 it answered (devtools/fakes/gandi.py).
    assert sorted(messages) == [
        f"Public IPv4 changed: {PUBLIC} → {NEW_PUBLIC}",
        "home.example.com A could not be updated: Conflict with the zone",
    ]


async def test_websocket_and_older_event_shapes(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """The frontend's websocket call shows the same words, also for events 0.1.0 recorded."""
    start = await _setup_logbook(hass)
    # Loaded without an entry: the logbook platform alone is enough to describe old rows.
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    hass.bus.async_fire(
        EVENT_PUBLIC_IP_CHANGED, {"family": "ipv6", "old": "2001:db8::1", "new": "2001:db8::2"}
    )
    hass.bus.async_fire(
        EVENT_RECORD_SYNCED,
        {
            "domain": "example.com",
            "record": "example.com",
            "name": "@",
            "type": "AAAA",
            "old": None,
            "new": ["2001:db8::2"],
        },
    )
    await async_wait_recording_done(hass)

    assert [(e["name"], e["message"]) for e in await _ws_entries(hass_ws_client, start)] == [
        ("ESDDNS", "Public IPv6 changed: 2001:db8::1 → 2001:db8::2"),
        ("ESDDNS", "example.com AAAA created: 2001:db8::2"),
    ]


async def test_the_device_page_shows_the_rewrite(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The logbook card of the record's device page (a device filter) shows its writes."""
    fake_gandi.set_rrset("example.com", "home", "A", [PUBLIC])
    start = await _setup_logbook(hass)
    entry = mock_config_entry
    await setup_entry(hass, entry)
    public_sources.answer(NEW_PUBLIC)
    await tick(hass, freezer, 5)
    (device,) = [
        device
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        if device.name == "home.example.com"
    ]
    await async_wait_recording_done(hass)

    client = await hass_ws_client()
    await client.send_json(
        {
            "id": 1,
            "type": "logbook/get_events",
            "start_time": start.isoformat(),
            "end_time": (dt_util.utcnow() + timedelta(hours=1)).isoformat(),
            "device_ids": [device.id],
            # What the device page's logbook card asks for: the device and its entities.
            "entity_ids": [
                e.entity_id for e in er.async_entries_for_device(er.async_get(hass), device.id)
            ],
        }
    )
    response = await client.receive_json()
    assert response["success"], response
    assert [e["message"] for e in response["result"] if e.get("domain") == DOMAIN] == [
        f"home.example.com A rewritten: {PUBLIC} → {NEW_PUBLIC}"
    ]


async def _stream_history(
    client: MockHAClientWebSocket, ids: Iterator[int], start: datetime, **filters: list[str]
) -> list[dict[str, Any]]:
    """One ``logbook/event_stream`` subscription as the frontend's ha-logbook makes it (start a
    day ago, end a year ahead): the lines of its history, then it is unsubscribed."""
    msg_id = next(ids)
    await client.send_json(
        {
            "id": msg_id,
            "type": "logbook/event_stream",
            "start_time": start.isoformat(),
            "end_time": (dt_util.utcnow() + timedelta(days=365)).isoformat(),
            **filters,
        }
    )
    result = await client.receive_json()
    assert result["success"], result
    events: list[dict[str, Any]] = []
    while True:  # the history comes in "partial" messages, the last one without
        message = await client.receive_json()
        assert (message["id"], message["type"]) == (msg_id, "event"), message
        events += message["event"]["events"]
        if not message["event"].get("partial"):
            break
    await client.send_json({"id": next(ids), "type": "unsubscribe_events", "subscription": msg_id})
    assert (await client.receive_json())["success"]
    return events


async def test_a_device_page_shows_a_rewrite_once(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """One write, one line: on the record's device page, none on the account's, one in the
    logbook panel, also when a device page's logbook card subscribes twice.

    The device page (frontend 20250411.0) can render before the entity registry has arrived:
    its logbook card then subscribes with the device id alone, and a moment later with the device
    and its entities, unsubscribing the first. The first one's history still arrives, and the card
    merges both histories into one list without removing duplicates. A line the logbook finds by
    the event's device_id comes with both; one it finds by the event's entity_id only with the
    second.
    """
    fake_gandi.set_rrset("example.com", "home", "A", [PUBLIC])
    start = await _setup_logbook(hass)
    entry = mock_config_entry
    await setup_entry(hass, entry)
    public_sources.answer(NEW_PUBLIC)
    await tick(hass, freezer, 5)
    freezer.tick(timedelta(seconds=1))  # a stream's history ends strictly before "now"
    await async_wait_recording_done(hass)
    rewrite = f"home.example.com A rewritten: {PUBLIC} → {NEW_PUBLIC}"
    ent_reg = er.async_get(hass)
    client = await hass_ws_client()
    ids = itertools.count(1)

    def rewrites(events: list[dict[str, Any]]) -> list[str]:
        messages = [e["message"] for e in events if e.get("domain") == DOMAIN]
        return [message for message in messages if " rewritten: " in message]

    shown: dict[str, list[str]] = {}
    for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id):
        entity_ids = [e.entity_id for e in er.async_entries_for_device(ent_reg, device.id)]
        assert entity_ids, device.name
        # What one device page's logbook card shows: both subscriptions' histories, merged.
        card = await _stream_history(client, ids, start, device_ids=[device.id])
        card += await _stream_history(
            client, ids, start, device_ids=[device.id], entity_ids=entity_ids
        )
        shown[str(device.name)] = rewrites(card)
    assert shown == {"ESDDNS example.com": [], "home.example.com": [rewrite]}
    # The logbook panel: no filter.
    assert rewrites(await _stream_history(client, ids, start)) == [rewrite]


@pytest.mark.parametrize(
    ("trigger", "words"),
    [
        ("interval", ""),
        ("canary", " (noticed by the change check)"),
        ("entity sensor.router_wan_ip", " (noticed by sensor.router_wan_ip)"),
        ("interface", " (noticed on this host's network interface)"),
        ("action", " (found by an esddns.sync call)"),
    ],
)
async def test_the_logbook_says_who_noticed_a_change(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, trigger: str, words: str
) -> None:
    """What started the detection that saw a new address, in the change's line."""
    start = await _setup_logbook(hass)
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    hass.bus.async_fire(
        EVENT_PUBLIC_IP_CHANGED,
        {"family": "ipv4", "before": PUBLIC, "after": NEW_PUBLIC, "trigger": trigger},
    )
    await async_wait_recording_done(hass)
    assert [e["message"] for e in await _ws_entries(hass_ws_client, start)] == [
        f"Public IPv4 changed: {PUBLIC} → {NEW_PUBLIC}{words}"
    ]
