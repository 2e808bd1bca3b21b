"""The account flow, reauth, reconfigure, options and the record subentry flows, against the
fake LiveDNS. Errors are checked on their field, with the English text the user reads."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Mapping
import json
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import SOURCE_USER, ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

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
    CONF_INTERFACE_ID,
    CONF_INTERFACE_SOURCE,
    CONF_NAME,
    CONF_QUORUM,
    CONF_RECORD_CHECK_INTERVAL,
    CONF_RECORD_TYPES,
    CONF_SECRET,
    CONF_STUN_SERVERS,
    CONF_TTL,
    DOMAIN,
    ENTRY_VERSION,
    SUBENTRY_RECORD,
)
from custom_components.esddns.wan import Family, sources as sources_module
from devtools.fakes.gandi import FakeGandi
from tests.integration import (
    PUBLIC,
    PublicSources,
    make_entry,
    record_subentry,
    setup_entry,
    subentry_id,
)

TOKEN = "token-example"
STRINGS: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "custom_components" / "esddns" / "strings.json").read_text()
)
ACCOUNT = STRINGS["config"]
RECORD = STRINGS["config_subentries"]["record"]
OPTIONS_STRINGS = STRINGS["options"]


def shown_errors(result: FlowResult[Any, Any], strings: Mapping[str, Any]) -> dict[str, str]:
    """Each field's error as the frontend renders it: the English text, placeholders filled
    (a placeholder the flow forgot raises KeyError)."""
    placeholders = result["description_placeholders"] or {}
    return {
        field: strings["error"][key].format(**placeholders)
        for field, key in result["errors"].items()
    }


def shown_abort(result: FlowResult[Any, Any], strings: Mapping[str, Any]) -> str:
    """The abort reason as the frontend renders it."""
    assert result["type"] is FlowResultType.ABORT
    return str(strings["abort"][result["reason"]]).format(
        **(result["description_placeholders"] or {})
    )


def field_of(result: FlowResult[Any, Any], name: str) -> Any:
    """A form's schema key for ``name`` (its default, its selector via the schema)."""
    schema = result["data_schema"]
    assert schema is not None
    return next(key for key in schema.schema if key == name)


@pytest.fixture
def no_setup() -> Generator[AsyncMock]:
    """Keep the flow tests about the flow: don't set the entry up."""
    with patch("custom_components.esddns.async_setup_entry", return_value=True) as mock:
        yield mock


def _credential(fake: FakeGandi, secret: str = TOKEN, kind: str = "token") -> dict[str, Any]:
    return {
        CONF_CREDENTIAL_KIND: kind,
        CONF_SECRET: secret,
        CONF_ADVANCED: {CONF_API_URL: fake.url},
    }


HOME: dict[str, Any] = {
    CONF_DOMAIN: "example.com",
    CONF_NAME: "home",
    CONF_RECORD_TYPES: ["A"],
    CONF_TTL: 300,
    CONF_AUTO_SYNC: True,
}


def _account(
    fake: FakeGandi,
    *records: tuple[str, str, list[str]],
    secret: str = TOKEN,
    kind: str = "token",
    api_url: str | None = None,
    options: dict[str, Any] | None = None,
) -> MockConfigEntry:
    """An account entry as the flow makes it, with one record subentry per (domain, name, types)."""
    records = records or (("example.com", "home", ["A"]),)
    return MockConfigEntry(
        domain=DOMAIN,
        title=", ".join(sorted({domain for domain, _, _ in records})),
        version=ENTRY_VERSION,
        minor_version=1,
        data={
            CONF_CREDENTIAL_KIND: kind,
            CONF_SECRET: secret,
            CONF_API_URL: api_url or fake.url,
        },
        options=options or {},
        subentries_data=[record_subentry(domain, name, types) for domain, name, types in records],
    )


async def _start(hass: HomeAssistant, fake: FakeGandi) -> FlowResult[Any, Any]:
    """The account flow, past the credential step: the first record's form."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], _credential(fake))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "record"
    return result


# ----- the account: credential, then the first record ----------------------------------------


async def test_user_flow_creates_an_account_with_its_first_record(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock
) -> None:
    """The credential is tested by listing the domains, which the record form then offers; the
    entry holds the credential only, its record is a subentry."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _credential(fake_gandi)
    )
    assert result["step_id"] == "record"
    assert [(r.method, r.path, r.auth_scheme) for r in fake_gandi.requests] == [
        ("GET", "/v5/livedns/domains", "Bearer")
    ]
    domain = field_of(result, CONF_DOMAIN)
    assert result["data_schema"].schema[domain].config["options"] == [
        "example.com",
        "example.org",
    ]
    assert domain.default() == "example.com"
    assert field_of(result, CONF_NAME).default() == "@"
    assert field_of(result, CONF_RECORD_TYPES).default() == ["A"]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_DOMAIN: "example.org",
            CONF_NAME: " Home ",
            CONF_RECORD_TYPES: ["AAAA", "A"],
            CONF_TTL: 600.0,
            CONF_AUTO_SYNC: False,
            CONF_INTERFACE_ID: " A1-B2-C3-D4-E5-F6 ",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "example.org"
    assert result["data"] == {
        CONF_CREDENTIAL_KIND: "token",
        CONF_SECRET: TOKEN,
        CONF_API_URL: fake_gandi.url,
    }
    entry: ConfigEntry = result["result"]
    assert (entry.version, entry.minor_version, entry.unique_id) == (ENTRY_VERSION, 1, None)
    [subentry] = entry.subentries.values()
    assert subentry.subentry_type == SUBENTRY_RECORD
    assert subentry.title == "home.example.org"
    assert subentry.unique_id is None
    assert dict(subentry.data) == {
        CONF_DOMAIN: "example.org",
        CONF_NAME: "home",
        CONF_RECORD_TYPES: ["A", "AAAA"],
        CONF_TTL: 600,
        CONF_AUTO_SYNC: False,
        CONF_INTERFACE_ID: "::a3b2:c3ff:fed4:e5f6",
    }
    assert len(no_setup.mock_calls) == 1
    assert fake_gandi.writes() == []


async def test_apex_record_is_titled_by_its_domain(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock
) -> None:
    """The default name "@" is the domain itself; no interface identifier is stored unused."""
    result = await _start(hass, fake_gandi)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**HOME, CONF_NAME: "@", CONF_INTERFACE_ID: "  "}
    )
    [subentry] = result["result"].subentries.values()
    assert subentry.title == "example.com"
    assert CONF_INTERFACE_ID not in subentry.data


@pytest.mark.parametrize("pasted", [f"{TOKEN}\n", f"  {TOKEN} ", f"\t{TOKEN}\r\n"])
async def test_pasted_token_with_whitespace_works(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock, pasted: str
) -> None:
    """What a copy from a web page gives (a trailing newline or spaces) is the token."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _credential(fake_gandi, pasted)
    )
    assert result["step_id"] == "record"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], HOME)
    assert result["data"][CONF_SECRET] == TOKEN


async def test_api_key_credential(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock
) -> None:
    """The legacy API key is sent as `Apikey`, and stored as that kind."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _credential(fake_gandi, "apikey-example", "api_key")
    )
    assert result["step_id"] == "record"
    assert fake_gandi.requests[0].auth_scheme == "Apikey"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], HOME)
    assert result["data"][CONF_CREDENTIAL_KIND] == "api_key"


@pytest.mark.parametrize("secret", ["tökén", "two words", "tab\tinside", "   "])
async def test_unusable_secret_is_a_field_error(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock, secret: str
) -> None:
    """Non-ASCII or inner whitespace can't be a token: an error on the field, nothing sent."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _credential(fake_gandi, secret)
    )
    assert result["step_id"] == "user"
    assert shown_errors(result, ACCOUNT) == {
        CONF_SECRET: "The token or key must be printable ASCII without spaces inside it "
        "(spaces and line breaks around it are removed for you)."
    }
    assert fake_gandi.requests == []


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
async def test_bad_endpoint_is_refused_before_anything_is_sent(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock, url: str
) -> None:
    """A bad endpoint is refused by the client's own rules and named; the form keeps it."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_CREDENTIAL_KIND: "token", CONF_SECRET: TOKEN, CONF_ADVANCED: {CONF_API_URL: url}},
    )
    assert result["step_id"] == "user"
    assert shown_errors(result, ACCOUNT) == {
        "base": f"The LiveDNS endpoint “{url}” can't be used: give an http or https URL with a "
        "host, without user:password@, ?query or #fragment."
    }
    assert fake_gandi.requests == []
    advanced = field_of(result, CONF_ADVANCED)
    api_url = next(iter(result["data_schema"].schema[advanced].schema.schema))
    assert api_url.default() == url


@pytest.mark.parametrize(
    ("secret", "fault", "error"),
    [
        ("wrong-token", None, "invalid_auth"),  # 401
        (TOKEN, "echo-message", "invalid_auth"),  # 403
        (TOKEN, "503", "cannot_connect"),
        (TOKEN, "garbage", "cannot_connect"),
        ("token-no-rights", None, "no_domains"),
    ],
)
async def test_credential_errors_then_recovery(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    no_setup: AsyncMock,
    secret: str,
    fault: str | None,
    error: str,
) -> None:
    """Each failure is shown in the form, in words, never with the token; fixing it goes on
    to the record."""
    if fault is not None:
        fake_gandi.fail_next(fault, status=403)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _credential(fake_gandi, secret)
    )
    assert result["step_id"] == "user"
    assert result["errors"] == {"base": error}
    text = shown_errors(result, ACCOUNT)["base"]
    assert TOKEN not in text
    if error == "invalid_auth":
        assert text == "Gandi refused the credential. Check the token or key and its permissions."
    elif error == "no_domains":
        assert text == "The credential works, but it may not manage any domain's DNS."
    else:
        detail = result["description_placeholders"]["error"]
        assert detail
        assert text == (
            f"Could not reach the Gandi API ({detail}). "
            "Check the connection and the endpoint, then try again."
        )
    assert not hass.config_entries.async_entries(DOMAIN)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _credential(fake_gandi)
    )
    assert result["step_id"] == "record"


async def test_unknown_error_is_shown_not_raised(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    no_setup: AsyncMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug shows `unknown` and is logged, not a traceback in the UI."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    with patch(
        "custom_components.esddns.config_flow.GandiClient.list_domains",
        side_effect=RuntimeError("boom"),
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], _credential(fake_gandi)
        )
    assert shown_errors(result, ACCOUNT) == {"base": "Unexpected error; see the log."}
    assert "Unexpected error while testing the Gandi credential" in caplog.text


@pytest.mark.parametrize(
    ("kind", "secret", "url_suffix"),
    [("token", TOKEN, ""), ("token", f" {TOKEN}\n", "/"), ("api_key", "apikey-example", "")],
)
async def test_same_credential_and_endpoint_twice_is_refused(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    no_setup: AsyncMock,
    kind: str,
    secret: str,
    url_suffix: str,
) -> None:
    """The same kind, secret and endpoint (as normalised) is one account: two entries would
    write the same records twice. Nothing is asked of Gandi."""
    _account(fake_gandi, kind=kind, secret=secret.strip()).add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_CREDENTIAL_KIND: kind,
            CONF_SECRET: secret,
            CONF_ADVANCED: {CONF_API_URL: fake_gandi.url + url_suffix},
        },
    )
    assert shown_abort(result, ACCOUNT) == "This Gandi credential is already set up."
    assert fake_gandi.requests == []


async def test_another_credential_or_endpoint_is_another_account(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock
) -> None:
    """A second token for the same domains, or the same token elsewhere, is allowed."""
    _account(fake_gandi, secret="token-other").add_to_hass(hass)
    _account(fake_gandi, api_url="https://api.sandbox.gandi.net/v5/livedns").add_to_hass(hass)
    _account(fake_gandi, kind="api_key").add_to_hass(hass)  # the same text as another kind
    result = await _start(hass, fake_gandi)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], HOME)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert len(hass.config_entries.async_entries(DOMAIN)) == 4


LONG_NAME = "a" * 60 + "." + "b" * 60 + "." + "c" * 60 + "." + "d" * 60


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {CONF_NAME: "bad name!"},
            {
                CONF_NAME: "“bad name!” is not a record name. Use @ for the domain itself, or a "
                "name inside it made of letters, digits, hyphens and underscores, optionally "
                "starting with a * wildcard label."
            },
        ),
        (
            {CONF_NAME: "home."},
            {
                CONF_NAME: "“home.” is not a record name. Use @ for the domain itself, or a "
                "name inside it made of letters, digits, hyphens and underscores, optionally "
                "starting with a * wildcard label."
            },
        ),
        (
            {CONF_NAME: LONG_NAME},
            {
                CONF_NAME: f"“{LONG_NAME}.example.com” is longer than the 253 characters a DNS "
                "name may have."
            },
        ),
        ({CONF_RECORD_TYPES: []}, {CONF_RECORD_TYPES: "Choose at least one record type."}),
        (
            {CONF_TTL: 60},
            {
                CONF_TTL: "A TTL of 60 seconds is not allowed: Gandi takes a whole number of "
                "seconds from 300 to 2592000."
            },
        ),
        (
            {CONF_TTL: 300.5},
            {
                CONF_TTL: "A TTL of 300.5 seconds is not allowed: Gandi takes a whole number of "
                "seconds from 300 to 2592000."
            },
        ),
        (
            {CONF_TTL: 2592001},
            {
                CONF_TTL: "A TTL of 2592001 seconds is not allowed: Gandi takes a whole number of "
                "seconds from 300 to 2592000."
            },
        ),
        (
            {CONF_RECORD_TYPES: ["AAAA"], CONF_INTERFACE_ID: "2001:db8::10"},
            {
                CONF_INTERFACE_ID: "“2001:db8::10” is not an interface identifier: give the "
                "last 64 bits of an IPv6 address, such as ::10 or ::a1b2:c3ff:fed4:e5f6, or a "
                "MAC address such as a1:b2:c3:d4:e5:f6."
            },
        ),
        (
            {CONF_RECORD_TYPES: ["A"], CONF_INTERFACE_ID: "::10"},
            {
                CONF_INTERFACE_ID: "An interface identifier (::10) is only used for AAAA "
                "records: choose AAAA too, or leave it empty."
            },
        ),
    ],
)
async def test_first_record_errors(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    no_setup: AsyncMock,
    changes: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """Each bad value is shown on its field and named in the message; nothing is created until
    it is fixed, and the form keeps what was typed."""
    result = await _start(hass, fake_gandi)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**HOME, **changes}
    )
    assert result["step_id"] == "record"
    assert shown_errors(result, ACCOUNT) == errors
    assert not hass.config_entries.async_entries(DOMAIN)
    for name, value in changes.items():
        key = field_of(result, name)
        kept = key.description["suggested_value"] if name == CONF_INTERFACE_ID else key.default()
        assert kept == value

    result = await hass.config_entries.flow.async_configure(result["flow_id"], HOME)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_first_record_needs_a_quorum_for_its_family(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    no_setup: AsyncMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With built-in sources that can't make an IPv6 quorum (one IPv4-only STUN server), an
    AAAA record is refused with the numbers, on the types field; an A record too."""
    stun = sources_module.stun_source("stun.example.net", 3478, families=[Family.IPV4])
    monkeypatch.setattr(sources_module, "DEFAULT_STUN", (stun,))
    for name in ("DEFAULT_HTTPS", "DEFAULT_DNS", "DEFAULT_DOH"):
        monkeypatch.setattr(sources_module, name, ())
    result = await _start(hass, fake_gandi)
    for types, family, providers in ((["AAAA"], "ipv6", 0), (["A"], "ipv4", 1)):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {**HOME, CONF_RECORD_TYPES: types}
        )
        assert result["step_id"] == "record"
        assert shown_errors(result, ACCOUNT) == {
            CONF_RECORD_TYPES: f"For {family}, the detection options give only {providers} "
            "distinct providers, fewer than the quorum of 2: records of this type could never "
            "be written. Change the detection options (Configure) first."
        }
    assert not hass.config_entries.async_entries(DOMAIN)
