"""The config flow, reauth, reconfigure and options, against the fake LiveDNS."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.esddns.const import (
    CONF_ADVANCED,
    CONF_API_URL,
    CONF_AUTO_SYNC,
    CONF_CREDENTIAL_KIND,
    CONF_DETECTION_INTERVAL,
    CONF_DETECTION_MODE,
    CONF_DOMAIN,
    CONF_HTTPS_SOURCES,
    CONF_QUORUM,
    CONF_RECORD_CHECK_INTERVAL,
    CONF_RECORD_TYPES,
    CONF_RECORDS,
    CONF_SECRET,
    CONF_STUN_SERVERS,
    CONF_TTL,
    DOMAIN,
)
from devtools.fakes.gandi import FakeGandi

TOKEN = "token-example"


@pytest.fixture
def setup_entry() -> Generator[AsyncMock]:
    """Keep the flow tests about the flow: don't set the entry up."""
    with patch("custom_components.esddns.async_setup_entry", return_value=True) as mock:
        yield mock


def _credential(fake: FakeGandi, secret: str = TOKEN, kind: str = "token") -> dict[str, Any]:
    return {
        CONF_CREDENTIAL_KIND: kind,
        CONF_SECRET: secret,
        CONF_ADVANCED: {CONF_API_URL: fake.url},
    }


RECORDS = {
    CONF_DOMAIN: "example.com",
    CONF_RECORDS: ["home", "@", "Home"],
    CONF_RECORD_TYPES: ["A", "AAAA"],
    CONF_TTL: 600,
    CONF_AUTO_SYNC: True,
}


async def test_full_flow_creates_one_entry_per_domain(
    hass: HomeAssistant, fake_gandi: FakeGandi, setup_entry: AsyncMock
) -> None:
    """Credential tested by listing domains, then the records; the domain is the unique id."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _credential(fake_gandi)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "records"
    assert [r.path for r in fake_gandi.requests] == ["/v5/livedns/domains"]
    assert fake_gandi.requests[0].auth_scheme == "Bearer"

    result = await hass.config_entries.flow.async_configure(result["flow_id"], RECORDS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "example.com"
    assert result["data"] == {
        CONF_CREDENTIAL_KIND: "token",
        CONF_SECRET: TOKEN,
        CONF_API_URL: fake_gandi.url,
        CONF_DOMAIN: "example.com",
        CONF_RECORDS: ["home", "@"],
        CONF_RECORD_TYPES: ["A", "AAAA"],
        CONF_TTL: 600,
        CONF_AUTO_SYNC: True,
    }
    assert result["result"].unique_id == "example.com"
    assert len(setup_entry.mock_calls) == 1
    assert fake_gandi.writes() == []

    # The same domain again is refused.
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _credential(fake_gandi)
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], RECORDS)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_api_key_credential(
    hass: HomeAssistant, fake_gandi: FakeGandi, setup_entry: AsyncMock
) -> None:
    """The legacy API key is sent as `Apikey`."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _credential(fake_gandi, "apikey-example", "api_key")
    )
    assert result["step_id"] == "records"
    assert fake_gandi.requests[0].auth_scheme == "Apikey"


@pytest.mark.parametrize(
    ("secret", "fault", "error"),
    [
        ("wrong-token", None, "invalid_auth"),
        (TOKEN, "503", "cannot_connect"),
        (TOKEN, "garbage", "cannot_connect"),
        ("token-no-rights", None, "no_domains"),
    ],
)
async def test_user_step_errors_then_recovery(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    setup_entry: AsyncMock,
    secret: str,
    fault: str | None,
    error: str,
) -> None:
    """Each failure is shown in the form; fixing it goes on to the records."""
    if fault is not None:
        fake_gandi.fail_next(fault)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _credential(fake_gandi, secret)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {"base": error}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _credential(fake_gandi)
    )
    assert result["step_id"] == "records"


async def test_user_step_unknown_error(
    hass: HomeAssistant, fake_gandi: FakeGandi, setup_entry: AsyncMock
) -> None:
    """A bug shows `unknown`, not a traceback in the UI."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    with patch(
        "custom_components.esddns.config_flow.GandiClient.list_domains",
        side_effect=RuntimeError("boom"),
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], _credential(fake_gandi)
        )
    assert result["errors"] == {"base": "unknown"}


@pytest.mark.parametrize("url", ["ftp://example.com", "not a url", "https://user:pw@x.example"])
async def test_user_step_rejects_bad_endpoint(
    hass: HomeAssistant, fake_gandi: FakeGandi, setup_entry: AsyncMock, url: str
) -> None:
    """A bad endpoint is refused before anything is sent."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_CREDENTIAL_KIND: "token", CONF_SECRET: TOKEN, CONF_ADVANCED: {CONF_API_URL: url}},
    )
    assert result["errors"] == {"base": "invalid_url"}
    assert fake_gandi.requests == []


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({CONF_RECORDS: ["bad name!"]}, {CONF_RECORDS: "invalid_record"}),
        ({CONF_RECORDS: []}, {CONF_RECORDS: "invalid_record"}),
        ({CONF_RECORD_TYPES: []}, {CONF_RECORD_TYPES: "no_record_types"}),
    ],
)
async def test_records_step_errors(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    setup_entry: AsyncMock,
    changes: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """Bad record names or no type are shown on their field; nothing is created."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _credential(fake_gandi)
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**RECORDS, **changes}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert not hass.config_entries.async_entries(DOMAIN)


def _entry(fake: FakeGandi, **data: Any) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="example.com",
        unique_id="example.com",
        data={
            CONF_CREDENTIAL_KIND: "token",
            CONF_SECRET: "expired-token",
            CONF_API_URL: fake.url,
            CONF_DOMAIN: "example.com",
            CONF_RECORDS: ["home"],
            CONF_RECORD_TYPES: ["A"],
            CONF_TTL: 300,
            CONF_AUTO_SYNC: True,
            **data,
        },
    )


async def test_reauth(hass: HomeAssistant, fake_gandi: FakeGandi, setup_entry: AsyncMock) -> None:
    """Reauth asks for the secret only and checks it still manages the domain."""
    entry = _entry(fake_gandi)
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SECRET: "still-wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}

    fake_gandi.add_token("other-domains", ["example.net"])
    fake_gandi.add_domain("example.net")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SECRET: "other-domains"}
    )
    assert result["errors"] == {"base": "domain_not_managed"}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_SECRET: TOKEN})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_SECRET] == TOKEN


async def test_reconfigure(
    hass: HomeAssistant, fake_gandi: FakeGandi, setup_entry: AsyncMock
) -> None:
    """Reconfigure changes records, types, TTL and auto sync; the credential stays."""
    entry = _entry(fake_gandi, **{CONF_SECRET: TOKEN})
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_RECORDS: ["bad name!"],
            CONF_RECORD_TYPES: ["A"],
            CONF_TTL: 300,
            CONF_AUTO_SYNC: True,
        },
    )
    assert result["errors"] == {CONF_RECORDS: "invalid_record"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_RECORDS: ["vpn"], CONF_RECORD_TYPES: ["AAAA"], CONF_TTL: 900, CONF_AUTO_SYNC: False},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_RECORDS] == ["vpn"]
    assert entry.data[CONF_RECORD_TYPES] == ["AAAA"]
    assert entry.data[CONF_TTL] == 900
    assert entry.data[CONF_AUTO_SYNC] is False
    assert entry.data[CONF_SECRET] == TOKEN


OPTIONS = {
    CONF_DETECTION_MODE: "stun_https",
    CONF_STUN_SERVERS: ["127.0.0.1:3478", "tcp://[::1]:3479"],
    CONF_HTTPS_SOURCES: ["https://ip.example.net/"],
    CONF_QUORUM: 2,
    CONF_DETECTION_INTERVAL: 10,
    CONF_RECORD_CHECK_INTERVAL: 30,
}


async def test_options_flow(
    hass: HomeAssistant, fake_gandi: FakeGandi, setup_entry: AsyncMock
) -> None:
    """Options are validated, saved, and the entry is reloaded to use them."""
    entry = _entry(fake_gandi)
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "init"

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS, CONF_STUN_SERVERS: ["host:notaport"]}
    )
    assert result["errors"] == {CONF_STUN_SERVERS: "invalid_stun_server"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS, CONF_HTTPS_SOURCES: ["ftp://x.example"]}
    )
    assert result["errors"] == {CONF_HTTPS_SOURCES: "invalid_https_source"}

    # One custom STUN server and no HTTPS: a quorum of 2 providers can never be met.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            **OPTIONS,
            CONF_DETECTION_MODE: "stun",
            CONF_STUN_SERVERS: ["127.0.0.1:3478", "tcp://127.0.0.1:3478"],
        },
    )
    assert result["errors"] == {CONF_QUORUM: "quorum_unreachable"}

    with patch.object(hass.config_entries, "async_schedule_reload") as reload:
        result = await hass.config_entries.options.async_configure(result["flow_id"], OPTIONS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == OPTIONS
    reload.assert_called_once_with(entry.entry_id)


async def test_options_quorum_is_checked_for_each_family_the_records_need(
    hass: HomeAssistant, fake_gandi: FakeGandi, setup_entry: AsyncMock
) -> None:
    """Two IPv4-only STUN servers can't make a quorum for AAAA records."""
    entry = _entry(fake_gandi, **{CONF_RECORD_TYPES: ["A", "AAAA"]})
    entry.add_to_hass(hass)
    servers = {CONF_STUN_SERVERS: ["127.0.0.1:3478", "127.0.0.2:3478"]}
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS, CONF_DETECTION_MODE: "stun", **servers}
    )
    assert result["errors"] == {CONF_QUORUM: "quorum_unreachable"}
