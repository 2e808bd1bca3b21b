"""Helpers for the integration tests: loopback public-IP sources and a configured entry."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.esddns.const import (
    CONF_API_URL,
    CONF_AUTO_SYNC,
    CONF_CREDENTIAL_KIND,
    CONF_DETECTION_MODE,
    CONF_DOMAIN,
    CONF_QUORUM,
    CONF_RECORD_TYPES,
    CONF_RECORDS,
    CONF_SECRET,
    CONF_STUN_SERVERS,
    CONF_TTL,
    DOMAIN,
)
from devtools.fakes.gandi import FakeGandi
from devtools.fakes.stun import FakeStunServer

PUBLIC = "81.2.69.142"
NEW_PUBLIC = "81.2.69.160"
TOKEN = "token-example"


@dataclass
class PublicSources:
    """Three loopback STUN servers, each its own provider, answering one public address."""

    servers: list[FakeStunServer] = field(default_factory=list)

    @property
    def options(self) -> dict[str, Any]:
        """Entry options that make ESDDNS ask exactly these servers."""
        return {
            CONF_DETECTION_MODE: "stun",
            CONF_STUN_SERVERS: [f"127.0.0.1:{server.port}" for server in self.servers],
            CONF_QUORUM: 2,
        }

    def answer(self, *addresses: str) -> None:
        """Make server i answer addresses[i] (the last one repeats)."""
        for index, server in enumerate(self.servers):
            server.address = addresses[min(index, len(addresses) - 1)]
            server.mode = "answer"

    def silence(self) -> None:
        """Every server stops answering (UDP silent)."""
        for server in self.servers:
            server.mode = "silent"

    @property
    def requests(self) -> list[int]:
        """Binding requests each server received."""
        return [server.requests for server in self.servers]


@pytest.fixture
async def public_sources(
    socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncGenerator[PublicSources]:
    """Three fake STUN servers on 127.0.0.1 answering PUBLIC.

    Silent sources give up after 1 s instead of 5, to keep the tests quick.
    """
    monkeypatch.setattr("custom_components.esddns.coordinator.DETECTION_TIMEOUT", 1.0)
    sources = PublicSources([await FakeStunServer(PUBLIC).start() for _ in range(3)])
    try:
        yield sources
    finally:
        for server in sources.servers:
            await server.stop()


def make_entry(
    fake_gandi: FakeGandi,
    sources: PublicSources,
    *,
    domain: str = "example.com",
    records: list[str] | None = None,
    types: list[str] | None = None,
    auto_sync: bool = True,
    options: dict[str, Any] | None = None,
    builtin_sources: bool = False,
) -> MockConfigEntry:
    """An entry as the config flow makes it, asking the fake Gandi and the fake sources."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=domain,
        unique_id=domain,
        data={
            CONF_CREDENTIAL_KIND: "token",
            CONF_SECRET: TOKEN,
            CONF_API_URL: fake_gandi.url,
            CONF_DOMAIN: domain,
            CONF_RECORDS: records or ["home"],
            CONF_RECORD_TYPES: types or ["A"],
            CONF_TTL: 300,
            CONF_AUTO_SYNC: auto_sync,
        },
        # builtin_sources: no detection options at all, as a new entry has them.
        options=dict(options or {}) if builtin_sources else {**sources.options, **(options or {})},
    )


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add and set up an entry, and let its first auto sync run."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
