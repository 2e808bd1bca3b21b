"""What Home Assistant already knows as sources: a router's WAN-IP entity and the host's own
interfaces; and the repairs only they make possible (CGNAT, double NAT, a VPN in between)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import patch

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.esddns import local_sources
from custom_components.esddns.const import (
    CONF_ENTITY_SOURCES,
    CONF_INTERFACE_SOURCE,
    CONF_IPV4_NEVER,
    CONF_IPV6_NEVER,
    CONF_QUORUM,
    CONF_STUN_SERVERS,
    DOMAIN,
)
from custom_components.esddns.detection import DetectionSettings
from custom_components.esddns.wan import (
    Family,
    SourceFailure,
    SourceKind,
    interface_source,
    preferred_ipv6,
)
from devtools.fakes.gandi import FakeGandi
from tests.integration import NEW_PUBLIC, PUBLIC, PublicSources, make_entry, setup_entry

ROUTER = "sensor.router_wan_ip"
PUBLIC_IPV4 = "sensor.esddns_example_com_public_ipv4_address"


def _outcome(entry: Any, name: str) -> Any:
    detection = entry.runtime_data.detection.data.detections[Family.IPV4]
    return next(o for o in detection.outcomes if o.source.name == name)


async def test_router_entity_is_one_vote(
    hass: HomeAssistant, fake_gandi: FakeGandi, public_sources: PublicSources
) -> None:
    """One STUN server and the router's entity make a quorum of two; no traffic for the entity.
    An unavailable or odd state is a failure with its reason, never a vote."""
    hass.states.async_set(ROUTER, PUBLIC)
    one_server = [f"127.0.0.1:{public_sources.servers[0].port}"]
    entry = make_entry(
        fake_gandi,
        public_sources,
        options={CONF_STUN_SERVERS: one_server, CONF_ENTITY_SOURCES: [ROUTER]},
    )
    await setup_entry(hass, entry)
    assert hass.states.get(PUBLIC_IPV4).state == PUBLIC
    assert _outcome(entry, f"entity:{ROUTER}").status == "address"
    assert f"entity:{ROUTER}" in hass.states.get(PUBLIC_IPV4).attributes["sources_agreeing"]

    for state, status, detail in (
        (STATE_UNAVAILABLE, "refused", "unavailable"),
        ("not an address", "malformed", "not an address"),
    ):
        hass.states.async_set(ROUTER, state)
        await entry.runtime_data.detection.async_refresh()
        outcome = _outcome(entry, f"entity:{ROUTER}")
        assert (outcome.status, outcome.address) == (status, None)
        assert detail in outcome.detail
        assert hass.states.get(PUBLIC_IPV4).state == STATE_UNAVAILABLE  # one vote is not two

    # The router's integration removed (its entity gone): a failure that says so.
    hass.states.async_remove(ROUTER)
    await entry.runtime_data.detection.async_refresh()
    outcome = _outcome(entry, f"entity:{ROUTER}")
    assert (outcome.status, outcome.detail) == ("error", f"{ROUTER} does not exist")


@pytest.mark.parametrize(
    ("router", "key"),
    [
        ("100.64.12.34", "router_cgnat"),
        ("192.168.178.2", "router_private"),
        ("81.2.69.200", "router_address_differs"),
    ],
)
@pytest.mark.entry(options={CONF_ENTITY_SOURCES: [ROUTER]})
async def test_router_entity_explains_why_inbound_connections_wont_arrive(
    hass: HomeAssistant,
    public_sources: PublicSources,
    mock_config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    router: str,
    key: str,
) -> None:
    """While the sources agree on a public address, a router that reports CGNAT, a private WAN
    or another public address raises a repair (after a few rounds, so a change of address
    doesn't look like one); it clears once the router reports the public address."""
    hass.states.async_set(ROUTER, router)
    entry = mock_config_entry
    await setup_entry(hass, entry)
    wan = entry.runtime_data.detection
    await wan.async_refresh()
    assert not issue_registry.issues
    await wan.async_refresh()
    (issue,) = issue_registry.issues.values()
    assert issue.translation_key == key
    assert issue.translation_placeholders == {
        "entity": ROUTER,
        "router_address": router,
        "public_address": PUBLIC,
        "records": "home.example.com",
    }
    assert hass.states.get(PUBLIC_IPV4).state == PUBLIC  # the consensus itself is unchanged

    # A round without consensus can't tell: the repair stays rather than flap.
    public_sources.silence()
    await wan.async_refresh()
    assert [i.translation_key for i in issue_registry.issues.values()] == [key]
    public_sources.answer(PUBLIC)

    hass.states.async_set(ROUTER, PUBLIC)
    await wan.async_refresh()
    assert not issue_registry.issues

    # The repair goes with the last entry that used these settings.
    hass.states.async_set(ROUTER, router)
    for _ in range(3):
        await wan.async_refresh()
    assert issue_registry.issues
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert not issue_registry.issues


async def test_interface_source_prefers_a_stable_global_ipv6(
    hass: HomeAssistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This host has no global IPv6 (only fd00::/8 and link-local), so the adapters and
    /proc/net/if_inet6 are a fake written here: a temporary (privacy) address comes first in
    Home Assistant's data, and the stable one is chosen by Linux's flags."""
    temporary, stable = "2001:db9::1234", "2001:db9::10"
    adapters = [
        {
            "name": "eth0",
            "index": 2,
            "enabled": True,
            "auto": True,
            "default": True,
            "ipv4": [{"address": "192.168.1.10", "network_prefix": 24}],
            "ipv6": [
                {"address": temporary, "flowinfo": 0, "scope_id": 0, "network_prefix": 64},
                {"address": stable, "flowinfo": 0, "scope_id": 0, "network_prefix": 64},
                {"address": "fe80::1", "flowinfo": 0, "scope_id": 2, "network_prefix": 64},
            ],
        }
    ]
    proc = tmp_path / "if_inet6"
    proc.write_text(
        "20010db9000000000000000000001234 02 40 00 01     eth0\n"  # temporary
        "20010db9000000000000000000000010 02 40 00 80     eth0\n"  # permanent
        "fe800000000000000000000000000001 02 40 20 80     eth0\n"
    )
    monkeypatch.setattr(local_sources, "IF_INET6", proc)
    source = interface_source()
    with patch.object(local_sources.network, "async_get_adapters", return_value=adapters):
        found = await local_sources.local_handlers(hass)[SourceKind.INTERFACE](source, Family.IPV6)
        assert str(found) == stable
        # Only a private IPv4: no public address of that family on this host.
        with pytest.raises(SourceFailure, match="no public IPv4 address"):
            await local_sources.local_handlers(hass)[SourceKind.INTERFACE](source, Family.IPV4)
        # Without Linux's file, Home Assistant's order decides among public candidates.
        monkeypatch.setattr(local_sources, "IF_INET6", tmp_path / "missing")
        found = await local_sources.local_handlers(hass)[SourceKind.INTERFACE](source, Family.IPV6)
        assert str(found) == temporary


def _adapter(name: str, ipv4: list[str], *, enabled: bool = True) -> dict[str, Any]:
    return {
        "name": name,
        "index": 2,
        "enabled": enabled,
        "auto": True,
        "default": False,
        "ipv4": [{"address": a, "network_prefix": 24} for a in ipv4],
        "ipv6": [],
    }


async def test_interface_source_takes_the_first_public_ipv4(hass: HomeAssistant) -> None:
    """Private and CGNAT (100.64.0.0/10) addresses are passed over, and so is a disabled
    adapter: the host's first public IPv4 address is the vote."""
    adapters = [
        _adapter("eth1", ["93.184.216.34"], enabled=False),
        _adapter("eth0", ["192.168.1.2", "100.64.0.1", "127.0.0.1"]),
        _adapter("ppp0", ["81.2.69.142", "81.2.69.143"]),
    ]
    source = interface_source()
    with patch.object(local_sources.network, "async_get_adapters", return_value=adapters):
        found = await local_sources.local_handlers(hass)[SourceKind.INTERFACE](source, Family.IPV4)
    assert str(found) == "81.2.69.142"
    with (
        patch.object(local_sources.network, "async_get_adapters", return_value=adapters[:2]),
        pytest.raises(SourceFailure, match="no public IPv4 address"),
    ):
        await local_sources.local_handlers(hass)[SourceKind.INTERFACE](source, Family.IPV4)


async def test_interface_source_on_this_host(hass: HomeAssistant) -> None:
    """The real /proc/net/if_inet6 of the test host is read; its fd00::/8 and link-local
    addresses are not public, so the source fails with its reason instead of voting."""
    entries = local_sources.read_if_inet6()
    assert entries is None or preferred_ipv6([e.address for e in entries], entries) is None
    with pytest.raises(SourceFailure, match="no public IPv6 address"):
        await local_sources.local_handlers(hass)[SourceKind.INTERFACE](
            interface_source(), Family.IPV6
        )


async def test_interface_source_votes_in_detection(
    hass: HomeAssistant, fake_gandi: FakeGandi, public_sources: PublicSources
) -> None:
    """Switched on in the options, the host's address is one more provider in the round."""
    public_ipv4 = [
        {
            "name": "eth0",
            "index": 2,
            "enabled": True,
            "auto": True,
            "default": True,
            "ipv4": [{"address": PUBLIC, "network_prefix": 24}],
            "ipv6": [],
        }
    ]
    one_server = [f"127.0.0.1:{public_sources.servers[0].port}"]
    entry = make_entry(
        fake_gandi,
        public_sources,
        options={CONF_STUN_SERVERS: one_server, CONF_INTERFACE_SOURCE: True, CONF_QUORUM: 2},
    )
    with patch.object(local_sources.network, "async_get_adapters", return_value=public_ipv4):
        await setup_entry(hass, entry)
    assert hass.states.get(PUBLIC_IPV4).state == PUBLIC
    assert _outcome(entry, "interface").status == "address"


async def test_the_host_address_the_filters_let_through_is_its_vote(
    hass: HomeAssistant, fake_gandi: FakeGandi, public_sources: PublicSources
) -> None:
    """A VPN's interface comes first on this host, the ISP's second: with the VPN's address
    never to publish, the host votes with the ISP's; with only the VPN's, it votes with that
    one, which the filter marks as filtered."""
    vpn = {**_adapter("wg0", [NEW_PUBLIC]), "default": True}
    adapters = [vpn, _adapter("ppp0", [PUBLIC])]
    one_server = [f"127.0.0.1:{public_sources.servers[0].port}"]
    options = {
        CONF_STUN_SERVERS: one_server,
        CONF_INTERFACE_SOURCE: True,
        CONF_QUORUM: 2,
        CONF_IPV4_NEVER: [f"{NEW_PUBLIC}/32"],
    }
    entry = make_entry(fake_gandi, public_sources, options=options)
    with patch.object(local_sources.network, "async_get_adapters", return_value=adapters):
        await setup_entry(hass, entry)
        assert hass.states.get(PUBLIC_IPV4).state == PUBLIC
        assert (_outcome(entry, "interface").status, str(_outcome(entry, "interface").address)) == (
            "address",
            PUBLIC,
        )
    with patch.object(local_sources.network, "async_get_adapters", return_value=[vpn]):
        await entry.runtime_data.detection.async_refresh()
    assert (_outcome(entry, "interface").status, str(_outcome(entry, "interface").address)) == (
        "filtered",
        NEW_PUBLIC,
    )


async def test_the_host_ipv6_address_the_filters_let_through_is_chosen(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Among the host's global IPv6 addresses (a VPN's first, one Home Assistant's data
    garbles), the ISP's one the filters let through is the one it votes with."""
    monkeypatch.setattr(local_sources, "IF_INET6", tmp_path / "missing")
    v6 = [
        {"address": "2001:67c:2e8::1", "flowinfo": 0, "scope_id": 0, "network_prefix": 64},
        {"address": "not-an-address", "flowinfo": 0, "scope_id": 0, "network_prefix": 64},
        {"address": "2a01:4f8:c17:1::1", "flowinfo": 0, "scope_id": 0, "network_prefix": 64},
    ]
    adapters = [{**_adapter("eth0", []), "ipv6": v6}]
    settings = DetectionSettings.from_options({CONF_IPV6_NEVER: ["2001:67c:2e8::/48"]})
    policies = {family: settings.policy(family) for family in Family}
    read = local_sources.local_handlers(hass, policies)[SourceKind.INTERFACE]
    with patch.object(local_sources.network, "async_get_adapters", return_value=adapters):
        assert str(await read(interface_source(), Family.IPV6)) == "2a01:4f8:c17:1::1"
        # Without filters, the first public one.
        read = local_sources.local_handlers(hass)[SourceKind.INTERFACE]
        assert str(await read(interface_source(), Family.IPV6)) == "2001:67c:2e8::1"


async def test_scoreboard_survives_a_restart_and_rounds_ask_fewer(
    hass: HomeAssistant,
    public_sources: PublicSources,
    hass_storage: dict[str, Any],
    init_integration: MockConfigEntry,
) -> None:
    """After the first full round, a steady round asks quorum + 1 sources at most; what each
    source did is saved, and read back by the next start."""
    entry = init_integration
    wan = entry.runtime_data.detection
    asked_first = sum(public_sources.requests)
    assert asked_first == 3
    for _ in range(4):
        before = sum(public_sources.requests)
        await wan.async_refresh()
        assert sum(public_sources.requests) - before <= 3
        assert wan.data.detections[Family.IPV4].address is not None

    hass.bus.async_fire("homeassistant_final_write")
    await hass.async_block_till_done()
    stored = hass_storage[f"{DOMAIN}.scoreboard"]["data"]
    (board,) = stored.values()
    assert board  # the settings' fingerprint holds the per-family records

    asked_before_restart = wan.scoreboard.board(Family.IPV4).round
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.runtime_data.detection.scoreboard.board(Family.IPV4).round > asked_before_restart
