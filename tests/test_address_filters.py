"""Address filters: prefixes never to publish, and prefixes an address must fall in, set in the
options form and applied before the quorum is counted."""

from __future__ import annotations

from ipaddress import ip_network
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
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
    DOMAIN,
    SERVICE_SYNC,
)
from custom_components.esddns.detection import DetectionSettings
from custom_components.esddns.wan import AddressPolicy, Family, consensus
from devtools.fakes.gandi import FakeGandi
from tests.integration import NEW_PUBLIC, PUBLIC, PublicSources, setup_entry, tick
from tests.test_config_flow import OPTIONS_STRINGS, shown_errors

HEALTH = "binary_sensor.esddns_example_com_dns_up_to_date"
VPN = NEW_PUBLIC  # the address a VPN's exit gives, which the user never wants in DNS


async def _submit(hass: HomeAssistant, entry: MockConfigEntry, **filters: list[str]) -> Any:
    """Open the options form and save it with the given address filters, the rest unchanged."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    schema = result["data_schema"].schema
    rest = {str(key): key.default() for key in schema if str(key) != CONF_ADDRESS_FILTERS}
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {**rest, CONF_ADDRESS_FILTERS: filters}
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
        "base": "“81.2.69.0/33” is not an IPv4 prefix: write a network such as 81.2.64.0/18, "
        "or a single address."
    }
    # The form comes back open with what was typed, to be corrected rather than typed again.
    section = next(k for k in result["data_schema"].schema if k == CONF_ADDRESS_FILTERS)
    assert result["data_schema"].schema[section].options == {"collapsed": False}
    typed = {str(k): k.default() for k in result["data_schema"].schema[section].schema.schema}
    assert typed[CONF_IPV4_NEVER] == ["81.2.69.0/33"]
    result = await _submit(hass, entry, **refused["my isp"])
    assert "“my isp” is not an IPv4 prefix" in shown_errors(result, OPTIONS_STRINGS)["base"]
    result = await _submit(hass, entry, **refused["ipv6-in-ipv4"])
    assert "“2001:db8::/32” is not an IPv4 prefix" in shown_errors(result, OPTIONS_STRINGS)["base"]
    result = await _submit(hass, entry, **refused["ipv4-in-ipv6"])
    assert shown_errors(result, OPTIONS_STRINGS) == {
        "base": "“81.2.64.0/18” is not an IPv6 prefix: write a network such as "
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
            "base": "These address filters reject every public IPv4 address the sources named "
            f"in the last detection ({PUBLIC}): nothing could be published. Check the prefixes."
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
    assert err.value.translation_key == "no_consensus"
    ports = sorted(f"127.0.0.1:{server.port}" for server in public_sources.servers)
    assert err.value.translation_placeholders["answers"] == f"{VPN} (filtered): {', '.join(ports)}"
    assert "Only 0 of the 2 providers" in str(err.value)
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
