"""The scenarios of benchmarks/reaction.py (run by it, under pytest; see its docstring)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
import json
import os
from pathlib import Path
import random
import statistics
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

# Imported before Home Assistant's fixtures run, as tests/conftest.py does: from this checkout.
from custom_components.esddns import timing, triggers
from custom_components.esddns.const import DOMAIN, ENTRY_MINOR_VERSION, ENTRY_VERSION
from devtools.fakes.gandi import FakeGandi
from devtools.fakes.stun import FakeStunServer

SEED = 1989
CHANGES = 30
STEADY_MINUTES = 120
ROUTER = "sensor.router_wan_ip"
FIRST = "81.2.69.142"
RESULTS = "ESDDNS_REACTION_RESULTS"  # where the runner reads the figures


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# ----- the scenarios (pytest) --------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _custom(enable_custom_integrations: None, socket_enabled: None) -> None:
    """ESDDNS from custom_components/, and loopback sockets."""


@pytest.fixture
async def stack() -> AsyncIterator[dict[str, Any]]:
    """Three STUN fakes answering FIRST, and the fake Gandi with a token for example.com."""
    servers = [await FakeStunServer(FIRST).start() for _ in range(3)]
    gandi = FakeGandi()
    gandi.add_token("token-bench", ["example.com"], name="bench")
    await gandi.start()
    try:
        yield {"servers": servers, "gandi": gandi}
    finally:
        await gandi.close()
        for server in servers:
            await server.stop()


class Clock:
    """The frozen clock, moved in steps: the timers due run at each step, and what they start."""

    def __init__(self, hass: Any, freezer: Any) -> None:
        self.hass, self.freezer, self.seconds = hass, freezer, 0.0

    async def advance(self, seconds: float, step: float) -> None:
        left = seconds
        while left > 0:
            move = min(step, left)
            self.freezer.tick(timedelta(seconds=move))
            self.seconds += move
            left -= move
            async_fire_time_changed(self.hass)
            await self.hass.async_block_till_done(wait_background_tasks=True)


async def _setup(hass: Any, stack: dict[str, Any], *, router: bool, baseline: bool) -> Any:
    options: dict[str, Any] = {
        "detection_mode": "stun",
        "stun_servers": [f"127.0.0.1:{server.port}" for server in stack["servers"]],
    }
    if router:
        hass.states.async_set(ROUTER, FIRST)
        options["entity_sources"] = [ROUTER]
    if baseline:  # 0.2.0: a full detection every 5 minutes, and nothing else
        options.update(detection_interval=5, change_check_interval=0)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="example.com",
        version=ENTRY_VERSION,
        minor_version=ENTRY_MINOR_VERSION,
        data={"credential_kind": "token", "secret": "token-bench", "api_url": stack["gandi"].url},
        options=options,
        subentries_data=[
            {
                "data": {"domain": "example.com", "name": "home", "record_types": ["A"],
                         "ttl": 300, "auto_sync": True},
                "subentry_type": "record",
                "title": "home.example.com",
                "unique_id": None,
            }
        ],
    )  # fmt: skip
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    return entry


def _rounds_of(coordinator: Any) -> list[object]:
    """The rounds ``coordinator`` ends from now on."""
    rounds: list[object] = []
    coordinator.async_add_listener(lambda: rounds.append(coordinator.data))
    return rounds


def _holds(stack: dict[str, Any]) -> list[str]:
    rrset = stack["gandi"].get_rrset("example.com", "home", "A")
    return list(rrset.values) if rrset is not None else []


def _requests(stack: dict[str, Any]) -> int:
    return sum(server.requests for server in stack["servers"])


async def _reaction(hass: Any, freezer: Any, stack: dict[str, Any], *, router: bool) -> list[float]:
    """Seconds from each change to Gandi holding it."""
    rng = random.Random(SEED + router)
    clock = Clock(hass, freezer)
    delays: list[float] = []
    for index in range(CHANGES):
        await clock.advance(rng.uniform(0, 20 * 60), step=30)
        address = f"81.2.{70 + index // 250}.{index % 250 + 1}"
        for server in stack["servers"]:
            server.address = address
        if router:
            hass.states.async_set(ROUTER, address)
        await hass.async_block_till_done(wait_background_tasks=True)
        started = clock.seconds
        while _holds(stack) != [address] and clock.seconds - started < 45 * 60:
            await clock.advance(1, step=1)
        delays.append(clock.seconds - started)
    return delays


@pytest.mark.parametrize("baseline", [False, True], ids=["0.3", "0.2.0"])
async def test_reaction(
    hass: Any,
    freezer: Any,
    stack: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    baseline: bool,
) -> None:
    """Every figure of one behaviour (0.3, or 0.2.0's as the baseline)."""
    if baseline:
        monkeypatch.setattr(timing._RANDOM, "uniform", lambda low, high: 1.0)
        monkeypatch.setattr(triggers.DetectionTriggers, "_async_entity_changed", lambda s, e: None)
    figures: dict[str, Any] = {}
    truths = {FIRST}
    for router in (True, False):
        entry = await _setup(hass, stack, router=router, baseline=baseline)
        delays = await _reaction(hass, freezer, stack, router=router)
        truths |= {f"81.2.{70 + i // 250}.{i % 250 + 1}" for i in range(CHANGES)}
        name = "router" if router else "no_router"
        figures[f"reaction_{name}_p50_s"] = round(statistics.median(delays), 1)
        figures[f"reaction_{name}_p95_s"] = round(_percentile(delays, 0.95), 1)
        figures[f"reaction_{name}_max_s"] = round(max(delays), 1)
        if router:
            clock = Clock(hass, freezer)
            # Steady state: two hours, no change.
            before = _requests(stack)
            await clock.advance(STEADY_MINUTES * 60, step=5)
            figures["requests_per_minute"] = round((_requests(stack) - before) / STEADY_MINUTES, 3)
            # The router's entity flaps 40 times in 4 seconds; the sources keep their address.
            rounds = _rounds_of(entry.runtime_data.detection)
            before = _requests(stack)
            for flap in range(40):
                hass.states.async_set(ROUTER, f"81.2.90.{flap % 5 + 1}")
                await clock.advance(0.1, step=0.1)
            await clock.advance(60, step=1)
            figures["flapping_rounds"] = len({id(r) for r in rounds})
            figures["flapping_requests"] = _requests(stack) - before
        assert await hass.config_entries.async_remove(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
        stack["gandi"].delete_rrset("example.com", "home", "A")
        for server in stack["servers"]:
            server.address = FIRST
    figures["wrong_writes"] = sum(
        1 for write in stack["gandi"].writes() if write.body["rrset_values"][0] not in truths
    )
    _keep({"0.2.0" if baseline else "0.3": figures})


def _keep(figures: dict[str, Any]) -> None:
    """Hand the figures to the runner (a line of its results file)."""
    results = Path(os.environ[RESULTS])
    line = json.dumps(figures) + "\n"
    results.write_text((results.read_text() if results.exists() else "") + line)
