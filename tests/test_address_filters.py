"""Address filters: prefixes never to publish, and prefixes an address must fall in, set in the
options form and applied before the quorum is counted."""

from __future__ import annotations

from ipaddress import ip_network
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState, ConfigSubentryData
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.esddns.address_filters import FILTER_KEYS
from custom_components.esddns.const import (
    CONF_ADDRESS_FILTERS,
    CONF_IPV4_NEVER,
    CONF_IPV4_ONLY,
    CONF_IPV6_NEVER,
    CONF_IPV6_ONLY,
    CONF_QUORUM,
    CONF_STUN_SERVERS,
    DOMAIN,
    SERVICE_SYNC,
)
from custom_components.esddns.detection import DetectionSettings
from custom_components.esddns.wan import AddressPolicy, Family, consensus
from devtools.fakes.gandi import FakeGandi
from tests.integration import (
    NEW_PUBLIC,
    PUBLIC,
    PublicSources,
    make_entry,
    record_subentry,
    setup_entry,
    start_record_reconfigure,
    subentry_id,
    tick,
)
from tests.test_config_flow import OPTIONS_STRINGS, RECORD, shown_errors
from tests.test_records import HOST_V6, v6_sources  # noqa: F401 - a fixture

HEALTH = "binary_sensor.esddns_example_com_dns_up_to_date"
SECTION = CONF_ADDRESS_FILTERS  # where the filters' errors are said: right above them
VPN = NEW_PUBLIC  # the address a VPN's exit gives, which the user never wants in DNS


async def _submit(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    flow: dict[str, Any] | None = None,
    changes: dict[str, Any] | None = None,
    **filters: list[str],
) -> Any:
    """Save the options form (a new one, or ``flow`` as shown) with the given address filters,
    the rest as shown but for ``changes``."""
    result = flow or await hass.config_entries.options.async_init(entry.entry_id)
    schema = result["data_schema"].schema
    rest = {str(key): key.default() for key in schema if str(key) != CONF_ADDRESS_FILTERS}
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {**rest, **(changes or {}), CONF_ADDRESS_FILTERS: filters}
    )


@pytest.mark.usefixtures("public_sources")
async def test_the_options_form_reads_checks_and_keeps_the_filters(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Bad text and a filter that would reject the address the sources see are refused, naming
    the value, and change nothing; good prefixes are saved as networks and shown again."""
    entry = init_integration
    before = dict(entry.options)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    section = next(k for k in result["data_schema"].schema if k == CONF_ADDRESS_FILTERS)
    assert result["data_schema"].schema[section].options == {"collapsed": True}

    refused = {
        "81.2.69.0/33": {CONF_IPV4_NEVER: ["81.2.69.0/33"]},
        "my isp": {CONF_IPV4_ONLY: ["81.2.64.0/18", "my isp"]},
        "ipv6-in-ipv4": {CONF_IPV4_NEVER: ["2001:db8::/32"]},
        "ipv4-in-ipv6": {CONF_IPV6_ONLY: ["81.2.64.0/18"]},
    }
    result = await _submit(hass, entry, **refused["81.2.69.0/33"])
    assert shown_errors(result, OPTIONS_STRINGS) == {
        SECTION: "“81.2.69.0/33” is not an IPv4 prefix: write a network such as 81.2.64.0/18, "
        "or a single address."
    }
    # The form comes back open with what was typed, to be corrected rather than typed again.
    section = next(k for k in result["data_schema"].schema if k == CONF_ADDRESS_FILTERS)
    assert result["data_schema"].schema[section].options == {"collapsed": False}
    typed = {str(k): k.default() for k in result["data_schema"].schema[section].schema.schema}
    assert typed[CONF_IPV4_NEVER] == ["81.2.69.0/33"]
    result = await _submit(hass, entry, **refused["my isp"])
    assert "“my isp” is not an IPv4 prefix" in shown_errors(result, OPTIONS_STRINGS)[SECTION]
    result = await _submit(hass, entry, **refused["ipv6-in-ipv4"])
    assert "“2001:db8::/32” is not an IPv4 prefix" in shown_errors(result, OPTIONS_STRINGS)[SECTION]
    result = await _submit(hass, entry, **refused["ipv4-in-ipv6"])
    assert shown_errors(result, OPTIONS_STRINGS) == {
        SECTION: "“81.2.64.0/18” is not an IPv6 prefix: write a network such as "
        "2001:db8:1200::/40, or a single address."
    }

    # The last detection saw only PUBLIC: a filter that rejects it would publish nothing.
    for filters in (
        {CONF_IPV4_ONLY: ["93.184.216.0/24"]},
        {CONF_IPV4_NEVER: ["81.2.69.142/28"]},
        {CONF_IPV4_NEVER: [PUBLIC], CONF_IPV4_ONLY: ["81.2.0.0/16"]},
    ):
        result = await _submit(hass, entry, **filters)
        assert shown_errors(result, OPTIONS_STRINGS) == {
            SECTION: "These address filters reject every public IPv4 address the sources named "
            f"in the last detection ({PUBLIC}): nothing would be published until they name "
            "another. Check the prefixes, or submit again to keep them (for a VPN that is up now)."
        }, filters
    assert entry.options == before

    result = await _submit(
        hass,
        entry,
        **{
            CONF_IPV4_ONLY: [" 81.2.69.142/18 ", ""],
            CONF_IPV4_NEVER: ["93.184.216.34", "93.184.216.34/32"],
            CONF_IPV6_NEVER: ["2001:db8:1234:5678::1/56"],
            CONF_IPV6_ONLY: [],
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert {key: entry.options[key] for key in FILTER_KEYS if key in entry.options} == {
        CONF_IPV4_ONLY: ["81.2.64.0/18"],
        CONF_IPV4_NEVER: ["93.184.216.34/32"],
        CONF_IPV6_NEVER: ["2001:db8:1234:5600::/56"],
    }  # only the filters set are stored
    # The filters apply: the reloaded account still publishes the ISP's address.
    assert hass.states.get("sensor.esddns_example_com_public_ipv4_address").state == PUBLIC
    # Opened again, the form shows them, in a section that is not folded away.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    section = next(k for k in result["data_schema"].schema if k == CONF_ADDRESS_FILTERS)
    assert result["data_schema"].schema[section].options == {"collapsed": False}
    fields = {str(k): k.default() for k in result["data_schema"].schema[section].schema.schema}
    assert fields == {
        CONF_IPV4_NEVER: ["93.184.216.34/32"],
        CONF_IPV4_ONLY: ["81.2.64.0/18"],
        CONF_IPV6_NEVER: ["2001:db8:1234:5600::/56"],
        CONF_IPV6_ONLY: [],
    }
    # Saving without touching them keeps them, and so does clearing the others.
    result = await _submit(hass, entry, **fields)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_IPV4_ONLY] == ["81.2.64.0/18"]


@pytest.mark.gandi_holds(PUBLIC)
@pytest.mark.entry(options={CONF_IPV4_NEVER: [f"{VPN}/32"]})
@pytest.mark.usefixtures("init_integration")
async def test_a_filtered_address_never_reaches_gandi_even_when_every_source_names_it(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Every source switches to the VPN's address: no consensus, no write at any round or from
    the action, the record keeps the ISP's address, and each place the user looks says why."""
    fake_gandi.clear_requests()
    public_sources.answer(VPN)
    await tick(hass, freezer, 5)  # the periodic detection
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, SERVICE_SYNC, {"detect": True}, blocking=True, return_response=True
        )
    ports = sorted(f"127.0.0.1:{server.port}" for server in public_sources.servers)
    assert str(err.value) == (
        "Every public IPv4 address the sources named is one the account's address filters "
        f"reject (answers: {VPN} (filtered): {', '.join(ports)}), so nothing was written. If "
        "that address should be published, change the filters in the account's options"
    )  # Home Assistant drops the final period
    await tick(hass, freezer, 5)
    await tick(hass, freezer, 5)

    assert fake_gandi.writes() == []
    assert fake_gandi.get_rrset("example.com", "home", "A").values == [PUBLIC]
    assert hass.states.get("sensor.home_example_com_a_record").state == PUBLIC
    health = hass.states.get(HEALTH)
    assert health.state == STATE_ON  # a problem
    assert health.attributes["no_consensus"] == ["IPv4"]


@pytest.mark.entry(options={CONF_IPV4_NEVER: [f"{VPN}/32"]})
@pytest.mark.sources_answer(VPN, PUBLIC)
@pytest.mark.usefixtures("init_integration")
async def test_the_address_the_filters_let_through_is_written(fake_gandi: FakeGandi) -> None:
    """One source sees the VPN, two the ISP: the ISP's address is written, once."""
    assert [(w.method, w.body) for w in fake_gandi.writes()] == [
        ("PUT", {"rrset_values": [PUBLIC], "rrset_ttl": 300})
    ]


@pytest.mark.entry(options={CONF_IPV4_ONLY: ["81.2.64.0/18"]})
@pytest.mark.sources_answer(VPN.replace("81.2.69", "93.184.216"))
async def test_diagnostics_say_which_answers_were_filtered_and_why(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    fake_gandi: FakeGandi,
    init_integration: MockConfigEntry,
) -> None:
    """From the first round, every source answers outside the only prefix allowed: nothing is
    written to the empty record, and diagnostics show each outcome as filtered."""
    entry = init_integration
    outside = VPN.replace("81.2.69", "93.184.216")
    assert fake_gandi.writes() == []
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    outcomes = diagnostics["detection"]["families"]["ipv4"]["outcomes"]
    assert {(o["status"], o["address"], o["detail"]) for o in outcomes} == {
        ("filtered", outside, "outside 81.2.64.0/18")
    }
    failures = diagnostics["detection"]["scoreboard"]["ipv4"]["sources"].values()
    assert {s["last_failure"]["status"] for s in failures} == {"filtered"}


@pytest.mark.entry(options={CONF_IPV4_NEVER: [f"{VPN}/32"]})
async def test_the_sources_disagree_repair_marks_the_filtered_answers(
    hass: HomeAssistant,
    public_sources: PublicSources,
    mock_config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two sources name two public addresses and a third the VPN's: the repair lists all
    three answers, the VPN's marked as filtered."""
    monkeypatch.setattr(consensus, "FULL_ROUND_EVERY", 1)
    public_sources.answer(PUBLIC, "81.2.69.99", VPN)
    await setup_entry(hass, mock_config_entry)
    for _ in range(2):  # the repair comes at the third round in a row
        await mock_config_entry.runtime_data.detection.async_refresh()
    (issue,) = issue_registry.issues.values()
    assert issue.translation_key == "sources_disagree"
    ports = [f"127.0.0.1:{server.port}" for server in public_sources.servers]
    assert issue.translation_placeholders["answers"] == (
        f"{PUBLIC}: {ports[0]}; 81.2.69.99: {ports[1]}; {VPN} (filtered): {ports[2]}"
    )


def test_settings_without_filters_keep_their_scoreboard_and_filters_are_their_own() -> None:
    """The stored scoreboards are keyed by the settings' fingerprint: one without filters is
    what it was before filters existed (b00bf16f09 for the defaults), so a user who sets none
    keeps what was learnt; accounts with other filters do not share a detection."""
    plain = DetectionSettings.from_options({})
    assert plain.fingerprint == "b00bf16f09"
    vpn = DetectionSettings.from_options({CONF_IPV4_NEVER: [f"{VPN}/32"]})
    isp = DetectionSettings.from_options({CONF_IPV4_ONLY: [f"{VPN}/32"]})
    assert len({plain.fingerprint, vpn.fingerprint, isp.fingerprint}) == 3
    assert len({plain, vpn, isp}) == 3
    assert vpn.policy(Family.IPV4).never == (ip_network(f"{VPN}/32"),)
    assert vpn.policy(Family.IPV6) == AddressPolicy()


# ----- the form's checks: nothing a filter can never do, nothing silently stuck ---------------


@pytest.mark.entry(options={CONF_IPV4_NEVER: [f"{VPN}/32"]})
@pytest.mark.sources_answer(VPN)
@pytest.mark.usefixtures("init_integration")
async def test_other_options_save_while_the_filter_does_its_job(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, fake_gandi: FakeGandi
) -> None:
    """The VPN is up and every source names its address, filtered: nothing is written, exactly
    what the filter is for. Changing another option (the interval) still saves."""
    assert fake_gandi.writes() == []
    result = await _submit(
        hass, mock_config_entry, changes={"detection_interval": 10}, ipv4_never=[f"{VPN}/32"]
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert mock_config_entry.options["detection_interval"] == 10
    assert mock_config_entry.options[CONF_IPV4_NEVER] == [f"{VPN}/32"]

    # Changed, they are checked against the (filtered) answers again: prefixes that together
    # hold every address are refused, and new filters rejecting all that is seen are a warning.
    result = await _submit(hass, mock_config_entry, ipv4_never=["0.0.0.0/1", "128.0.0.0/1"])
    assert shown_errors(result, OPTIONS_STRINGS) == {
        SECTION: "“0.0.0.0/1, 128.0.0.0/1” holds every public IPv4 address: never publishing it "
        "would publish nothing, ever."
    }
    result = await _submit(hass, mock_config_entry, ipv4_never=[f"{VPN}/24"])
    assert result["errors"] == {SECTION: "filters_reject_all"}
    assert mock_config_entry.options[CONF_IPV4_NEVER] == [f"{VPN}/32"]


@pytest.mark.gandi_holds(PUBLIC)
@pytest.mark.usefixtures("public_sources")
async def test_filters_rejecting_what_is_seen_now_are_kept_when_submitted_again(
    hass: HomeAssistant, init_integration: MockConfigEntry, fake_gandi: FakeGandi
) -> None:
    """The sources see the ISP's address, which the user knows is about to be the VPN's: the
    form warns, naming it; other filters warn again; the same ones submitted again are saved,
    and nothing is written under them."""
    entry = init_integration
    flow = await hass.config_entries.options.async_init(entry.entry_id)
    result = await _submit(hass, entry, flow, ipv4_never=[f"{PUBLIC}/32"])
    assert result["errors"] == {SECTION: "filters_reject_all"}
    assert PUBLIC in shown_errors(result, OPTIONS_STRINGS)[SECTION]
    result = await _submit(hass, entry, result, ipv4_only=["93.184.216.0/24"])
    assert result["errors"] == {SECTION: "filters_reject_all"}
    assert CONF_IPV4_NEVER not in entry.options
    result = await _submit(hass, entry, result, ipv4_only=["93.184.216.0/24"])
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.options[CONF_IPV4_ONLY] == ["93.184.216.0/24"]
    assert entry.state is ConfigEntryState.LOADED
    fake_gandi.clear_requests()
    await entry.runtime_data.detection.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert fake_gandi.writes() == []
    assert hass.states.get("sensor.esddns_example_com_public_ipv4_address").state == "unavailable"


async def test_filters_that_can_never_work_are_refused_and_the_rest_sorted(
    hass: HomeAssistant, fake_gandi: FakeGandi, public_sources: PublicSources
) -> None:
    """Whatever the sources say (here nothing: they are down and the account retries), a
    prefix never to publish that holds every public address, or one to publish only from that
    holds none, is refused naming it; good prefixes are saved sorted, without repeats."""
    public_sources.silence()
    entry = make_entry(fake_gandi, public_sources)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    before = dict(entry.options)
    cases = {
        "“0.0.0.0/0” holds every public IPv4 address": {CONF_IPV4_NEVER: ["0.0.0.0/0"]},
        "“::/0” holds every public IPv6 address": {CONF_IPV6_NEVER: ["::/0"]},
        "“2000::/3” holds every public IPv6 address": {CONF_IPV6_NEVER: ["2000::/3"]},
        "“10.0.0.0/8” holds no public IPv4 address": {CONF_IPV4_ONLY: ["10.0.0.0/8"]},
        "“192.168.1.0/24” holds no public IPv4": {CONF_IPV4_ONLY: ["192.168.1.0/24"]},
        "“fd00::/8” holds no public IPv6 address": {CONF_IPV6_ONLY: ["fd00::/8"]},
    }
    for shown, filters in cases.items():
        result = await _submit(hass, entry, **filters)
        assert shown_errors(result, OPTIONS_STRINGS)[SECTION].startswith(shown), filters
        # Submitted again, still refused: only a warning about what is seen can be overruled.
        result = await _submit(hass, entry, result, **filters)
        assert result["type"] is FlowResultType.FORM, filters
    assert entry.options == before
    # A never-prefix that holds many public addresses, but not all, is a filter like any other.
    result = await _submit(
        hass,
        entry,
        ipv4_only=["93.184.216.0/24", "81.2.64.0/18", "81.2.69.142/18"],
        ipv6_never=["2001:db8::/32", "2000::/4"],
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")
    assert entry.options[CONF_IPV4_ONLY] == ["81.2.64.0/18", "93.184.216.0/24"]
    assert entry.options[CONF_IPV6_NEVER] == ["2000::/4", "2001:db8::/32"]
    await hass.config_entries.async_remove(entry.entry_id)


@pytest.mark.entry(options={CONF_IPV4_NEVER: ["not a prefix", f"{VPN}/32", "2001:db8::/32"]})
@pytest.mark.sources_answer(VPN, PUBLIC)
async def test_a_bad_hand_edited_filter_is_skipped_and_the_others_apply(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, fake_gandi: FakeGandi
) -> None:
    """A storage file edited by hand with text that is no prefix (or one of the other family)
    still loads: that text is left out, and the good filter still keeps the VPN out."""
    await setup_entry(hass, mock_config_entry)
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert [w.body["rrset_values"] for w in fake_gandi.writes()] == [[PUBLIC]]


# ----- a host on another subnet: the address a record derives is filtered too ----------------

ISP_56 = "2a01:4f8:c17::/56"  # HOST_V6, 2a01:4f8:c17:1::1, is in it


def _v6_entry(
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    v6_servers: list[Any],
    subentries: list[Any],
    **options: Any,
) -> MockConfigEntry:
    return make_entry(
        fake_gandi,
        public_sources,
        subentries=subentries,
        options={
            CONF_STUN_SERVERS: [
                *public_sources.options[CONF_STUN_SERVERS],
                *(f"[::1]:{server.port}" for server in v6_servers),
            ],
            CONF_QUORUM: 2,
            **options,
        },
    )


def _lab(interface_id: str = "::300:0:0:0:10", bits: int = 48) -> Any:
    lab = record_subentry("example.com", "lab", ["AAAA"], interface_id=interface_id)
    return ConfigSubentryData(**{**lab, "data": {**lab["data"], "ipv6_prefix_length": bits}})


async def test_a_host_address_outside_the_only_prefix_is_never_written(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    v6_sources: list[Any],  # noqa: F811
) -> None:
    """IPv6 only from the ISP's /56; the detected address is in it, but a record keeping 48
    bits with subnet 0x300 lands outside it: that record is never written, the host's own
    record is, and the record's sensor says it has no address to hold."""
    home = record_subentry("example.com", "home", ["AAAA"])
    entry = _v6_entry(
        fake_gandi, public_sources, v6_sources, [home, _lab()], **{CONF_IPV6_ONLY: [ISP_56]}
    )
    await setup_entry(hass, entry)
    written = {w.path.rsplit("/", 2)[-2]: w.body["rrset_values"] for w in fake_gandi.writes()}
    assert written == {"home": [HOST_V6]}
    await entry.runtime_data.detection.async_refresh()
    await hass.services.async_call(DOMAIN, SERVICE_SYNC, {}, blocking=True)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert fake_gandi.get_rrset("example.com", "lab", "AAAA") is None
    assert hass.states.get("sensor.lab_example_com_aaaa_record").attributes["desired"] is None


async def test_the_record_form_refuses_a_host_address_the_filters_reject(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    v6_sources: list[Any],  # noqa: F811
) -> None:
    """Add record: a subnet outside the ISP's /56 is refused naming the address it would
    publish and the prefix; one inside is added. Reconfigure refuses the same; and the
    options form refuses a filter that rejects the address a record publishes now."""
    home = record_subentry("example.com", "home", ["AAAA"])
    entry = _v6_entry(fake_gandi, public_sources, v6_sources, [home], **{CONF_IPV6_ONLY: [ISP_56]})
    await setup_entry(hass, entry)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "record"), context={"source": "user"}
    )
    form = {"name": "lab", "record_types": ["AAAA"], "ttl": 300, "auto_sync": True,
            "interface_id": "::300:0:0:0:10", "ipv6_prefix_length": 48}  # fmt: skip
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**form, "domain": "example.com"}
    )
    assert shown_errors(result, RECORD) == {
        "interface_id": "With the current IPv6 prefix, “::300:0:0:0:10” publishes "
        f"2a01:4f8:c17:300::10, which the account's address filters reject ({ISP_56}): it "
        "would never be written. Change the identifier or the kept bits, or the filters in the "
        "account's options."
    }
    assert len(entry.subentries) == 1
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {**form, "domain": "example.com", "interface_id": "::3:0:0:0:10", "ipv6_prefix_length": 56},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert fake_gandi.get_rrset("example.com", "lab", "AAAA").values == ["2a01:4f8:c17:3::10"]

    result = await start_record_reconfigure(hass, entry, subentry_id(entry, "lab"))
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], form)
    assert result["errors"] == {"interface_id": "address_filtered"}
    assert entry.subentries[subentry_id(entry, "lab")].data["interface_id"] == "::3:0:0:0:10"

    result = await _submit(hass, entry, ipv6_only=[ISP_56], ipv6_never=["2a01:4f8:c17:3::/64"])
    assert shown_errors(result, OPTIONS_STRINGS) == {
        SECTION: "These address filters reject 2a01:4f8:c17:3::10 (2a01:4f8:c17:3::/64), which "
        "lab.example.com publishes now: it would never be written. Change the prefixes, or "
        "that record's interface identifier first."
    }
    assert CONF_IPV6_NEVER not in entry.options
    # Filters that reject the detected address itself: the hosts' addresses come from it, so
    # what is said is that nothing would be published, as a warning (a VPN may be up now).
    result = await _submit(hass, entry, ipv6_never=["2a01:4f8:c17:1::/64"])
    assert result["errors"] == {SECTION: "filters_reject_all"}


async def test_a_record_is_checked_while_the_stored_filters_reject_what_is_seen(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    v6_sources: list[Any],  # noqa: F811
) -> None:
    """The stored filters reject the host's IPv6 address, so there is no agreed one; new
    filters that let it through but reject the address nas (::10) would publish from it are
    refused, naming nas, all the same."""
    nas = record_subentry("example.com", "nas", ["AAAA"], interface_id="::10")
    entry = _v6_entry(
        fake_gandi, public_sources, v6_sources, [nas], **{CONF_IPV6_NEVER: [f"{HOST_V6}/128"]}
    )
    await setup_entry(hass, entry)
    assert fake_gandi.writes() == []
    result = await _submit(hass, entry, ipv6_never=[], ipv6_only=["2a01:4f8:c17:1::/124"])
    assert shown_errors(result, OPTIONS_STRINGS)[SECTION].startswith(
        "These address filters reject 2a01:4f8:c17:1::10 (2a01:4f8:c17:1::/124), which "
        "nas.example.com publishes now"
    )
    result = await _submit(hass, entry, ipv6_never=[], ipv6_only=["2a01:4f8:c17:1::/64"])
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert fake_gandi.get_rrset("example.com", "nas", "AAAA").values == ["2a01:4f8:c17:1::10"]


# ----- the warning is said last, alone, and confirms nothing else -----------------------------


@pytest.mark.usefixtures("public_sources")
async def test_a_warning_hides_no_refusal_and_confirms_nothing_else(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """An IPv4 filter rejecting what is seen (a warning the user may confirm) beside a bad
    IPv6 prefix, or an unreachable quorum: the refusal is said, however often the form is
    submitted; once it is put right, the warning comes, and then the save."""
    entry = init_integration
    before = dict(entry.options)
    vpn_up = {"ipv4_never": [f"{PUBLIC}/32"], "ipv6_never": []}
    typo = {**vpn_up, "ipv6_never": ["2a01:4f8:c17:zz::/64"]}
    result = None
    for _ in range(2):
        result = await _submit(hass, entry, result, **typo)
        assert shown_errors(result, OPTIONS_STRINGS)[SECTION].startswith(
            "“2a01:4f8:c17:zz::/64” is not an IPv6 prefix"
        )
    for _ in range(2):
        result = await _submit(hass, entry, result, changes={CONF_QUORUM: 5}, **vpn_up)
        assert shown_errors(result, OPTIONS_STRINGS)[CONF_QUORUM].startswith(
            "For IPv4, these sources come from only 3 distinct providers"
        )
    assert entry.options == before
    result = await _submit(hass, entry, result, changes={CONF_QUORUM: 3}, **vpn_up)
    assert result["errors"] == {SECTION: "filters_reject_all"}
    result = await _submit(hass, entry, result, **vpn_up)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.options[CONF_IPV4_NEVER] == [f"{PUBLIC}/32"]
    assert entry.options[CONF_QUORUM] == 3


async def test_a_warning_for_ipv4_does_not_waive_a_records_ipv6_host(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    v6_sources: list[Any],  # noqa: F811
) -> None:
    """IPv4 filters rejecting what is seen, and IPv6 filters rejecting nas's host address:
    the record's refusal is said, and submitting again does not save it."""
    home = record_subentry("example.com", "home", ["A"])
    nas = record_subentry("example.com", "nas", ["AAAA"], interface_id="::10")
    entry = _v6_entry(fake_gandi, public_sources, v6_sources, [home, nas])
    await setup_entry(hass, entry)
    filters = {"ipv4_never": [f"{PUBLIC}/32"], "ipv6_only": ["2a01:4f8:c17:1::/124"]}
    result = None
    for _ in range(2):
        result = await _submit(hass, entry, result, **filters)
        assert result["errors"] == {SECTION: "filters_reject_record"}
        assert result["description_placeholders"]["record"] == "nas.example.com"
    assert CONF_IPV6_ONLY not in entry.options


# 2000::/3 but the documentation prefix 3fff::/20, in 17 pieces.
IPV6_PIECES = [str(n) for n in ip_network("2000::/3").address_exclude(ip_network("3fff::/20"))]


@pytest.mark.parametrize(
    ("filters", "shown"),
    [
        (
            {CONF_IPV4_NEVER: ["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3"]},
            "“0.0.0.0/1, 128.0.0.0/2, 192.0.0.0/3” holds every public IPv4 address",
        ),  # what is left, 224.0.0.0/3, is multicast and reserved
        (
            {CONF_IPV6_NEVER: IPV6_PIECES},
            "holds every public IPv6 address",
        ),  # what is left, 3fff::/20, is for documentation
        ({CONF_IPV4_ONLY: ["224.0.0.0/3"]}, "“224.0.0.0/3” holds no public IPv4 address"),
        ({CONF_IPV6_ONLY: ["fc00::/6"]}, "“fc00::/6” holds no public IPv6 address"),
    ],
    ids=["never-ipv4-pieces", "never-ipv6-pieces", "only-224/3", "only-fc00::/6"],
)
async def test_filters_that_leave_no_public_address_in_pieces_are_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry, filters: dict[str, Any], shown: str
) -> None:
    """Prefixes that leave no public address only together with the addresses that are never
    public are refused as well, naming them."""
    before = dict(init_integration.options)
    result = await _submit(hass, init_integration, **filters)
    assert shown in shown_errors(result, OPTIONS_STRINGS)[SECTION]
    assert init_integration.options == before
