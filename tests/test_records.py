"""The records model: interface identifiers, the /64 they go into, titles, desired addresses;
and a record with an interface identifier published end to end."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from ipaddress import IPv4Address, IPv6Address

from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import pytest_socket

from custom_components.esddns.const import (
    CONF_AUTO_SYNC,
    CONF_DOMAIN,
    CONF_INTERFACE_ID,
    CONF_NAME,
    CONF_QUORUM,
    CONF_RECORD_TYPES,
    CONF_STUN_SERVERS,
    CONF_TTL,
)
from custom_components.esddns.gandi import RecordType
from custom_components.esddns.records import (
    InvalidInterfaceIdError,
    ManagedRecord,
    RecordKey,
    account_title,
    in_prefix,
    label,
    parse_interface_id,
)
from custom_components.esddns.wan import AddressClass, Family, classify_address
from devtools.fakes.gandi import FakeGandi
from devtools.fakes.stun import FakeStunServer
from tests.integration import PUBLIC, PublicSources, make_entry, record_subentry, setup_entry

# A global unicast prefix outside the documentation ranges, which ESDDNS never trusts.
HOST_V6 = "2a01:4f8:c17:1::1"
NEW_HOST_V6 = "2a01:4f8:c17:2::1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("::10", "::10"),
        ("::a1b2:c3ff:fed4:e5f6", "::a1b2:c3ff:fed4:e5f6"),
        ("0:0:0:0:a1b2:c3ff:fed4:e5f6", "::a1b2:c3ff:fed4:e5f6"),
        ("::FFFF:FFFF:FFFF:FFFF", "::ffff:ffff:ffff:ffff"),
        (" \t::10\n", "::10"),
        ("a1:b2:c3:d4:e5:f6", "::a3b2:c3ff:fed4:e5f6"),
        ("a1-b2-c3-d4-e5-f6", "::a3b2:c3ff:fed4:e5f6"),
        ("A1:B2:C3:D4:E5:F6", "::a3b2:c3ff:fed4:e5f6"),
        ("  a1-B2-c3-D4-e5-F6 ", "::a3b2:c3ff:fed4:e5f6"),
    ],
)
def test_parse_interface_id(text: str, expected: str) -> None:
    """An identifier as written in a prefix-less address, or a MAC address, in any case."""
    assert parse_interface_id(text) == IPv6Address(expected)


def test_mac_becomes_its_modified_eui64() -> None:
    """RFC 4291 appendix A: FF FE between the company id and the extension, the u bit inverted.
    The MACs are RFC 7042's documentation range (00-00-5E-00-53-xx)."""
    assert parse_interface_id("00:00:5e:00:53:01") == IPv6Address("::200:5eff:fe00:5301")
    # A locally administered MAC (u bit set) gets it cleared.
    assert parse_interface_id("02:00:5e:00:53:01") == IPv6Address("::5eff:fe00:5301")
    # The group bit is left alone.
    assert parse_interface_id("01-00-5E-00-53-01") == IPv6Address("::300:5eff:fe00:5301")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "::",  # zero: the subnet-router anycast address
        "0::0",
        "2001:db8::1",  # a prefix part would be silently dropped
        "1::10",
        "fe80::10",
        "::1:0:0:0:10",  # 65 bits
        "::10%eth0",  # a zone is no part of an address in DNS
        "::10%1",
        "garbage",
        "::10/64",
        "::g",
        "a1:b2:c3:d4:e5:f6:07",  # EUI-64 MACs are not accepted as such
        "a1:b2:c3:d4:e5",
        "a1:b2-c3:d4:e5:f6",  # mixed separators
        "a1b2c3d4e5f6",
        "a1:b2:c3:d4:e5:g6",
        None,
        16,
        IPv6Address("::10"),
        b"::10",
    ],
)
def test_parse_interface_id_refuses(text: object) -> None:
    """Anything else is refused, with an error that is a ValueError."""
    with pytest.raises(InvalidInterfaceIdError):
        parse_interface_id(text)
    assert issubclass(InvalidInterfaceIdError, ValueError)


def test_in_prefix_keeps_the_64_bit_prefix() -> None:
    """The identifier replaces the low 64 bits of the public address, whatever they were."""
    iid = IPv6Address("::10")
    assert in_prefix(IPv6Address(HOST_V6), iid) == IPv6Address("2a01:4f8:c17:1::10")
    assert in_prefix(IPv6Address("2a01:4f8:c17:1:aaaa:bbbb:cccc:dddd"), iid) == IPv6Address(
        "2a01:4f8:c17:1::10"
    )
    mac = parse_interface_id("00:00:5e:00:53:01")
    assert in_prefix(IPv6Address("2a01:4f8:c17:ffff:1::1"), mac) == IPv6Address(
        "2a01:4f8:c17:ffff:200:5eff:fe00:5301"
    )
    with pytest.raises(TypeError):
        in_prefix(IPv4Address(PUBLIC), iid)


# A delegated prefix (here 2a01:4f8:c17:ab00::/56, HA's /64 being subnet 0x01 of it) and what a
# record keeping ``bits`` of it publishes for each host part typed.
DELEGATED = "2a01:4f8:c17:ab01:aaaa:bbbb:cccc:dddd"


@pytest.mark.parametrize(
    ("bits", "typed", "published"),
    [
        (64, "::10", "2a01:4f8:c17:ab01::10"),
        (64, "a1:b2:c3:d4:e5:f6", "2a01:4f8:c17:ab01:a3b2:c3ff:fed4:e5f6"),  # EUI-64
        (60, "::3:0:0:0:10", "2a01:4f8:c17:ab03::10"),
        (56, "::3:0:0:0:10", "2a01:4f8:c17:ab03::10"),
        (56, "::ff:0:0:0:10", "2a01:4f8:c17:abff::10"),
        (56, "a1:b2:c3:d4:e5:f6", "2a01:4f8:c17:ab00:a3b2:c3ff:fed4:e5f6"),  # EUI-64, subnet 0
        (52, "::f03:0:0:0:10", "2a01:4f8:c17:af03::10"),
        (48, "::1:0:0:0:10", "2a01:4f8:c17:1::10"),
        (48, "::beef:a3b2:c3ff:fed4:e5f6", "2a01:4f8:c17:beef:a3b2:c3ff:fed4:e5f6"),
    ],
)
def test_a_kept_prefix_takes_the_rest_from_what_was_typed(
    bits: int, typed: str, published: str
) -> None:
    """/48 to /64: the first ``bits`` of the detected address, then the typed part (subnet and
    interface identifier)."""
    host = parse_interface_id(typed, bits)
    assert in_prefix(IPv6Address(DELEGATED), host, bits) == IPv6Address(published)


@pytest.mark.parametrize(
    ("bits", "typed"),
    [(64, "::1:0:0:0:10"), (60, "::30:0:0:0:10"), (56, "::100:0:0:0:10"), (48, "::1:0:0:0:0:10"),
     (56, "::3:0:0:0:0")],
)  # fmt: skip
def test_bits_inside_the_kept_prefix_are_refused(bits: int, typed: str) -> None:
    """A part that reaches into the kept prefix would be silently cut: refused (and an all-zero
    interface identifier, a subnet's router anycast address, too)."""
    with pytest.raises(InvalidInterfaceIdError):
        parse_interface_id(typed, bits)


@pytest.mark.parametrize(
    ("domains", "title"),
    [
        (["example.com"], "example.com"),
        (["example.org", "example.com", "example.org"], "example.com, example.org"),
        (["c.example", "a.example", "b.example"], "a.example, b.example (+1)"),
        (
            ["e.example", "d.example", "c.example", "b.example", "a.example"],
            "a.example, b.example (+3)",
        ),
        ([], ""),
    ],
)
def test_account_title(domains: list[str], title: str) -> None:
    """The domains, sorted and without repeats; beyond two, how many more."""
    assert account_title(domains) == title
    assert account_title(iter(domains)) == title


def test_label() -> None:
    """A record as a person reads it."""
    assert label("example.com", "@") == "example.com"
    assert label("example.com", "home") == "home.example.com"
    assert RecordKey("example.com", "*.lab", RecordType.A).description == "*.lab.example.com A"


def test_managed_record_desired() -> None:
    """A gets the public IPv4; AAAA the public IPv6, or with an interface identifier that
    identifier inside the public /64."""
    nas = ManagedRecord.from_data(
        "sub1",
        {
            CONF_DOMAIN: "example.com",
            CONF_NAME: "nas",
            CONF_RECORD_TYPES: ["AAAA", "A"],
            CONF_TTL: 600,
            CONF_AUTO_SYNC: False,
            CONF_INTERFACE_ID: "::10",
        },
    )
    assert nas.types == (RecordType.A, RecordType.AAAA)
    assert (nas.ttl, nas.auto_sync, nas.interface_id) == (600, False, IPv6Address("::10"))
    a, aaaa = nas.keys
    assert [key.family for key in nas.keys] == [Family.IPV4, Family.IPV6]
    assert nas.desired(a, IPv4Address(PUBLIC)) == IPv4Address(PUBLIC)
    assert nas.desired(aaaa, IPv6Address(HOST_V6)) == IPv6Address("2a01:4f8:c17:1::10")

    plain = ManagedRecord.from_data(
        "sub2", {CONF_DOMAIN: "example.com", CONF_NAME: "@", CONF_RECORD_TYPES: ["AAAA"]}
    )
    assert (plain.ttl, plain.auto_sync, plain.interface_id) == (300, True, None)
    assert plain.label == "example.com"
    [key] = plain.keys
    assert plain.desired(key, IPv6Address(HOST_V6)) == IPv6Address(HOST_V6)


# ----- end to end: a LAN host's AAAA record follows the detected prefix --------------------------


@pytest.fixture
async def v6_sources(public_sources: PublicSources) -> AsyncGenerator[list[FakeStunServer]]:
    """Two fake STUN servers on ::1 reporting the host's public IPv6 address.

    Home Assistant's test plugin lets sockets connect to 127.0.0.1 only; ::1 is loopback too.
    """
    pytest_socket.socket_allow_hosts(["127.0.0.1", "::1"])
    servers = [await FakeStunServer(HOST_V6).start(host="::1") for _ in range(2)]
    try:
        yield servers
    finally:
        for server in servers:
            await server.stop()
        pytest_socket.socket_allow_hosts(["127.0.0.1"])


def _v6_entry(
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    v6_servers: list[FakeStunServer],
    *,
    nas_auto_sync: bool = True,
) -> MockConfigEntry:
    return make_entry(
        fake_gandi,
        public_sources,
        subentries=[
            record_subentry("example.com", "home", ["A", "AAAA"]),
            record_subentry(
                "example.com", "nas", ["AAAA"], interface_id="::10", auto_sync=nas_auto_sync
            ),
        ],
        options={
            CONF_STUN_SERVERS: [
                *public_sources.options[CONF_STUN_SERVERS],
                *(f"[::1]:{server.port}" for server in v6_servers),
            ],
            CONF_QUORUM: 2,
        },
    )


NAS = "sensor.nas_example_com_aaaa_record"
NAS_DRIFT = "binary_sensor.nas_example_com_aaaa_drift"
HOME_AAAA = "sensor.home_example_com_aaaa_record"


def _aaaa_writes(fake_gandi: FakeGandi) -> dict[str, list[list[str]]]:
    writes: dict[str, list[list[str]]] = {}
    for write in fake_gandi.writes():
        name, rtype = write.path.rsplit("/", 2)[-2:]
        writes.setdefault(f"{name} {rtype}", []).append(write.body["rrset_values"])
    return writes


async def test_interface_id_publishes_the_lan_host_inside_the_detected_prefix(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    v6_sources: list[FakeStunServer],
) -> None:
    """nas (::10) gets prefix::10 of the detected IPv6, home the host's own address; a new
    prefix is one PUT per record, the suffix kept."""
    assert classify_address(IPv6Address(HOST_V6)) is AddressClass.PUBLIC
    assert classify_address(IPv6Address(NEW_HOST_V6)) is AddressClass.PUBLIC
    entry = _v6_entry(fake_gandi, public_sources, v6_sources)
    await setup_entry(hass, entry)

    assert hass.states.get("sensor.esddns_example_com_public_ipv6_address").state == HOST_V6
    assert _aaaa_writes(fake_gandi) == {
        "home A": [[PUBLIC]],
        "home AAAA": [[HOST_V6]],
        "nas AAAA": [["2a01:4f8:c17:1::10"]],
    }
    nas = hass.states.get(NAS)
    assert nas.state == "2a01:4f8:c17:1::10"
    assert nas.attributes["desired"] == "2a01:4f8:c17:1::10"
    assert hass.states.get(NAS_DRIFT).state == STATE_OFF
    home = hass.states.get(HOME_AAAA)
    assert (home.state, home.attributes["desired"]) == (HOST_V6, HOST_V6)

    # The ISP hands out a new prefix.
    fake_gandi.clear_requests()
    for server in v6_sources:
        server.address = NEW_HOST_V6
    await entry.runtime_data.detection.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)

    assert _aaaa_writes(fake_gandi) == {
        "home AAAA": [[NEW_HOST_V6]],
        "nas AAAA": [["2a01:4f8:c17:2::10"]],
    }
    nas_write = next(w for w in fake_gandi.writes() if "/nas/" in w.path)
    assert nas_write.body == {"rrset_values": ["2a01:4f8:c17:2::10"], "rrset_ttl": 300}
    assert fake_gandi.get_rrset("example.com", "nas", "AAAA").values == ["2a01:4f8:c17:2::10"]
    nas = hass.states.get(NAS)
    assert (nas.state, nas.attributes["desired"]) == ("2a01:4f8:c17:2::10", "2a01:4f8:c17:2::10")
    assert hass.states.get(NAS_DRIFT).state == STATE_OFF
    home = hass.states.get(HOME_AAAA)
    assert (home.state, home.attributes["desired"]) == (NEW_HOST_V6, NEW_HOST_V6)


async def test_interface_id_record_without_auto_sync_shows_its_drift(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    v6_sources: list[FakeStunServer],
) -> None:
    """A record kept by hand shows what it should hold, prefix::suffix, and drifts until its
    "Sync now" writes exactly that."""
    fake_gandi.set_rrset("example.com", "nas", "AAAA", ["2a01:4f8:c17:1::10"])
    entry = _v6_entry(fake_gandi, public_sources, v6_sources, nas_auto_sync=False)
    await setup_entry(hass, entry)
    assert "nas AAAA" not in _aaaa_writes(fake_gandi)
    assert hass.states.get(NAS_DRIFT).state == STATE_OFF

    for server in v6_sources:
        server.address = NEW_HOST_V6
    await entry.runtime_data.detection.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    nas = hass.states.get(NAS)
    assert (nas.state, nas.attributes["desired"]) == ("2a01:4f8:c17:1::10", "2a01:4f8:c17:2::10")
    assert hass.states.get(NAS_DRIFT).state == STATE_ON
    assert "nas AAAA" not in _aaaa_writes(fake_gandi)
    assert hass.states.get(HOME_AAAA).state == NEW_HOST_V6  # auto sync: written at once

    fake_gandi.clear_requests()
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: "button.nas_example_com_sync_now"}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert _aaaa_writes(fake_gandi) == {"nas AAAA": [["2a01:4f8:c17:2::10"]]}
    assert hass.states.get(NAS).state == "2a01:4f8:c17:2::10"
    assert hass.states.get(NAS_DRIFT).state == STATE_OFF


async def test_add_record_in_another_subnet_of_the_delegated_prefix(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    v6_sources: list[FakeStunServer],
) -> None:
    """Add record with ::3:0:0:0:10 and 56 kept bits: the form shows what that gives with the
    current address, the record is stored with its prefix length, and Gandi gets subnet 3's
    ::10 of the detected /56 (and follows a new delegation)."""
    entry = _v6_entry(fake_gandi, public_sources, v6_sources)
    await setup_entry(hass, entry)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "record"), context={"source": "user"}
    )
    assert result["description_placeholders"]["current_ipv6"] == HOST_V6
    assert result["description_placeholders"]["example_56"] == "2a01:4f8:c17:3::10"
    form = {"domain": "example.com", "name": "lab", "record_types": ["AAAA"], "ttl": 300,
            "auto_sync": True, "interface_id": "::3:0:0:0:10"}  # fmt: skip
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], form)
    assert result["errors"] == {"interface_id": "host_part_in_prefix"}  # 64 bits kept
    assert result["description_placeholders"]["bits"] == "64"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**form, "ipv6_prefix_length": 56}
    )
    assert result["type"] == "create_entry"
    assert result["data"]["interface_id"] == "::3:0:0:0:10"
    assert result["data"]["ipv6_prefix_length"] == 56
    await hass.async_block_till_done(wait_background_tasks=True)
    assert fake_gandi.get_rrset("example.com", "lab", "AAAA").values == ["2a01:4f8:c17:3::10"]

    for server in v6_sources:
        server.address = "2a01:4f8:c17:200:1::1"  # a new /56
    await entry.runtime_data.detection.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert fake_gandi.get_rrset("example.com", "lab", "AAAA").values == ["2a01:4f8:c17:203::10"]
