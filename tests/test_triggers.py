"""What wakes a detection early, through Home Assistant's state machine and clock: a router
entity, the host's IPv6 prefix, the change canary; jitter; and no storm however often they fire.
A trigger only starts a detection: the quorum still decides what is written."""

from __future__ import annotations

from datetime import timedelta
from ipaddress import IPv6Address
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant, callback
import pytest
import pytest_socket  # type: ignore[import-untyped]

from custom_components.esddns import local_sources, timing
from custom_components.esddns.const import (
    CONF_CHANGE_CHECK_INTERVAL,
    CONF_DETECTION_INTERVAL,
    CONF_ENTITY_SOURCES,
    CONF_INTERFACE_SOURCE,
    CONF_STUN_SERVERS,
    EVENT_PUBLIC_IP_CHANGED,
)
from custom_components.esddns.diagnostics import async_get_config_entry_diagnostics
from devtools.fakes.gandi import FakeGandi
from devtools.fakes.stun import FakeStunServer
from tests.integration import (
    NEW_PUBLIC,
    PUBLIC,
    PublicSources,
    make_entry,
    record_subentry,
    setup_entry,
    tick,
)

ROUTER = "sensor.router_wan_ip"
V6 = "2a01:4f8:c17:1::1"
NEW_V6 = "2a01:4f8:c17:2::1"


def _home(fake_gandi: FakeGandi) -> list[str]:
    rrset = fake_gandi.get_rrset("example.com", "home", "A")
    return list(rrset.values) if rrset is not None else []


def _changes(hass: HomeAssistant) -> list[dict[str, Any]]:
    """Every esddns_public_ip_changed event from now on."""
    seen: list[dict[str, Any]] = []

    @callback
    def _note(event: Event) -> None:
        seen.append(dict(event.data))

    hass.bus.async_listen(EVENT_PUBLIC_IP_CHANGED, _note)
    return seen


# ----- a router entity --------------------------------------------------------------------------


async def test_a_router_entity_reporting_a_new_address_starts_a_detection_at_once(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The router's WAN address changes: the record follows within the second, not at the next
    detection (0.2.0 took until the interval), and the event says who noticed."""
    hass.states.async_set(ROUTER, PUBLIC)
    entry = make_entry(fake_gandi, public_sources, options={CONF_ENTITY_SOURCES: [ROUTER]})
    await setup_entry(hass, entry)
    assert _home(fake_gandi) == [PUBLIC]
    changes = _changes(hass)

    public_sources.answer(NEW_PUBLIC)
    hass.states.async_set(ROUTER, NEW_PUBLIC)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert _home(fake_gandi) == [NEW_PUBLIC]
    assert changes == [
        {"family": "ipv4", "before": PUBLIC, "after": NEW_PUBLIC, "trigger": f"entity {ROUTER}"}
    ]
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["detection"]["last_trigger"] == f"entity {ROUTER}"


@pytest.mark.parametrize(
    "state", [STATE_UNKNOWN, STATE_UNAVAILABLE, "garbage", "192.168.1.20", "100.64.0.1", PUBLIC]
)
async def test_states_that_name_no_new_public_address_start_nothing(
    hass: HomeAssistant, fake_gandi: FakeGandi, public_sources: PublicSources, state: str
) -> None:
    """unknown, unavailable, garbage, a private or CGNAT address, or the agreed address itself:
    no detection, no request to any source."""
    hass.states.async_set(ROUTER, "81.2.69.1")
    entry = make_entry(fake_gandi, public_sources, options={CONF_ENTITY_SOURCES: [ROUTER]})
    await setup_entry(hass, entry)
    asked = sum(public_sources.requests)
    hass.states.async_set(ROUTER, state)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert sum(public_sources.requests) == asked


async def test_a_router_entity_alone_never_makes_a_quorum(
    hass: HomeAssistant, fake_gandi: FakeGandi, public_sources: PublicSources
) -> None:
    """The entity names an address the other sources don't: a detection runs, and nothing is
    written (the entity is one provider)."""
    hass.states.async_set(ROUTER, PUBLIC)
    entry = make_entry(fake_gandi, public_sources, options={CONF_ENTITY_SOURCES: [ROUTER]})
    await setup_entry(hass, entry)
    asked = sum(public_sources.requests)
    hass.states.async_set(ROUTER, NEW_PUBLIC)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert sum(public_sources.requests) > asked  # it did start a detection
    assert _home(fake_gandi) == [PUBLIC]
    assert fake_gandi.writes()[-1].body["rrset_values"] == [PUBLIC]


async def test_a_flapping_entity_costs_a_few_rounds_and_only_quorum_addresses_are_written(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    freezer: FrozenDateTimeFactory,
) -> None:
    """40 state changes in 4 seconds: at most a few rounds (Home Assistant's request debouncer
    runs one per cooldown), and every address written is one the sources agreed on."""
    hass.states.async_set(ROUTER, PUBLIC)
    entry = make_entry(fake_gandi, public_sources, options={CONF_ENTITY_SOURCES: [ROUTER]})
    await setup_entry(hass, entry)
    rounds: list[object] = []
    entry.runtime_data.detection.async_add_listener(
        lambda: rounds.append(entry.runtime_data.detection.data)
    )
    public_sources.answer(NEW_PUBLIC)
    for index in range(40):
        hass.states.async_set(ROUTER, f"81.2.69.{100 + index % 7}")
        freezer.tick(timedelta(seconds=0.1))
        await hass.async_block_till_done(wait_background_tasks=True)
    await tick(hass, freezer, 0.5)  # past the debouncer's cooldown
    assert 1 <= len({id(r) for r in rounds}) <= 3
    assert {tuple(w.body["rrset_values"]) for w in fake_gandi.writes()} <= {
        (PUBLIC,),
        (NEW_PUBLIC,),
    }
    assert _home(fake_gandi) == [NEW_PUBLIC]


# ----- the host's interfaces ----------------------------------------------------------------


async def test_a_new_ipv6_prefix_on_the_host_starts_a_detection(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    socket_enabled: None,
) -> None:
    """With the interface source on, the host's IPv6 prefix is watched locally: a new /64
    starts a detection within seconds, and the AAAA record follows."""
    if_inet6 = tmp_path / "if_inet6"
    monkeypatch.setattr(local_sources, "IF_INET6", if_inet6)

    def host_has(address: str) -> None:
        hexed = IPv6Address(address).packed.hex()
        if_inet6.write_text(f"{hexed} 02 40 00 00 eth0\n")

    host_has(V6)
    pytest_socket.socket_allow_hosts(["127.0.0.1", "::1"])  # ::1 is loopback too
    servers = [await FakeStunServer(V6).start("::1") for _ in range(2)]
    try:
        entry = make_entry(
            fake_gandi,
            PublicSources(servers),
            subentries=[record_subentry("example.com", "home", ["AAAA"])],
            options={
                CONF_STUN_SERVERS: [f"[::1]:{server.port}" for server in servers],
                CONF_INTERFACE_SOURCE: True,
            },
        )
        await setup_entry(hass, entry)
        await tick(hass, freezer, 0.1)  # the watch reads the prefix it starts from
        assert fake_gandi.get_rrset("example.com", "home", "AAAA").values == [V6]
        asked = sum(server.requests for server in servers)
        await tick(hass, freezer, 0.1)
        assert sum(server.requests for server in servers) == asked  # watching costs nothing

        for server in servers:
            server.address = NEW_V6
        host_has(NEW_V6)
        await tick(hass, freezer, 0.1)
        assert fake_gandi.get_rrset("example.com", "home", "AAAA").values == [NEW_V6]
        assert entry.runtime_data.detection.data.trigger == "interface"
    finally:
        for server in servers:
            await server.stop()
        pytest_socket.socket_allow_hosts(["127.0.0.1"])


# ----- the change canary ------------------------------------------------------------------------


def _canary_entry(fake_gandi: FakeGandi, public_sources: PublicSources, **options: Any) -> Any:
    return make_entry(
        fake_gandi,
        public_sources,
        options={CONF_CHANGE_CHECK_INTERVAL: 1, CONF_DETECTION_INTERVAL: 20, **options},
    )


async def test_the_canary_asks_one_source_a_minute_and_notices_a_change(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Between full rounds, one request a minute; when it names another address, a full round
    runs at once and the record follows within that minute."""
    fake_gandi.set_rrset("example.com", "home", "A", [PUBLIC])
    entry = _canary_entry(fake_gandi, public_sources)
    await setup_entry(hass, entry)
    for _ in range(5):
        asked = sum(public_sources.requests)
        await tick(hass, freezer, 1)
        assert sum(public_sources.requests) == asked + 1
    assert fake_gandi.writes() == []

    public_sources.answer(NEW_PUBLIC)
    await tick(hass, freezer, 1)
    assert _home(fake_gandi) == [NEW_PUBLIC]
    assert entry.runtime_data.detection.data.trigger == "canary"
    canary = (await async_get_config_entry_diagnostics(hass, entry))["detection"]["change_check"]
    assert canary["ipv4"]["asked"] == 6
    assert canary["ipv4"]["differed"] == 1
    assert canary["ipv4"]["source"].startswith("udp://127.0.0.1:")


async def test_a_failing_canary_starts_a_full_round(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The canary answers with an error: a full round decides (the other sources still agree,
    so nothing changes at Gandi)."""
    fake_gandi.set_rrset("example.com", "home", "A", [PUBLIC])
    entry = _canary_entry(fake_gandi, public_sources)
    await setup_entry(hass, entry)
    await tick(hass, freezer, 1)
    canary = entry.runtime_data.shared.triggers.canary
    name = canary[sorted(canary)[0]].source
    failing = next(s for s in public_sources.servers if f":{s.port}" in str(name))
    failing.mode = "error"
    rounds = entry.runtime_data.detection.data
    await tick(hass, freezer, 1)
    await tick(hass, freezer, 0.1)
    assert entry.runtime_data.detection.data is not rounds
    assert entry.runtime_data.detection.data.trigger == "canary"
    assert _home(fake_gandi) == [PUBLIC]


async def test_a_canary_that_keeps_disagreeing_loses_its_place(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The canary keeps naming an address the full rounds refute: it loses its place to another
    source (the round's scoreboard ranks a source that disagreed lower at once; three refutals
    in a row would demote it outright), and nothing it said is ever written."""
    fake_gandi.set_rrset("example.com", "home", "A", [PUBLIC])
    entry = _canary_entry(fake_gandi, public_sources)
    await setup_entry(hass, entry)
    await tick(hass, freezer, 1)
    record = next(iter(entry.runtime_data.shared.triggers.canary.values()))
    liar_name = record.source
    liar = next(s for s in public_sources.servers if f":{s.port}" in str(liar_name))
    liar.address = "81.2.69.99"
    sources_seen = []
    for _ in range(4):
        await tick(hass, freezer, 1)
        await tick(hass, freezer, 0.2)
        sources_seen.append(record.source)
    assert record.refuted >= 1
    assert sources_seen[-2:] == [sources_seen[-1]] * 2
    assert sources_seen[-1] != liar_name
    assert all(w.body["rrset_values"] == [PUBLIC] for w in fake_gandi.writes())
    assert _home(fake_gandi) == [PUBLIC]


async def test_a_filtered_canary_answer_starts_no_round(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A VPN comes up and every source names its address, which the filters reject: one full
    round finds no consensus, and from then on the canary's filtered answer, like no answer,
    starts none: one request a minute, nothing written."""
    fake_gandi.set_rrset("example.com", "home", "A", [PUBLIC])
    entry = _canary_entry(fake_gandi, public_sources, ipv4_never=[f"{NEW_PUBLIC}/32"])
    await setup_entry(hass, entry)
    public_sources.answer(NEW_PUBLIC)
    await tick(hass, freezer, 1)
    await tick(hass, freezer, 0.2)
    assert entry.runtime_data.detection.data.trigger == "canary"
    for _ in range(4):
        asked = sum(public_sources.requests)
        await tick(hass, freezer, 1)
        assert sum(public_sources.requests) == asked + 1
    canary = entry.runtime_data.shared.triggers.canary
    assert canary[sorted(canary)[0]].last == f"filtered: {NEW_PUBLIC}"
    assert fake_gandi.writes() == []
    assert _home(fake_gandi) == [PUBLIC]


async def test_a_canary_interval_of_zero_turns_it_off(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    freezer: FrozenDateTimeFactory,
) -> None:
    """On a metered link: no request between full rounds."""
    fake_gandi.set_rrset("example.com", "home", "A", [PUBLIC])
    await setup_entry(hass, _canary_entry(fake_gandi, public_sources, change_check_interval=0))
    asked = sum(public_sources.requests)
    for _ in range(19):
        await tick(hass, freezer, 1)
    assert sum(public_sources.requests) == asked


# ----- jitter -----------------------------------------------------------------------------------


def test_intervals_are_spread_by_ten_percent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every periodic detection, record check and canary waits a random 90–110 % of its
    interval (tests elsewhere pin it to 100 %)."""
    monkeypatch.undo()  # the real random spread
    spread = [timing.jittered(timedelta(minutes=20)) for _ in range(500)]
    assert all(timedelta(minutes=18) <= value <= timedelta(minutes=22) for value in spread)
    assert min(spread) < timedelta(minutes=19) < timedelta(minutes=21) < max(spread)


# ----- found by review: what a trigger must not lose, and what must not trigger ----------------


async def test_the_canary_brings_the_record_back_after_an_outage(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The link goes down (the canary fails, the round it starts fails too), then comes back
    with a new address: the canary keeps asking, and the record follows within minutes, not at
    the next 20-minute round."""
    fake_gandi.set_rrset("example.com", "home", "A", [PUBLIC])
    entry = _canary_entry(fake_gandi, public_sources)
    await setup_entry(hass, entry)
    for server in public_sources.servers:
        server.mode = "error"
    await tick(hass, freezer, 1)
    await tick(hass, freezer, 0.2)
    assert not entry.runtime_data.detection.last_update_success
    public_sources.answer(NEW_PUBLIC)
    for _ in range(3):
        await tick(hass, freezer, 1)
    assert _home(fake_gandi) == [NEW_PUBLIC]


async def test_a_dry_run_round_does_not_hold_back_the_accounts_sharing_it(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    freezer: FrozenDateTimeFactory,
) -> None:
    """One account's preview (dry run, detect) sees a new address: it writes nothing, and the
    account sharing its detection gets the address at the next change check, not 20 minutes
    later."""
    for domain in ("example.com", "example.org"):
        fake_gandi.set_rrset(domain, "home", "A", [PUBLIC])
    options = {CONF_CHANGE_CHECK_INTERVAL: 1, CONF_DETECTION_INTERVAL: 20}
    first = make_entry(fake_gandi, public_sources, options=options)
    second = make_entry(fake_gandi, public_sources, options=options, domain="example.org")
    await setup_entry(hass, first)
    await setup_entry(hass, second)
    public_sources.answer(NEW_PUBLIC)
    await hass.services.async_call(
        "esddns",
        "sync",
        {"config_entry_id": first.entry_id, "dry_run": True, "detect": True},
        blocking=True,
        return_response=True,
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert fake_gandi.writes() == []
    await tick(hass, freezer, 1)
    await tick(hass, freezer, 0.2)
    assert fake_gandi.get_rrset("example.org", "home", "A").values == [NEW_PUBLIC]
    assert fake_gandi.get_rrset("example.com", "home", "A").values == [NEW_PUBLIC]


async def test_attribute_updates_of_a_router_entity_start_nothing(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A router entity behind a VPN names another public address than the quorum's; its
    attributes change every 30 seconds (an uptime): no detection for that, only for a new
    state."""
    hass.states.async_set(ROUTER, "81.2.69.77", {"uptime": 0})
    entry = make_entry(
        fake_gandi,
        public_sources,
        options={CONF_ENTITY_SOURCES: [ROUTER], CONF_DETECTION_INTERVAL: 20},
    )
    await setup_entry(hass, entry)
    await tick(hass, freezer, 0.5)
    asked = sum(public_sources.requests)
    for index in range(1, 21):
        hass.states.async_set(ROUTER, "81.2.69.77", {"uptime": index * 30})
        await tick(hass, freezer, 0.5)
    assert sum(public_sources.requests) == asked
    hass.states.async_set(ROUTER, "81.2.69.78")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert sum(public_sources.requests) > asked


async def test_a_trigger_during_a_round_runs_one_more_round_after_it(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A trigger that comes while a round runs is not dropped: one more round runs after it
    (after the cooldown), named by it; nothing else takes its name."""
    entry = make_entry(fake_gandi, public_sources)
    await setup_entry(hass, entry)
    detection = entry.runtime_data.detection
    rounds: list[str] = []
    detection.async_add_listener(lambda: rounds.append(detection.data.trigger))
    detection.async_detect_soon("entity sensor.router_wan_ip")
    detection.async_detect_soon("entity sensor.other")  # the first round is running
    await hass.async_block_till_done(wait_background_tasks=True)
    await tick(hass, freezer, 0.2)  # past the cooldown
    assert rounds == ["entity sensor.router_wan_ip", "entity sensor.other"]
    await tick(hass, freezer, 5)
    assert rounds[-1] == "interval"
