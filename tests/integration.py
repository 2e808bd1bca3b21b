"""Helpers for the integration tests: loopback public-IP sources and a configured entry."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntryState,
    ConfigSubentryData,
)
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.esddns.const import (
    CONF_API_URL,
    CONF_AUTO_SYNC,
    CONF_CHANGE_CHECK_INTERVAL,
    CONF_CREDENTIAL_KIND,
    CONF_DETECTION_INTERVAL,
    CONF_DETECTION_MODE,
    CONF_DOMAIN,
    CONF_INTERFACE_ID,
    CONF_NAME,
    CONF_QUORUM,
    CONF_RECORD_TYPES,
    CONF_SECRET,
    CONF_STUN_SERVERS,
    CONF_TTL,
    DOMAIN,
    ENTRY_MINOR_VERSION,
    ENTRY_VERSION,
    SUBENTRY_RECORD,
)
from custom_components.esddns.records import label
from devtools.fakes.gandi import MIN_TTL, FakeGandi
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
        """Entry options that make ESDDNS ask exactly these servers, every 5 minutes, without
        the change canary (the tests of the triggers turn it on)."""
        return {
            CONF_DETECTION_MODE: "stun",
            CONF_STUN_SERVERS: [f"127.0.0.1:{server.port}" for server in self.servers],
            CONF_QUORUM: 2,
            CONF_DETECTION_INTERVAL: 5,
            CONF_CHANGE_CHECK_INTERVAL: 0,
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


@pytest.fixture(autouse=True)
def no_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Intervals as configured, so that a test's clock lands on them (tests/test_triggers.py
    checks the jitter itself)."""
    monkeypatch.setattr("custom_components.esddns.timing._RANDOM.uniform", lambda a, b: 1.0)


@pytest.fixture
async def public_sources(
    socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncGenerator[PublicSources]:
    """Three fake STUN servers on 127.0.0.1 answering PUBLIC.

    Silent sources give up after 1 s instead of 5, to keep the tests quick.
    """
    monkeypatch.setattr("custom_components.esddns.detection.DETECTION_TIMEOUT", 1.0)
    sources = PublicSources([await FakeStunServer(PUBLIC).start() for _ in range(3)])
    try:
        yield sources
    finally:
        for server in sources.servers:
            await server.stop()


def record_subentry(
    domain: str,
    name: str,
    types: list[str],
    *,
    ttl: int = 300,
    auto_sync: bool = True,
    interface_id: str | None = None,
) -> ConfigSubentryData:
    """A record subentry as the record flow makes it."""
    data: dict[str, Any] = {
        CONF_DOMAIN: domain,
        CONF_NAME: name,
        CONF_RECORD_TYPES: sorted(types),
        CONF_TTL: ttl,
        CONF_AUTO_SYNC: auto_sync,
    }
    if interface_id is not None:
        data[CONF_INTERFACE_ID] = interface_id
    return ConfigSubentryData(
        data=data, subentry_type=SUBENTRY_RECORD, title=label(domain, name), unique_id=None
    )


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
    subentries: list[ConfigSubentryData] | None = None,
    secret: str = TOKEN,
    title: str | None = None,
    minor_version: int = ENTRY_MINOR_VERSION,
) -> MockConfigEntry:
    """An account as the config flow makes it, asking the fake Gandi and the fake sources.

    Without ``subentries``, it has one record per name in ``records``, each with ``types``.
    """
    if subentries is None:
        subentries = [
            record_subentry(domain, name, types or ["A"], auto_sync=auto_sync)
            for name in records or ["home"]
        ]
    return MockConfigEntry(
        domain=DOMAIN,
        title=title or domain,
        version=ENTRY_VERSION,
        minor_version=minor_version,
        data={CONF_CREDENTIAL_KIND: "token", CONF_SECRET: secret, CONF_API_URL: fake_gandi.url},
        subentries_data=subentries,
        # builtin_sources: no detection options at all, as a new entry has them.
        options=dict(options or {}) if builtin_sources else {**sources.options, **(options or {})},
    )


async def start_record_reconfigure(
    hass: HomeAssistant, entry: MockConfigEntry, subentry_id: str
) -> Any:
    """ "Reconfigure" on a record, as the integration's page starts it (the same call on every
    supported Home Assistant; MockConfigEntry's helper changed its signature in 2026.x)."""
    return await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_RECORD),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
    )


def subentry_id(entry: MockConfigEntry, name: str, domain: str = "example.com") -> str:
    """The id of the record subentry for ``name`` in ``domain``."""
    return next(
        subentry_id
        for subentry_id, subentry in entry.subentries.items()
        if (subentry.data[CONF_DOMAIN], subentry.data[CONF_NAME]) == (domain, name)
    )


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add and set up an entry, and let its first auto sync run."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED


@pytest.fixture
def mock_config_entry(
    request: pytest.FixtureRequest, fake_gandi: FakeGandi, public_sources: PublicSources
) -> MockConfigEntry:
    """The account `make_entry` builds, not yet added: one record, home.example.com A.

    ``@pytest.mark.entry(...)`` passes its keyword arguments on to `make_entry`, e.g.
    ``@pytest.mark.entry(records=["home", "vpn"], auto_sync=False)``.
    """
    marker = request.node.get_closest_marker("entry")
    return make_entry(fake_gandi, public_sources, **(marker.kwargs if marker else {}))


# Fixtures that, when the test asks for them, must be in place before the setup, as they were
# when each test set its entry up itself: the frozen clock, and test_faults' write audit (it
# notes every consensus, so that it can check the setup's writes too).
_BEFORE_SETUP = ("freezer", "audit")


@pytest.fixture
async def init_integration(
    request: pytest.FixtureRequest,
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    mock_config_entry: MockConfigEntry,
) -> MockConfigEntry:
    """`mock_config_entry`, added and set up, its first auto sync done.

    Before the setup:
    - ``@pytest.mark.gandi_holds(*values, name="home", rtype="A", domain="example.com",
      ttl=300)`` writes an rrset at the fake Gandi, as someone else would have:
      ``@pytest.mark.gandi_holds(PUBLIC)`` is a record already in sync. Stacked, each writes
      its own, in reading order.
    - ``@pytest.mark.sources_answer(*addresses)`` makes source i answer addresses[i] (the
      last one repeats), as `PublicSources.answer`.
    """
    for name in _BEFORE_SETUP:
        if name in request.fixturenames:
            request.getfixturevalue(name)
    # Closest first, and a function's own marks bottom-up: reversed, they read top-down.
    for marker in reversed(list(request.node.iter_markers("gandi_holds"))):
        _gandi_holds(fake_gandi, *marker.args, **marker.kwargs)
    if (marker := request.node.get_closest_marker("sources_answer")) is not None:
        public_sources.answer(*marker.args)
    await setup_entry(hass, mock_config_entry)
    return mock_config_entry


def _gandi_holds(
    fake_gandi: FakeGandi,
    *values: str,
    name: str = "home",
    rtype: str = "A",
    domain: str = "example.com",
    ttl: int = MIN_TTL,
) -> None:
    fake_gandi.set_rrset(domain, name, rtype, list(values), ttl=ttl)


async def tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, minutes: float) -> None:
    """Let ``minutes`` pass: the timers due run, with what they start."""
    freezer.tick(timedelta(minutes=minutes))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
