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
    CONF_ENTITY_SOURCES,
    CONF_HTTPS_SOURCES,
    CONF_INTERFACE_SOURCE,
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


async def test_second_domain_is_offered_and_the_first_is_not(
    hass: HomeAssistant, fake_gandi: FakeGandi, setup_entry: AsyncMock
) -> None:
    """Adding a domain offers only those not set up yet; when none is left the credential
    form says so instead of starting over."""
    _entry(fake_gandi).add_to_hass(hass)  # example.com is set up
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _credential(fake_gandi)
    )
    assert result["step_id"] == "records"
    domain_field = next(k for k in result["data_schema"].schema if k == CONF_DOMAIN)
    assert domain_field.default() == "example.org"
    assert result["data_schema"].schema[domain_field].config["options"] == ["example.org"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**RECORDS, CONF_DOMAIN: "example.org"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "example.org"

    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _credential(fake_gandi)
    )
    assert result["step_id"] == "user"
    assert result["errors"] == {"base": "all_domains_configured"}
    assert result["description_placeholders"]["domains"] == "example.com, example.org"

    # Two flows racing for the same domain: the second one to finish is refused.
    org_entry = next(
        e for e in hass.config_entries.async_entries(DOMAIN) if e.title == "example.org"
    )
    await hass.config_entries.async_remove(org_entry.entry_id)
    first = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    first = await hass.config_entries.flow.async_configure(
        first["flow_id"], _credential(fake_gandi)
    )
    second = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    second = await hass.config_entries.flow.async_configure(
        second["flow_id"], _credential(fake_gandi)
    )
    org = {**RECORDS, CONF_DOMAIN: "example.org"}
    result = await hass.config_entries.flow.async_configure(first["flow_id"], org)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    result = await hass.config_entries.flow.async_configure(second["flow_id"], org)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize("pasted", [f"{TOKEN}\n", f"  {TOKEN} ", f"\t{TOKEN}\r\n"])
async def test_pasted_token_with_whitespace_works(
    hass: HomeAssistant, fake_gandi: FakeGandi, setup_entry: AsyncMock, pasted: str
) -> None:
    """What a copy from a web page gives (a trailing newline or spaces) is the token."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _credential(fake_gandi, pasted)
    )
    assert result["step_id"] == "records"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], RECORDS)
    assert result["data"][CONF_SECRET] == TOKEN


@pytest.mark.parametrize("secret", ["tökén", "two words", "tab\tinside", "   "])
async def test_unusable_secret_is_a_field_error(
    hass: HomeAssistant, fake_gandi: FakeGandi, setup_entry: AsyncMock, secret: str
) -> None:
    """Non-ASCII or inner whitespace can't be a token: an error on the field, nothing sent."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _credential(fake_gandi, secret)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SECRET: "invalid_secret"}
    assert fake_gandi.requests == []


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


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com",
        "not a url",
        "https://user:pw@x.example",
        "https://api.gandi.net/v5/livedns?x=1",
        "https://api.gandi.net/v5/livedns#top",
        "https://",
    ],
)
async def test_user_step_rejects_bad_endpoint(
    hass: HomeAssistant, fake_gandi: FakeGandi, setup_entry: AsyncMock, url: str
) -> None:
    """A bad endpoint is refused by the client's own rules, named, before anything is sent."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_CREDENTIAL_KIND: "token", CONF_SECRET: TOKEN, CONF_ADVANCED: {CONF_API_URL: url}},
    )
    assert result["errors"] == {"base": "invalid_url"}
    assert result["description_placeholders"]["api_url"] == url
    assert fake_gandi.requests == []


@pytest.mark.parametrize(
    ("changes", "errors", "placeholders"),
    [
        (
            {CONF_RECORDS: ["ok", "bad name!"]},
            {CONF_RECORDS: "invalid_record"},
            {"name": "bad name!"},
        ),
        ({CONF_RECORDS: []}, {CONF_RECORDS: "no_records"}, {}),
        (
            {CONF_RECORDS: ["a" * 60 + "." + "b" * 60 + "." + "c" * 60 + "." + "d" * 60]},
            {CONF_RECORDS: "name_too_long"},
            {"domain": "example.com"},
        ),
        ({CONF_RECORD_TYPES: []}, {CONF_RECORD_TYPES: "no_record_types"}, {}),
        ({CONF_TTL: 60}, {CONF_TTL: "invalid_ttl"}, {"ttl": "60", "min": "300"}),
        ({CONF_TTL: 300.5}, {CONF_TTL: "invalid_ttl"}, {"ttl": "300.5", "max": "2592000"}),
    ],
)
async def test_records_step_errors(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    setup_entry: AsyncMock,
    changes: dict[str, Any],
    errors: dict[str, str],
    placeholders: dict[str, str],
) -> None:
    """Each bad value is shown on its field and named in the message; nothing is created."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _credential(fake_gandi)
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**RECORDS, **changes}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert placeholders.items() <= result["description_placeholders"].items()
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

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SECRET: "tökén"}
    )
    assert result["errors"] == {CONF_SECRET: "invalid_secret"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SECRET: f"{TOKEN}\n"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_SECRET] == TOKEN


async def test_reconfigure(
    hass: HomeAssistant, fake_gandi: FakeGandi, setup_entry: AsyncMock
) -> None:
    """Reconfigure changes the records, and keeps the credential when the secret stays empty."""
    entry = _entry(fake_gandi, **{CONF_SECRET: TOKEN})
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    same_credential = {CONF_CREDENTIAL_KIND: "token", CONF_ADVANCED: {CONF_API_URL: fake_gandi.url}}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            **same_credential,
            CONF_RECORDS: ["bad name!"],
            CONF_RECORD_TYPES: ["A"],
            CONF_TTL: 300,
            CONF_AUTO_SYNC: True,
        },
    )
    assert result["errors"] == {CONF_RECORDS: "invalid_record"}
    assert fake_gandi.requests == []

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            **same_credential,
            CONF_RECORDS: ["vpn"],
            CONF_RECORD_TYPES: ["AAAA"],
            CONF_TTL: 900,
            CONF_AUTO_SYNC: False,
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_RECORDS] == ["vpn"]
    assert entry.data[CONF_RECORD_TYPES] == ["AAAA"]
    assert entry.data[CONF_TTL] == 900
    assert entry.data[CONF_AUTO_SYNC] is False
    assert entry.data[CONF_SECRET] == TOKEN


async def test_reconfigure_changes_the_credential_kind_and_endpoint(
    hass: HomeAssistant, fake_gandi: FakeGandi, setup_entry: AsyncMock
) -> None:
    """Kind, secret and endpoint can change; each change is tested before it is saved."""
    entry = _entry(fake_gandi, **{CONF_SECRET: TOKEN})
    entry.add_to_hass(hass)
    records = {
        CONF_RECORDS: ["home"],
        CONF_RECORD_TYPES: ["A"],
        CONF_TTL: 300,
        CONF_AUTO_SYNC: True,
    }
    advanced = {CONF_ADVANCED: {CONF_API_URL: fake_gandi.url + "/"}}
    result = await entry.start_reconfigure_flow(hass)

    # A new kind needs its own secret.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CREDENTIAL_KIND: "api_key", **advanced, **records}
    )
    assert result["errors"] == {CONF_SECRET: "invalid_secret"}

    fake_gandi.add_token("other-domains", ["example.net"])
    fake_gandi.add_domain("example.net")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_CREDENTIAL_KIND: "token", CONF_SECRET: "other-domains", **advanced, **records},
    )
    assert result["errors"] == {"base": "domain_not_managed"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_CREDENTIAL_KIND: "token", CONF_ADVANCED: {CONF_API_URL: "ftp://x"}, **records},
    )
    # Another endpoint, even a bad one, never gets the stored token: the secret is asked too.
    assert result["errors"] == {"base": "invalid_url", CONF_SECRET: "invalid_secret"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_CREDENTIAL_KIND: "api_key", CONF_SECRET: " apikey-example\n", **advanced, **records},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_CREDENTIAL_KIND] == "api_key"
    assert entry.data[CONF_SECRET] == "apikey-example"
    assert entry.data[CONF_API_URL] == fake_gandi.url
    assert fake_gandi.requests[-1].auth_scheme == "Apikey"


OPTIONS = {
    CONF_DETECTION_MODE: "stun_https",
    CONF_STUN_SERVERS: ["127.0.0.1:3478", "tcp://[::1]:3479"],
    CONF_HTTPS_SOURCES: ["https://ip.example.net/"],
    CONF_ENTITY_SOURCES: [],
    CONF_INTERFACE_SOURCE: False,
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
    assert result["description_placeholders"]["stun_server"] == "host:notaport"

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS, CONF_HTTPS_SOURCES: ["ftp://x.example"]}
    )
    assert result["errors"] == {CONF_HTTPS_SOURCES: "invalid_https_source"}
    assert result["description_placeholders"]["https_source"] == "ftp://x.example"

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
    assert result["description_placeholders"] == {"family": "ipv4", "providers": "1", "quorum": "2"}

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
    assert result["description_placeholders"] == {"family": "ipv6", "providers": "0", "quorum": "2"}


async def test_options_entity_and_interface_sources_count_as_providers(
    hass: HomeAssistant, fake_gandi: FakeGandi, setup_entry: AsyncMock
) -> None:
    """A router entity and the host's interfaces are one provider each toward the quorum."""
    entry = _entry(fake_gandi)
    entry.add_to_hass(hass)
    one_stun = {**OPTIONS, CONF_DETECTION_MODE: "stun", CONF_STUN_SERVERS: ["127.0.0.1:3478"]}
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**one_stun, CONF_QUORUM: 3, CONF_ENTITY_SOURCES: ["sensor.wan_ip"]}
    )
    assert result["errors"] == {CONF_QUORUM: "quorum_unreachable"}
    assert result["description_placeholders"]["providers"] == "2"

    with patch.object(hass.config_entries, "async_schedule_reload"):
        result = await hass.config_entries.options.async_configure(
            result["flow_id"],
            {
                **one_stun,
                CONF_QUORUM: 3,
                CONF_ENTITY_SOURCES: ["sensor.wan_ip"],
                CONF_INTERFACE_SOURCE: True,
            },
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_ENTITY_SOURCES] == ["sensor.wan_ip"]
    assert entry.options[CONF_INTERFACE_SOURCE] is True


async def test_reconfigure_refuses_a_record_type_the_detection_cannot_serve(
    hass: HomeAssistant, fake_gandi: FakeGandi, setup_entry: AsyncMock
) -> None:
    """Options that name two IPv4 STUN servers can't make an IPv6 quorum: adding AAAA records
    is refused with the numbers, instead of records that could never be written."""
    entry = _entry(fake_gandi, **{CONF_SECRET: TOKEN})
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry,
        options={
            **OPTIONS,
            CONF_DETECTION_MODE: "stun",
            CONF_STUN_SERVERS: ["127.0.0.1:3478", "127.0.0.2:3478"],
        },
    )
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_CREDENTIAL_KIND: "token",
            CONF_ADVANCED: {CONF_API_URL: fake_gandi.url},
            CONF_RECORDS: ["home"],
            CONF_RECORD_TYPES: ["A", "AAAA"],
            CONF_TTL: 300,
            CONF_AUTO_SYNC: True,
        },
    )
    assert result["errors"] == {CONF_RECORD_TYPES: "quorum_unreachable"}
    assert result["description_placeholders"] == {
        "family": "ipv6",
        "providers": "0",
        "quorum": "2",
        "domain": "example.com",
    }
    assert entry.data[CONF_RECORD_TYPES] == ["A"]
    assert fake_gandi.requests == []


async def test_reconfigure_never_sends_the_stored_token_to_a_new_endpoint(
    hass: HomeAssistant, fake_gandi: FakeGandi, setup_entry: AsyncMock
) -> None:
    """An empty secret keeps the token only for the same kind and endpoint: a new (or
    mistyped) endpoint needs the token typed again, and nothing is sent before."""
    entry = _entry(fake_gandi, **{CONF_SECRET: TOKEN})
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_CREDENTIAL_KIND: "token",
            CONF_ADVANCED: {CONF_API_URL: "https://api.gandi.example/v5/livedns"},
            CONF_RECORDS: ["home"],
            CONF_RECORD_TYPES: ["A"],
            CONF_TTL: 300,
            CONF_AUTO_SYNC: True,
        },
    )
    assert result["errors"] == {CONF_SECRET: "invalid_secret"}
    assert fake_gandi.requests == []
    assert entry.data[CONF_API_URL] == fake_gandi.url
