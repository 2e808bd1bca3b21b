"""Fault matrix through the real integration: nothing wrong is ever written.

Every test audits the fake LiveDNS's request log: each PUT must carry exactly the consensus
address of the moment it was sent (`WriteAudit`). Around that, each fault checks what a user
sees: which entities go unavailable and come back, the reauth flow or repair issue when the user
must act, and one log line per outage (not one per cycle).

Cycles are run by calling the coordinators' refresh directly. Tests that need a source or Gandi
to stay silent run on the real clock (their timeouts must elapse); the others freeze it, so
Retry-After waits can be stepped over.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import functools
import logging
import os
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState, ConfigFlowResult
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.esddns import data
from custom_components.esddns.const import (
    CONF_DETECTION_MODE,
    CONF_HTTPS_SOURCES,
    CONF_QUORUM,
    CONF_SECRET,
    CONF_STUN_SERVERS,
    DOMAIN,
)
from custom_components.esddns.detection import DetectionCoordinator
from custom_components.esddns.gandi import GandiClient
from custom_components.esddns.wan import Family, consensus, sources as sources_module
from devtools.fakes.gandi import FakeGandi
from devtools.fakes.http_source import FakeHttpSource
from devtools.fakes.stun import LIE, FakeStunServer
from tests.fixtures_gandi import EXAMPLE_DOMAINS
from tests.fixtures_wan import WanFakes
from tests.integration import NEW_PUBLIC, PUBLIC, TOKEN, PublicSources, make_entry, setup_entry

PUBLIC_IPV4 = "sensor.esddns_example_com_public_ipv4_address"
RECORD = "sensor.home_example_com_a_record"
DRIFT = "binary_sensor.home_example_com_a_drift"
NO_CONSENSUS = "No consensus on the public IPv4 address"
CONSENSUS_BACK = "Consensus on the public IPv4 address is back"
READ_FAILED = "Error fetching esddns records example.com data"
AUTH_FAILED = "Authentication failed while fetching esddns records example.com data"
READ_BACK = "Fetching esddns records example.com data recovered"
WRITE_FAILED = "Could not update home.example.com A at Gandi"
WRITE_BACK = "Updating the records of example.com at Gandi works again"
NEWER_PUBLIC = "81.2.69.170"
CYCLES = 3  # failing cycles per outage: the log must still say it once


class WriteAudit:
    """Checks every PUT against the consensus of the moment it reached the fake.

    It hooks every detection coordinator (also the ones a reload or a restart creates), so a
    consensus is noted as soon as a round ends, before any write it leads to.
    """

    def __init__(self, gandi: FakeGandi, monkeypatch: pytest.MonkeyPatch) -> None:
        self.gandi = gandi
        self.marks: list[tuple[int, str | None]] = [(0, None)]  # (request index, consensus)
        original = DetectionCoordinator.async_update_listeners

        def noting(coordinator: DetectionCoordinator) -> None:
            fresh = coordinator.fresh()
            address = fresh.address(Family.IPV4) if fresh is not None else None
            self.marks.append((len(self.gandi.requests), str(address) if address else None))
            original(coordinator)

        monkeypatch.setattr(DetectionCoordinator, "async_update_listeners", noting)

    def check(self) -> int:
        """Assert every write so far; return how many there were."""
        writes = 0
        for index, request in enumerate(self.gandi.requests):
            if request.method != "PUT":
                continue
            writes += 1
            consensus = [address for at, address in self.marks if at <= index][-1]
            assert consensus is not None, f"write #{index} without consensus: {request.body}"
            assert request.body["rrset_values"] == [consensus], (index, request.body, consensus)
        return writes


@pytest.fixture
def audit(fake_gandi: FakeGandi, monkeypatch: pytest.MonkeyPatch) -> WriteAudit:
    """The write audit of the test's fake LiveDNS."""
    return WriteAudit(fake_gandi, monkeypatch)


def _logged(caplog: pytest.LogCaptureFixture, text: str) -> int:
    """Log lines at INFO or above that say `text` (DEBUG tracebacks don't count)."""
    return sum(1 for r in caplog.records if r.levelno >= logging.INFO and text in r.getMessage())


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def _detect(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """One detection cycle, and the automatic sync it triggers."""
    await entry.runtime_data.detection.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)


async def _check_records(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """One record-check cycle, and the automatic sync it triggers."""
    await entry.runtime_data.records.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)


async def _until(condition: Callable[[], bool]) -> None:
    """Let the loop run until `condition` holds (bounded by steps, not by time)."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition never held")


def _held(gandi: FakeGandi) -> list[str] | None:
    """What the managed record holds at Gandi (None: absent)."""
    rrset = gandi.get_rrset("example.com", "home", "A")
    return rrset.values if rrset is not None else None


def _reauth_flows(hass: HomeAssistant) -> list[ConfigFlowResult]:
    return [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == SOURCE_REAUTH
    ]


async def _finish_reauth(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """The user pastes a working secret: the entry reloads."""
    (flow,) = _reauth_flows(hass)
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {CONF_SECRET: TOKEN})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED


def _short_gandi_timeout(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """The integration's Gandi client gives up after `seconds` instead of 10 (tests only)."""
    monkeypatch.setattr(data, "GandiClient", functools.partial(GandiClient, timeout=seconds))


# ----- sources ----------------------------------------------------------------------------------

type Fake = FakeStunServer | FakeHttpSource


async def _break(fake: Fake, fault: str) -> None:
    """Make one source fail the way `fault` says."""
    if fault == "refused":
        await fake.stop()  # the port is closed: ICMP port unreachable / RST
    elif fault == "timeout":
        fake.mode = "silent"
    elif fault == "garbage":
        fake.mode = "garbage"
    elif fault == "html":
        fake.mode = "html"
    else:
        fake.address = {
            "wrong_family": "2a01:4f8:c17:1::1",
            "private": "192.168.1.10",
            "cgnat": "100.64.1.2",
            "lie": LIE,
        }[fault]


async def _heal(fake: Fake, fault: str, address: str) -> None:
    """The source works again and reports `address`."""
    if isinstance(fake, FakeStunServer):
        if fault == "refused":
            await fake.start(port=fake.port)  # the same endpoint, as the entry knows it
        fake.mode = "answer"
    else:
        fake.mode = "plain"
    fake.address = address


async def _sources_for(
    fault: str, public_sources: PublicSources, wan_fakes: WanFakes
) -> tuple[list[Fake], dict[str, Any]]:
    """Three sources of the kind the fault needs (HTTP for an HTML page, else STUN)."""
    if fault != "html":
        return list(public_sources.servers), public_sources.options
    fakes = [await wan_fakes.http_source(PUBLIC) for _ in range(3)]
    options = {
        CONF_DETECTION_MODE: "https",
        CONF_HTTPS_SOURCES: [fake.url for fake in fakes],
        CONF_QUORUM: 2,
    }
    return list(fakes), options


SOURCE_FAULTS = ["timeout", "refused", "garbage", "html", "wrong_family", "private", "cgnat"]


@pytest.mark.parametrize("fault", [*SOURCE_FAULTS, "lie"])
async def test_one_faulty_source_of_three_changes_nothing(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    audit: WriteAudit,
    public_sources: PublicSources,
    wan_fakes: WanFakes,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    """Two honest providers still agree: their address is written, and nothing else ever."""
    fakes, options = await _sources_for(fault, public_sources, wan_fakes)
    await _break(fakes[0], fault)
    entry = make_entry(fake_gandi, public_sources, options=options)
    await setup_entry(hass, entry)
    for fake in fakes[1:]:
        fake.address = NEW_PUBLIC
    for _ in range(CYCLES):
        await _detect(hass, entry)
        assert _state(hass, PUBLIC_IPV4) == NEW_PUBLIC
        assert _state(hass, DRIFT) == STATE_OFF
    assert audit.check() == 2  # the first address at setup, the new one once
    assert _held(fake_gandi) == [NEW_PUBLIC]
    assert _logged(caplog, NO_CONSENSUS) == 0


@pytest.mark.parametrize("fault", SOURCE_FAULTS)
async def test_two_faulty_sources_of_three_stop_writes_until_healed(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    audit: WriteAudit,
    public_sources: PublicSources,
    wan_fakes: WanFakes,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    """One honest provider is no quorum: no write, the address and drift go unavailable, one
    warning for the whole outage; healed, the new address is written and everything is back."""
    fakes, options = await _sources_for(fault, public_sources, wan_fakes)
    fake_gandi.set_rrset("example.com", "home", "A", [PUBLIC])
    entry = make_entry(fake_gandi, public_sources, options=options)
    await setup_entry(hass, entry)

    for fake in fakes[:2]:
        await _break(fake, fault)
    fakes[2].address = NEW_PUBLIC  # the record drifts, but one voice is not enough
    for _ in range(CYCLES):
        await _detect(hass, entry)
        assert _state(hass, PUBLIC_IPV4) == STATE_UNAVAILABLE
        assert _state(hass, DRIFT) == STATE_UNAVAILABLE
        assert _state(hass, RECORD) == PUBLIC  # what Gandi holds is still known
    assert audit.check() == 0
    assert _logged(caplog, NO_CONSENSUS) == 1

    for fake in fakes[:2]:
        await _heal(fake, fault, NEW_PUBLIC)
    await _detect(hass, entry)
    assert _state(hass, PUBLIC_IPV4) == NEW_PUBLIC
    assert _state(hass, DRIFT) == STATE_OFF
    assert audit.check() == 1
    assert _held(fake_gandi) == [NEW_PUBLIC]
    assert _logged(caplog, CONSENSUS_BACK) == 1


@pytest.mark.parametrize("transport", ["stun udp+tcp", "https"])
async def test_one_provider_lying_through_two_sources_is_one_vote(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    audit: WriteAudit,
    public_sources: PublicSources,
    wan_fakes: WanFakes,
    monkeypatch: pytest.MonkeyPatch,
    transport: str,
) -> None:
    """A liar answering first through two sources of one provider never reaches quorum 2."""
    honest = public_sources.servers[:2]
    for server in honest:
        server.delay = 0.2  # the liar's two answers arrive first
    if transport == "https":
        liars = [await wan_fakes.http_source(LIE) for _ in range(2)]
        monkeypatch.setattr(
            sources_module, "DEFAULT_STUN", tuple(s.source() for s in honest)
        )  # two honest providers
        monkeypatch.setattr(
            sources_module, "DEFAULT_HTTPS", tuple(f.source(provider="liar") for f in liars)
        )
        monkeypatch.setattr(sources_module, "DEFAULT_DNS", ())
        monkeypatch.setattr(sources_module, "DEFAULT_DOH", ())
        entry = make_entry(fake_gandi, public_sources, builtin_sources=True)
    else:
        liar = public_sources.servers[2]
        liar.address = LIE
        stun = [f"udp+tcp://127.0.0.1:{liar.port}"] + [f"127.0.0.1:{s.port}" for s in honest]
        entry = make_entry(fake_gandi, public_sources, options={CONF_STUN_SERVERS: stun})
    await setup_entry(hass, entry)
    await _detect(hass, entry)
    assert _state(hass, PUBLIC_IPV4) == PUBLIC
    assert audit.check() == 1
    assert _held(fake_gandi) == [PUBLIC]

    # Without the second honest provider the liar's two sources are still one vote: no quorum.
    honest[1].mode = "silent"
    await _detect(hass, entry)
    assert _state(hass, PUBLIC_IPV4) == STATE_UNAVAILABLE
    assert audit.check() == 1


async def test_a_50_50_split_writes_nothing_and_raises_a_repair(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    audit: WriteAudit,
    public_sources: PublicSources,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two providers say one address, two another, quorum 3: nothing is trusted or written."""
    # Every round asks everyone, so the round after the fix is seen to end the split (a
    # hedged round would leave the repair until the next full round).
    monkeypatch.setattr(consensus, "FULL_ROUND_EVERY", 1)
    fourth = await FakeStunServer(PUBLIC).start()
    try:
        servers = [*public_sources.servers, fourth]
        stun = [f"127.0.0.1:{s.port}" for s in servers]
        entry = make_entry(
            fake_gandi, public_sources, options={CONF_STUN_SERVERS: stun, CONF_QUORUM: 3}
        )
        await setup_entry(hass, entry)
        assert audit.check() == 1

        for server, address in zip(servers, [NEW_PUBLIC, NEW_PUBLIC, LIE, LIE], strict=True):
            server.address = address
        for _ in range(CYCLES):
            await _detect(hass, entry)
            assert _state(hass, PUBLIC_IPV4) == STATE_UNAVAILABLE
            assert _state(hass, DRIFT) == STATE_UNAVAILABLE
        assert audit.check() == 1
        assert _logged(caplog, NO_CONSENSUS) == 1
        (issue,) = issue_registry.issues.values()
        assert issue.translation_key == "sources_disagree"

        servers[2].address = servers[3].address = NEW_PUBLIC
        await _detect(hass, entry)
        assert _state(hass, PUBLIC_IPV4) == NEW_PUBLIC
        assert audit.check() == 2
        assert not issue_registry.issues
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await fourth.stop()


async def test_a_spoofing_server_never_gets_its_lie_written(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    audit: WriteAudit,
    public_sources: PublicSources,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Every server is shadowed by an off-path spoofer (wrong id, right id from another port,
    a late duplicate): the record only ever gets the real address."""
    for server in public_sources.servers:
        server.spoof = server.late_duplicate = True
        server.delay = 0.05  # the lies arrive first
    entry = mock_config_entry
    await setup_entry(hass, entry)
    public_sources.answer(NEW_PUBLIC)
    for _ in range(CYCLES):
        await _detect(hass, entry)
        assert _state(hass, PUBLIC_IPV4) == NEW_PUBLIC
    assert audit.check() == 2
    assert LIE not in str([r.body for r in fake_gandi.requests])


# ----- Gandi ------------------------------------------------------------------------------------


def _gandi_fault(gandi: FakeGandi, fault: str) -> None:
    """Make Gandi fail the next request(s) the way `fault` says."""
    if fault == "401":
        gandi.revoke(TOKEN)  # an expired token
    elif fault == "403":
        gandi.add_token(TOKEN, ["example.org"], name="example-token")  # rights taken away
    elif fault == "404":
        gandi.remove_domain("example.com")  # the domain left LiveDNS
    elif fault == "429 no Retry-After":
        gandi.fail_next("429", retry_after=None)
    elif fault == "429 Retry-After":
        gandi.fail_next("429", retry_after="30")
    elif fault == "non-JSON":
        gandi.fail_next("garbage", count=CYCLES)
    else:
        gandi.fail_next(fault, count=CYCLES)


def _gandi_heal(gandi: FakeGandi, fault: str) -> None:
    if fault in ("401", "403"):
        gandi.add_token(TOKEN, EXAMPLE_DOMAINS, name="example-token")
    elif fault == "404":
        gandi.set_rrset("example.com", "home", "A", [PUBLIC])


GANDI_FAULTS = [
    "401",
    "403",
    "404",
    "409",
    "429 Retry-After",
    "429 no Retry-After",
    "500",
    "502",
    "503",
    "cut",
    "non-JSON",
]
AUTH = ("401", "403")
RATE = ("429 Retry-After", "429 no Retry-After")


@pytest.mark.parametrize("fault", GANDI_FAULTS)
async def test_gandi_fault_on_read(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    audit: WriteAudit,
    public_sources: PublicSources,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    """The records can't be read: the record entities go unavailable (the address stays),
    nothing is written even though the address changed, the outage is logged once (or reauth
    starts), and once Gandi is back the new address is written."""
    fake_gandi.set_rrset("example.com", "home", "A", [PUBLIC])
    entry = mock_config_entry
    await setup_entry(hass, entry)

    seen = len(fake_gandi.requests)
    _gandi_fault(fake_gandi, fault)
    public_sources.answer(NEW_PUBLIC)
    for _ in range(CYCLES):
        await _check_records(hass, entry)
        await _detect(hass, entry)
        assert _state(hass, RECORD) == STATE_UNAVAILABLE
        assert _state(hass, DRIFT) == STATE_UNAVAILABLE
        assert _state(hass, PUBLIC_IPV4) == NEW_PUBLIC
    assert audit.check() == 0
    if fault in RATE:
        # Gandi was asked once; then ESDDNS kept quiet, as asked.
        assert [r.fault for r in fake_gandi.requests[seen:]] == ["429"]
        freezer.tick(61)

    if fault in AUTH:
        assert len(_reauth_flows(hass)) == 1
        assert _logged(caplog, AUTH_FAILED) == 1
        _gandi_heal(fake_gandi, fault)
        await _finish_reauth(hass, entry)
    else:
        assert not _reauth_flows(hass)
        assert _logged(caplog, READ_FAILED) == 1
        _gandi_heal(fake_gandi, fault)
        await _check_records(hass, entry)
        assert _logged(caplog, READ_BACK) == 1
    assert _state(hass, RECORD) == NEW_PUBLIC
    assert _state(hass, DRIFT) == STATE_OFF
    assert audit.check() == 1


@pytest.mark.parametrize("fault", GANDI_FAULTS)
async def test_gandi_fault_on_write(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    audit: WriteAudit,
    public_sources: PublicSources,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    """The write fails: the record keeps its old value and drift shows, each new detection
    tries again with the consensus of its moment, one warning covers the outage, and the
    write lands once Gandi takes it."""
    fake_gandi.set_rrset("example.com", "home", "A", [PUBLIC])
    entry = mock_config_entry
    await setup_entry(hass, entry)

    _gandi_fault(fake_gandi, fault)
    public_sources.answer(NEW_PUBLIC)
    for _ in range(CYCLES):
        await _detect(hass, entry)
        assert _state(hass, PUBLIC_IPV4) == NEW_PUBLIC
        assert _state(hass, RECORD) == PUBLIC
        assert _state(hass, DRIFT) == STATE_ON
    attempts = audit.check()
    assert attempts == (1 if fault in RATE else CYCLES)  # 429: quiet for as long as asked
    assert _logged(caplog, WRITE_FAILED) == 1
    failed = [h for h in entry.runtime_data.history.items if h["result"] == "failed"]
    assert len(failed) == CYCLES
    assert all(h["after"] == [PUBLIC] for h in failed)  # a failure never claims the new value

    if fault in AUTH:
        assert len(_reauth_flows(hass)) == 1
        _gandi_heal(fake_gandi, fault)
        await _finish_reauth(hass, entry)
    else:
        assert not _reauth_flows(hass)
        _gandi_heal(fake_gandi, fault)
        if fault == "404":
            await _check_records(hass, entry)
        freezer.tick(61)
        await _detect(hass, entry)
        assert _logged(caplog, WRITE_BACK) == 1
    assert _held(fake_gandi) == [NEW_PUBLIC]
    assert _state(hass, DRIFT) == STATE_OFF
    assert audit.check() == attempts + 1


@pytest.mark.parametrize("phase", ["read", "write"])
async def test_gandi_hanging(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    audit: WriteAudit,
    public_sources: PublicSources,
    mock_config_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    phase: str,
) -> None:
    """Gandi accepts the connection and never answers: the client gives up, nothing wrong is
    written, the outage is logged once, and the next cycles recover."""
    _short_gandi_timeout(monkeypatch, 0.3)
    fake_gandi.set_rrset("example.com", "home", "A", [PUBLIC])
    entry = mock_config_entry
    await setup_entry(hass, entry)

    fake_gandi.fail_next("hang", count=2)
    public_sources.answer(NEW_PUBLIC)
    for _ in range(2):
        if phase == "read":
            await _check_records(hass, entry)
            assert _state(hass, RECORD) == STATE_UNAVAILABLE
        await _detect(hass, entry)
        assert _state(hass, DRIFT) == (STATE_UNAVAILABLE if phase == "read" else STATE_ON)
    assert audit.check() == (0 if phase == "read" else 2)
    assert _logged(caplog, READ_FAILED if phase == "read" else WRITE_FAILED) == 1

    if phase == "read":
        await _check_records(hass, entry)
    else:
        await _detect(hass, entry)
    assert _held(fake_gandi) == [NEW_PUBLIC]
    assert _state(hass, DRIFT) == STATE_OFF


# ----- Home Assistant: unload, reload and restart mid-cycle -------------------------------------


@pytest.mark.gandi_holds(PUBLIC)
async def test_unload_while_a_slow_detection_runs(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    audit: WriteAudit,
    public_sources: PublicSources,
    init_integration: MockConfigEntry,
) -> None:
    """Unloading during a detection: the round ends on its own, nothing is written for the
    unloaded entry, and a new setup writes the address it detects itself."""
    entry = init_integration

    public_sources.answer(NEW_PUBLIC)
    for server in public_sources.servers:
        server.delay = 0.3
    round_ = hass.async_create_task(entry.runtime_data.detection.async_refresh())
    await _until(lambda: sum(public_sources.requests) >= 5)  # 3 at setup, then this round's
    assert await hass.config_entries.async_unload(entry.entry_id)
    await round_
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert audit.check() == 0

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert audit.check() == 1
    assert _held(fake_gandi) == [NEW_PUBLIC]


@pytest.mark.gandi_holds(PUBLIC)
@pytest.mark.parametrize("how", ["reload", "restart with a new address"])
async def test_reload_or_restart_while_a_write_hangs(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    audit: WriteAudit,
    public_sources: PublicSources,
    init_integration: MockConfigEntry,
    how: str,
) -> None:
    """A write is pending when the entry goes away. The pending write is abandoned, and the
    entry that comes back detects and reads again: it writes the consensus of its own time,
    never the one of the abandoned cycle (after a restart, the address has changed again)."""
    entry = init_integration
    fake_gandi.fail_next("hang")
    public_sources.answer(NEW_PUBLIC)
    cycle = hass.async_create_task(entry.runtime_data.detection.async_refresh())
    await _until(lambda: len(fake_gandi.writes()) == 1)  # read done, the write is hanging
    await cycle

    if how == "reload":
        assert await hass.config_entries.async_reload(entry.entry_id)
        expected = NEW_PUBLIC
    else:
        assert await hass.config_entries.async_unload(entry.entry_id)
        public_sources.answer(NEWER_PUBLIC)
        assert await hass.config_entries.async_setup(entry.entry_id)
        expected = NEWER_PUBLIC
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert audit.check() == 2
    assert fake_gandi.writes()[-1].body["rrset_values"] == [expected]
    assert _held(fake_gandi) == [expected]
    assert _state(hass, DRIFT) == STATE_OFF


# ----- sockets ----------------------------------------------------------------------------------


def _fds_except(port: int) -> int:
    """Open fds of this process, not counting sockets on `port` (a pooled keep-alive HTTP
    connection to the fake Gandi, and the fake's own end of it, may outlive a cycle)."""
    pooled: set[str] = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            ports = {int(fields[1].rsplit(":", 1)[1], 16), int(fields[2].rsplit(":", 1)[1], 16)}
            if port in ports:
                pooled.add(fields[9])
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if not (target.startswith("socket:[") and target[8:-1] in pooled):
            count += 1
    return count


@pytest.mark.parametrize(
    "faults",
    [
        "sources silent",
        "sources spoofed",
        "gandi hangs",
        "gandi cuts",
    ],
)
async def test_no_socket_outlives_a_setup_and_unload(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    audit: WriteAudit,
    public_sources: PublicSources,
    mock_config_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    faults: str,
) -> None:
    """After setup, faulty cycles and unload, the process holds as many fds as before."""
    _short_gandi_timeout(monkeypatch, 0.3)
    assert fake_gandi.port is not None
    entry = mock_config_entry
    await setup_entry(hass, entry)  # warm up: imports, the shared session, its pool
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    before = _fds_except(fake_gandi.port)

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    if faults == "sources silent":
        public_sources.silence()
    elif faults == "sources spoofed":
        for server in public_sources.servers:
            server.spoof = server.late_duplicate = True
    else:
        fake_gandi.fail_next("hang" if faults == "gandi hangs" else "cut", count=2)
    for address in (NEW_PUBLIC, PUBLIC):
        if faults != "sources silent":
            public_sources.answer(address)
        await _check_records(hass, entry)
        await _detect(hass, entry)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await asyncio.sleep(0)  # closed transports release their sockets on the next iteration
    assert _fds_except(fake_gandi.port) == before
    audit.check()
