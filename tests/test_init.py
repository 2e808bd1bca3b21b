"""Setup, unload, shared detection, drift and automatic sync, through the real integration."""

from __future__ import annotations

import logging
from types import MappingProxyType

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState, ConfigSubentry
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.esddns.const import (
    CONF_AUTO_SYNC,
    CONF_DETECTION_INTERVAL,
    CONF_MERGED_INTO,
    CONF_NAME,
    CONF_RECORD_TYPES,
    CONF_TTL,
    DEFAULT_DETECTION_INTERVAL,
    DOMAIN,
    EVENT_PUBLIC_IP_CHANGED,
    EVENT_RECORD_SYNCED,
)
from custom_components.esddns.sharing import DATA_DETECTION
from custom_components.esddns.wan import sources as sources_module
from devtools.fakes.gandi import FakeGandi
from devtools.fakes.stun import FakeStunServer
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

DRIFT = "binary_sensor.home_example_com_a_drift"
RECORD = "sensor.home_example_com_a_record"
PUBLIC_IPV4 = "sensor.esddns_example_com_public_ipv4_address"
PUBLIC_V6 = "2a01:4f8:c17:1::1"


def _logged(caplog: pytest.LogCaptureFixture, text: str) -> int:
    """Log lines at INFO or above that say ``text`` (tracebacks at DEBUG don't count)."""
    return sum(1 for r in caplog.records if r.levelno >= logging.INFO and text in r.getMessage())


async def test_setup_reads_detects_and_writes_an_absent_record_once(
    hass: HomeAssistant, fake_gandi: FakeGandi, init_integration: MockConfigEntry
) -> None:
    """An absent record is created with exactly one PUT of the consensus address."""
    entry = init_integration

    assert hass.states.get(PUBLIC_IPV4).state == PUBLIC
    writes = fake_gandi.writes()
    assert len(writes) == 1
    assert writes[0].path == "/v5/livedns/domains/example.com/records/home/A"
    assert writes[0].body == {"rrset_values": [PUBLIC], "rrset_ttl": 300}
    assert fake_gandi.get_rrset("example.com", "home", "A").values == [PUBLIC]
    assert hass.states.get(RECORD).state == PUBLIC
    assert hass.states.get(DRIFT).state == STATE_OFF

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert not hass.data[DATA_DETECTION].coordinators
    assert hass.states.get(PUBLIC_IPV4).state == STATE_UNAVAILABLE


@pytest.mark.gandi_holds(PUBLIC)
@pytest.mark.usefixtures("init_integration")
async def test_record_in_sync_is_not_written(hass: HomeAssistant, fake_gandi: FakeGandi) -> None:
    """A record that already holds the address costs reads, never a write."""
    assert fake_gandi.writes() == []
    assert hass.states.get(DRIFT).state == STATE_OFF


@pytest.mark.gandi_holds(PUBLIC)
@pytest.mark.usefixtures("init_integration")
async def test_public_address_change_drifts_then_one_write(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A new address: one event, one PUT with the new address, one synced event."""
    changed: list[Event] = []
    synced: list[Event] = []
    hass.bus.async_listen(EVENT_PUBLIC_IP_CHANGED, changed.append)
    hass.bus.async_listen(EVENT_RECORD_SYNCED, synced.append)

    public_sources.answer(NEW_PUBLIC)
    await tick(hass, freezer, 5)

    assert hass.states.get(PUBLIC_IPV4).state == NEW_PUBLIC
    assert [w.body["rrset_values"] for w in fake_gandi.writes()] == [[NEW_PUBLIC]]
    assert [e.data for e in changed] == [
        {"family": "ipv4", "before": PUBLIC, "after": NEW_PUBLIC, "trigger": "interval"}
    ]
    assert len(synced) == 1
    assert synced[0].data["record"] == "home.example.com"
    assert synced[0].data["before"] == [PUBLIC]
    assert synced[0].data["after"] == [NEW_PUBLIC]
    assert hass.states.get(DRIFT).state == STATE_OFF

    # Another cycle with the same address writes nothing more.
    await tick(hass, freezer, 5)
    assert len(fake_gandi.writes()) == 1


@pytest.mark.gandi_holds("81.2.69.1")
@pytest.mark.entry(auto_sync=False)
@pytest.mark.usefixtures("init_integration")
async def test_auto_sync_off_reports_drift_and_writes_nothing(
    hass: HomeAssistant, fake_gandi: FakeGandi
) -> None:
    """Without automatic sync, drift shows as a problem and nothing is written."""
    assert hass.states.get(DRIFT).state == STATE_ON
    assert fake_gandi.writes() == []


@pytest.mark.gandi_holds("81.2.69.1")
@pytest.mark.sources_answer("81.2.69.10", "81.2.69.11", "81.2.69.12")
@pytest.mark.usefixtures("init_integration")
async def test_no_consensus_writes_nothing(
    hass: HomeAssistant, fake_gandi: FakeGandi, freezer: FrozenDateTimeFactory
) -> None:
    """Three sources, three answers: no address is trusted, nothing is written."""
    assert hass.states.get(PUBLIC_IPV4).state == STATE_UNAVAILABLE
    assert hass.states.get(DRIFT).state == STATE_UNAVAILABLE
    await tick(hass, freezer, 5)
    assert fake_gandi.writes() == []


@pytest.mark.sources_answer(PUBLIC, PUBLIC, "81.2.69.99")
@pytest.mark.usefixtures("init_integration")
async def test_one_liar_is_outvoted(fake_gandi: FakeGandi) -> None:
    """Two of three agree: their address is written, the liar's never."""
    assert [w.body["rrset_values"] for w in fake_gandi.writes()] == [[PUBLIC]]


@pytest.mark.sources_answer("100.64.1.2")
@pytest.mark.usefixtures("init_integration")
async def test_non_public_answers_never_count(hass: HomeAssistant, fake_gandi: FakeGandi) -> None:
    """Sources agreeing on a CGNAT address are not trusted: nothing is written."""
    assert fake_gandi.writes() == []
    assert hass.states.get(PUBLIC_IPV4).state == STATE_UNAVAILABLE


async def test_two_entries_share_one_detection_round(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Two domains with the same detection options cause one round per interval, not two."""
    first = make_entry(fake_gandi, public_sources)
    second = make_entry(fake_gandi, public_sources, domain="example.org")
    await setup_entry(hass, first)
    await setup_entry(hass, second)
    after_setup = sum(public_sources.requests)
    # A round stops once a quorum (2) agrees; the third server may or may not be asked to finish.
    assert 2 <= after_setup <= 3
    assert len(hass.data[DATA_DETECTION].coordinators) == 1

    await tick(hass, freezer, 5)
    assert 2 <= sum(public_sources.requests) - after_setup <= 3
    assert len(fake_gandi.writes()) == 2  # one record per domain

    # Unloading one keeps detection for the other; unloading both disposes of it.
    assert await hass.config_entries.async_unload(first.entry_id)
    assert len(hass.data[DATA_DETECTION].coordinators) == 1
    assert await hass.config_entries.async_unload(second.entry_id)
    assert not hass.data[DATA_DETECTION].coordinators


async def test_different_options_get_their_own_detection(
    hass: HomeAssistant, fake_gandi: FakeGandi, public_sources: PublicSources
) -> None:
    """Entries whose detection settings differ do not share."""
    await setup_entry(hass, make_entry(fake_gandi, public_sources))
    await setup_entry(
        hass,
        make_entry(
            fake_gandi, public_sources, domain="example.org", options={CONF_DETECTION_INTERVAL: 7}
        ),
    )
    assert len(hass.data[DATA_DETECTION].coordinators) == 2


async def test_not_ready_when_no_source_answers(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Nothing answers: setup is retried later, nothing is read or written at Gandi."""
    for server in public_sources.servers:
        await server.stop()  # closed ports: every source is refused
    entry = mock_config_entry
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert fake_gandi.requests == []
    assert not hass.data[DATA_DETECTION].coordinators


async def test_bad_credential_at_setup_starts_reauth(
    hass: HomeAssistant, fake_gandi: FakeGandi, mock_config_entry: MockConfigEntry
) -> None:
    """A revoked token fails setup and opens the reauth flow."""
    fake_gandi.revoke("token-example")
    entry = mock_config_entry
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert fake_gandi.writes() == []


@pytest.mark.gandi_holds(PUBLIC)
@pytest.mark.usefixtures("init_integration")
async def test_token_revoked_later_starts_reauth(
    hass: HomeAssistant, fake_gandi: FakeGandi, freezer: FrozenDateTimeFactory
) -> None:
    """A 401 on a later record check starts reauth and makes the records unavailable."""
    fake_gandi.revoke("token-example")
    await tick(hass, freezer, 60)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert hass.states.get(RECORD).state == STATE_UNAVAILABLE


@pytest.mark.parametrize("source", ["reauth", "reconfigure"])
async def test_new_credential_reloads_a_running_account_without_a_deprecation_warning(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    source: str,
) -> None:
    """A running account takes a new token from reauth or reconfigure and reloads with it,
    without Home Assistant 2026.x warning that the integration reloads the wrong way (an
    update listener together with async_update_reload_and_abort, an error from 2026.12)."""
    fake_gandi.set_rrset("example.com", "home", "A", [PUBLIC])
    entry = mock_config_entry
    await setup_entry(hass, entry)
    before = entry.runtime_data
    fake_gandi.add_token("new-token", ["example.com"])
    if source == "reauth":
        result = await entry.start_reauth_flow(hass)
        user_input = {"secret": "new-token"}
    else:
        result = await entry.start_reconfigure_flow(hass)
        user_input = {
            "credential_kind": "token",
            "secret": "new-token",
            "advanced": {"api_url": fake_gandi.url},
        }
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == f"{source}_successful"
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data["secret"] == "new-token"
    assert entry.runtime_data is not before  # reloaded: the new token is the one used
    assert _logged(caplog, "update listener") == 0


async def test_rate_limit_waits_as_told(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """429 with Retry-After: no request to Gandi until the wait is over, then back."""
    fake_gandi.set_rrset("example.com", "home", "A", [PUBLIC])
    await setup_entry(hass, mock_config_entry)
    fake_gandi.fail_next("429", retry_after="7200")
    await tick(hass, freezer, 60)
    assert hass.states.get(RECORD).state == STATE_UNAVAILABLE
    seen = len(fake_gandi.requests)

    await tick(hass, freezer, 60)  # still inside the two hours Gandi asked for
    assert len(fake_gandi.requests) == seen
    assert _logged(caplog, "Gandi asked to slow down") == 1  # once per outage

    await tick(hass, freezer, 61)
    assert len(fake_gandi.requests) == seen + 1
    assert hass.states.get(RECORD).state == PUBLIC


async def test_gandi_outage_is_logged_once_and_recovers(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Three failing cycles: one error line, entities unavailable, then back with one line."""
    fake_gandi.set_rrset("example.com", "home", "A", [PUBLIC])
    await setup_entry(hass, mock_config_entry)
    fake_gandi.fail_next("503", count=3)
    for _ in range(3):
        await tick(hass, freezer, 60)
        assert hass.states.get(RECORD).state == STATE_UNAVAILABLE
    assert _logged(caplog, "Error fetching esddns records example.com data") == 1
    await tick(hass, freezer, 60)
    assert hass.states.get(RECORD).state == PUBLIC
    assert _logged(caplog, "Fetching esddns records example.com data recovered") == 1
    assert fake_gandi.writes() == []


async def test_options_change_reloads_with_new_settings(
    hass: HomeAssistant, public_sources: PublicSources, init_integration: MockConfigEntry
) -> None:
    """Saving options reloads the entry onto a coordinator with the new settings."""
    entry = init_integration
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            **public_sources.options,
            CONF_DETECTION_INTERVAL: 9,
            "record_check_interval": 60,
            "address_filters": {},
        },
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    (coordinator,) = hass.data[DATA_DETECTION].coordinators.values()
    assert coordinator.settings.interval == 9
    assert entry.runtime_data.detection is coordinator


async def test_two_entries_with_default_options_share_one_round(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With no options at all (the built-in sources), two domains still cost one round."""
    monkeypatch.setattr(
        sources_module, "DEFAULT_STUN", tuple(s.source() for s in public_sources.servers)
    )
    monkeypatch.setattr(sources_module, "DEFAULT_HTTPS", ())
    monkeypatch.setattr(sources_module, "DEFAULT_DNS", ())
    monkeypatch.setattr(sources_module, "DEFAULT_DOH", ())
    first = make_entry(fake_gandi, public_sources, builtin_sources=True)
    second = make_entry(fake_gandi, public_sources, domain="example.org", builtin_sources=True)
    first.add_to_hass(hass)
    second.add_to_hass(hass)
    # Loading the integration sets up both entries, as at Home Assistant's start.
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done(wait_background_tasks=True)
    assert first.state is second.state is ConfigEntryState.LOADED
    assert len(hass.data[DATA_DETECTION].coordinators) == 1
    before = sum(public_sources.requests)
    for _ in range(3):
        await tick(hass, freezer, DEFAULT_DETECTION_INTERVAL)
    # Three intervals, one round each, two or three servers asked per round (never six), and
    # the change canary's one request each time the clock moved.
    assert 6 + 3 <= sum(public_sources.requests) - before <= 9 + 3
    assert len(fake_gandi.writes()) == 2


@pytest.mark.entry(types=["A", "AAAA"], builtin_sources=True)
async def test_ipv6_records_follow_the_ipv6_consensus(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    mock_config_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """AAAA records get the IPv6 consensus, A records the IPv4 one; each family on its own."""
    v6_servers = [await FakeStunServer(PUBLIC_V6).start() for _ in range(2)]
    try:
        monkeypatch.setattr(
            sources_module,
            "DEFAULT_STUN",
            tuple(s.source() for s in [*public_sources.servers, *v6_servers]),
        )
        monkeypatch.setattr(sources_module, "DEFAULT_HTTPS", ())
        monkeypatch.setattr(sources_module, "DEFAULT_DNS", ())
        monkeypatch.setattr(sources_module, "DEFAULT_DOH", ())
        entry = mock_config_entry
        await setup_entry(hass, entry)
        assert hass.states.get(PUBLIC_IPV4).state == PUBLIC
        assert hass.states.get("sensor.esddns_example_com_public_ipv6_address").state == PUBLIC_V6
        written = {w.path.rsplit("/", 1)[-1]: w.body["rrset_values"] for w in fake_gandi.writes()}
        assert written == {"A": [PUBLIC], "AAAA": [PUBLIC_V6]}

        # IPv6 sources gone: the AAAA record is left alone, the A record still followed.
        for server in v6_servers:
            server.mode = "silent"
        public_sources.answer(NEW_PUBLIC)
        await entry.runtime_data.detection.async_refresh()
        await hass.async_block_till_done(wait_background_tasks=True)
        assert hass.states.get("sensor.esddns_example_com_public_ipv6_address").state == (
            STATE_UNAVAILABLE
        )
        assert fake_gandi.get_rrset("example.com", "home", "AAAA").values == [PUBLIC_V6]
        assert fake_gandi.get_rrset("example.com", "home", "A").values == [NEW_PUBLIC]
    finally:
        for server in v6_servers:
            await server.stop()


async def test_change_across_a_round_without_consensus_still_fires(
    hass: HomeAssistant, public_sources: PublicSources, init_integration: MockConfigEntry
) -> None:
    """A round without consensus between two addresses does not hide the change."""
    entry = init_integration
    changed: list[Event] = []
    hass.bus.async_listen(EVENT_PUBLIC_IP_CHANGED, changed.append)
    wan = entry.runtime_data.detection
    public_sources.answer("81.2.69.10", "81.2.69.11", "81.2.69.12")
    await wan.async_refresh()
    public_sources.answer(NEW_PUBLIC)
    await wan.async_refresh()
    await hass.async_block_till_done()
    assert [e.data for e in changed] == [
        {"family": "ipv4", "before": PUBLIC, "after": NEW_PUBLIC, "trigger": "interval"}
    ]


async def test_not_ready_is_not_logged_as_an_error(
    hass: HomeAssistant,
    public_sources: PublicSources,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A setup retry because nothing answers leaves Home Assistant's own notice, no error."""
    for server in public_sources.servers:
        await server.stop()
    entry = mock_config_entry
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.entry(records=["home", "vpn"], types=["A", "AAAA"])
async def test_removed_records_and_types_take_their_entities_and_devices_along(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Removing a record removes its entities and its device; dropping AAAA from a record
    (and with it the account's last IPv6 record) removes those entities too. The entities
    kept stay, even when the user disabled them."""
    entry = init_integration
    registry = er.async_get(hass)
    devices = dr.async_get(hass)
    disabled = "sensor.home_example_com_a_record"
    registry.async_update_entity(disabled, disabled_by=er.RegistryEntryDisabler.USER)
    before = {e.entity_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)}
    assert "binary_sensor.vpn_example_com_aaaa_drift" in before
    assert "button.vpn_example_com_sync_now" in before

    # "Delete" on the record in the integration's page.
    assert hass.config_entries.async_remove_subentry(entry, subentry_id(entry, "vpn"))
    await hass.async_block_till_done(wait_background_tasks=True)
    names = {d.name for d in dr.async_entries_for_config_entry(devices, entry.entry_id)}
    assert names == {"ESDDNS example.com", "home.example.com"}

    # "Reconfigure" on the home record: A only.
    result = await start_record_reconfigure(hass, entry, subentry_id(entry, "home"))
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {CONF_NAME: "home", CONF_RECORD_TYPES: ["A"], CONF_TTL: 300, CONF_AUTO_SYNC: True},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED

    after = {e.entity_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)}
    assert after == {
        entity_id
        for entity_id in before
        if "vpn" not in entity_id and "aaaa" not in entity_id and "ipv6" not in entity_id
    }
    assert disabled in after
    assert hass.states.get("binary_sensor.vpn_example_com_a_drift") is None
    assert hass.states.get("sensor.esddns_example_com_public_ipv6_address") is None


@pytest.mark.gandi_holds(PUBLIC, ttl=3600)
@pytest.mark.entry(auto_sync=False)
async def test_a_ttl_other_than_the_configured_one_is_drift_and_is_rewritten(
    hass: HomeAssistant, fake_gandi: FakeGandi, init_integration: MockConfigEntry
) -> None:
    """The record holds the public address but someone set its TTL to an hour: drift, and one
    rewrite puts back the TTL the entry asks for (ddclient does the same)."""
    entry = init_integration
    assert hass.states.get(DRIFT).state == STATE_ON
    assert fake_gandi.writes() == []

    await entry.runtime_data.syncer.async_sync(force=False, dry_run=False)
    await hass.async_block_till_done()
    (write,) = fake_gandi.writes()
    assert write.body == {"rrset_values": [PUBLIC], "rrset_ttl": 300}
    assert fake_gandi.get_rrset("example.com", "home", "A").ttl == 300
    assert hass.states.get(DRIFT).state == STATE_OFF


async def test_a_platform_that_fails_keeps_its_entities(
    hass: HomeAssistant, init_integration: MockConfigEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If one platform fails to set up (a bug), its entities are not taken for stale ones:
    the user's names, areas and choices stay in the registry."""
    entry = init_integration
    registry = er.async_get(hass)
    before = {e.entity_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)}

    async def broken(*args: object) -> None:
        raise RuntimeError("a bug in the sensor platform")

    monkeypatch.setattr("custom_components.esddns.sensor.async_setup_entry", broken)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    after = {e.entity_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)}
    assert after == before


async def test_a_merged_entry_left_by_a_stop_goes_at_the_next_start(hass: HomeAssistant) -> None:
    """Home Assistant stopped between the 0.1.0 migration and the removal of an entry it merged
    into an account: the next start removes it, once, and sets nothing up for it."""
    merged = MockConfigEntry(domain=DOMAIN, version=2, data={CONF_MERGED_INTO: "account"})
    merged.add_to_hass(hass)
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    assert hass.config_entries.async_get_entry(merged.entry_id) is None
    assert hass.config_entries.async_entries(DOMAIN) == []


@pytest.mark.entry(types=["A", "AAAA"])
async def test_a_reload_neither_repeats_a_warning_nor_hides_an_address_change(
    hass: HomeAssistant,
    public_sources: PublicSources,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each record change reloads its account. A lasting outage (no IPv6 consensus here) is
    still logged once, and an address that changed across the reload still fires its event."""
    entry = mock_config_entry
    await setup_entry(hass, entry)
    changes: list[Event] = []
    hass.bus.async_listen(EVENT_PUBLIC_IP_CHANGED, changes.append)
    public_sources.answer(NEW_PUBLIC)
    for _ in range(2):
        await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
    assert caplog.text.count("No consensus on the public IPv6 address") == 1
    assert [(e.data["before"], e.data["after"]) for e in changes] == [(PUBLIC, NEW_PUBLIC)]


@pytest.mark.entry(builtin_sources=True)
async def test_a_record_of_a_new_family_brings_its_public_address_sensor(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    mock_config_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first AAAA record of an A-only account: the account detects IPv6 at once, gets its
    public IPv6 sensor and writes the record, while its other entities stay available."""
    v6_servers = [await FakeStunServer(PUBLIC_V6).start() for _ in range(2)]
    try:
        monkeypatch.setattr(
            sources_module,
            "DEFAULT_STUN",
            tuple(s.source() for s in [*public_sources.servers, *v6_servers]),
        )
        for name in ("DEFAULT_HTTPS", "DEFAULT_DNS", "DEFAULT_DOH"):
            monkeypatch.setattr(sources_module, name, ())
        entry = mock_config_entry
        await setup_entry(hass, entry)
        assert hass.states.get("sensor.esddns_example_com_public_ipv6_address") is None

        hass.config_entries.async_add_subentry(
            entry,
            ConfigSubentry(
                data=MappingProxyType(record_subentry("example.com", "nas", ["AAAA"])["data"]),
                subentry_type="record",
                title="nas.example.com",
                unique_id=None,
            ),
        )
        await hass.async_block_till_done(wait_background_tasks=True)
        assert hass.states.get("sensor.esddns_example_com_public_ipv6_address").state == (PUBLIC_V6)
        assert fake_gandi.get_rrset("example.com", "nas", "AAAA").values == [PUBLIC_V6]
        assert hass.states.get(PUBLIC_IPV4).state == PUBLIC
    finally:
        for server in v6_servers:
            await server.stop()
