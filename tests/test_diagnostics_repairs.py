"""Diagnostics (secret redacted) and the repair issues a user can act on."""

from __future__ import annotations

import importlib
from pathlib import Path
import re
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

import custom_components.esddns as integration
from custom_components.esddns.const import DOMAIN
from custom_components.esddns.detection import DetectionSettings
from custom_components.esddns.wan import consensus
from devtools.fakes.gandi import FakeGandi
from tests.integration import (
    NEW_PUBLIC,
    PUBLIC,
    TOKEN,
    PublicSources,
    setup_entry,
    tick,
)


def _stable(value: Any) -> Any:
    """Replace what changes from run to run (ports, timings, times) by placeholders."""
    if isinstance(value, dict):
        return {
            key: "<ms>"
            if key in ("latency_ms", "elapsed_ms") and item is not None
            else "<subentry id>"
            if key == "subentry_id"
            else _stable(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_stable(item) for item in value]
    if isinstance(value, str):
        value = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", value)
        return re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+\+00:00", "<time>", value)
    return value


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    public_sources: PublicSources,
    mock_config_entry: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """Entry (secret redacted), options, every source's outcome, records and history."""
    public_sources.answer(PUBLIC, PUBLIC, "81.2.69.99")
    # The third source is slow, so it is cancelled once the other two agree.
    public_sources.servers[2].delay = 2.0
    entry = mock_config_entry
    await setup_entry(hass, entry)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert TOKEN not in str(diagnostics)
    assert diagnostics["entry"]["data"]["secret"] == "**REDACTED**"
    # The scoreboard is keyed by source names, which hold the fakes' random ports.
    board = diagnostics["detection"].pop("scoreboard")["ipv4"]
    assert board["round"] == 1
    assert sorted(
        (stats["asked"], stats["answered"], stats["failures_in_row"])
        for stats in board["sources"].values()
    ) == [(0, 0, 0), (1, 1, 0), (1, 1, 0)]  # the slow one was cancelled: not held against it
    assert set(board["sources"]) == {f"udp://127.0.0.1:{s.port}" for s in public_sources.servers}
    assert _stable(diagnostics) == snapshot


async def test_sources_disagreeing_for_several_cycles_raise_a_repair(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    mock_config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One source keeps naming another address: a repair after three rounds that asked every
    source (a hedged round skips the liar), gone after a full round without it."""
    monkeypatch.setattr(consensus, "FULL_ROUND_EVERY", 1)
    public_sources.answer(PUBLIC, PUBLIC, "81.2.69.99")
    # Let every source answer before the quorum is reached, so the disagreement is seen.
    # (Real time, not a frozen clock: the fakes' delays must run.)
    public_sources.servers[0].delay = 0.3
    public_sources.servers[1].delay = 0.3
    entry = mock_config_entry
    await setup_entry(hass, entry)
    wan = entry.runtime_data.detection
    await wan.async_refresh()
    assert not issue_registry.issues
    await wan.async_refresh()
    (issue,) = issue_registry.issues.values()
    assert issue.translation_key == "sources_disagree"
    assert "81.2.69.99" in issue.translation_placeholders["answers"]
    assert [w.body["rrset_values"] for w in fake_gandi.writes()] == [[PUBLIC]]

    public_sources.answer(PUBLIC)
    await wan.async_refresh()
    assert not issue_registry.issues


async def test_record_rewritten_by_someone_else_raises_a_repair(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Another updater keeps rewriting our record: a repair, cleared once it stops."""
    entry = init_integration
    assert len(fake_gandi.writes()) == 1
    for _ in range(3):
        fake_gandi.set_rrset("example.com", "home", "A", ["81.2.69.7"])
        await tick(hass, freezer, 60)
    (issue,) = issue_registry.issues.values()
    assert issue.domain == DOMAIN
    assert issue.translation_key == "record_overwritten"
    assert issue.translation_placeholders == {"record": "home.example.com", "type": "A"}
    # ESDDNS put the right address back each time, and never anything else.
    assert {tuple(w.body["rrset_values"]) for w in fake_gandi.writes()} == {(PUBLIC,)}

    await tick(hass, freezer, 60)  # nobody touched it this time
    assert not issue_registry.issues

    # Unloading also drops any issue of the entry.
    for _ in range(3):
        fake_gandi.set_rrset("example.com", "home", "A", ["81.2.69.7"])
        await tick(hass, freezer, 60)
    assert issue_registry.issues
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert not issue_registry.issues


@pytest.mark.usefixtures("init_integration")
async def test_address_change_is_not_a_fight(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Our own rewrite after a new public address is not counted as someone else's."""
    for address in (NEW_PUBLIC, PUBLIC, NEW_PUBLIC):
        public_sources.answer(address)
        await tick(hass, freezer, 60)
    assert len(fake_gandi.writes()) == 4
    assert not issue_registry.issues


@pytest.mark.parametrize("generic", [False, True], ids=["unknown-domain", "plain-404"])
async def test_domain_gone_from_gandi_raises_a_repair(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
    generic: bool,
) -> None:
    """Gandi no longer serves the domain, whatever the words of its 404: the user is told,
    nothing is written (no record is "created" every cycle), and the issue goes once it is back."""
    fake_gandi.generic_unknown_domain = generic
    fake_gandi.set_rrset("example.com", "home", "A", [PUBLIC])
    await setup_entry(hass, mock_config_entry)
    fake_gandi.remove_domain("example.com")
    await tick(hass, freezer, 60)
    await tick(hass, freezer, 60)
    (issue,) = issue_registry.issues.values()
    assert issue.translation_key == "domain_missing"
    assert issue.translation_placeholders == {"domain": "example.com"}
    assert fake_gandi.writes() == []

    fake_gandi.set_rrset("example.com", "home", "A", [PUBLIC])
    await tick(hass, freezer, 60)
    assert not issue_registry.issues


def test_no_module_passes_for_a_repairs_platform() -> None:
    """HA imports `<integration>.repairs` as a repairs platform and refuses one without
    `async_create_fix_flow` ("Invalid repairs platform", with a traceback): the repair issues
    live in issues.py, and any repairs.py must be a real platform."""
    package = Path(integration.__file__).parent
    if (package / "repairs.py").exists():
        platform = importlib.import_module("custom_components.esddns.repairs")
        assert hasattr(platform, "async_create_fix_flow")
    assert (package / "issues.py").exists()


async def test_detection_repairs_of_settings_no_account_has_are_dropped_at_start(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, issue_registry: ir.IssueRegistry
) -> None:
    """Options changed while Home Assistant was stopped leave "sources disagree" and router
    repairs of settings nobody uses: they go at the next start; the current settings' ones,
    and the other kinds of repair, stay until their own cause is gone."""
    current = DetectionSettings.from_options(mock_config_entry.options).fingerprint
    ids = {
        "old_disagree": "sources_disagree_0123456789_ipv4",
        "old_router": "router_0123456789_ipv4_entity:sensor.router_wan_ip",
        "disagree": f"sources_disagree_{current}_ipv4",
        "router": f"router_{current}_ipv4_entity:sensor.router_wan_ip",
        "token": f"token_expiring_{mock_config_entry.entry_id}",
    }
    for issue_id in ids.values():
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="sources_disagree",
        )
    mock_config_entry.add_to_hass(hass)
    assert await integration.async_setup(hass, {})
    left = {issue_id for (domain, issue_id) in issue_registry.issues if domain == DOMAIN}
    assert left == {ids["disagree"], ids["router"], ids["token"]}
