"""The account flow, reauth, reconfigure, options and the record subentry flows, against the
fake LiveDNS. Errors are checked on their field, with the English text the user reads."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from contextlib import nullcontext
import json
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntry,
    ConfigEntryState,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.esddns.const import (
    CONF_ADDRESS_FILTERS,
    CONF_ADVANCED,
    CONF_API_URL,
    CONF_AUTO_SYNC,
    CONF_CHANGE_CHECK_INTERVAL,
    CONF_CREDENTIAL_KIND,
    CONF_DETECTION_INTERVAL,
    CONF_DETECTION_MODE,
    CONF_DOMAIN,
    CONF_ENTITY_SOURCES,
    CONF_HTTPS_SOURCES,
    CONF_INTERFACE_ID,
    CONF_INTERFACE_SOURCE,
    CONF_MERGED_INTO,
    CONF_NAME,
    CONF_QUORUM,
    CONF_RECORD_CHECK_INTERVAL,
    CONF_RECORD_TYPES,
    CONF_SECRET,
    CONF_STUN_SERVERS,
    CONF_TTL,
    DOMAIN,
    ENTRY_MINOR_VERSION,
    ENTRY_VERSION,
    SUBENTRY_RECORD,
)
from custom_components.esddns.wan import Family, sources as sources_module
from devtools.fakes.gandi import FakeGandi
from tests.integration import PUBLIC, record_subentry, subentry_id

TOKEN = "token-example"
STRINGS: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "custom_components" / "esddns" / "strings.json").read_text()
)
ACCOUNT = STRINGS["config"]
# What a kept IPv6 prefix does, shown in the record form (a documentation address before the
# account has a public IPv6 address).
PREFIX_EXAMPLE = {
    "current_ipv6": "2001:db8:1:2::abcd",
    "example_64": "2001:db8:1:2::10",
    "example_56": "2001:db8:1:3::10",
}
GANDI_HOSTS = {
    "admin_host": "admin.gandi.net",
    "production_host": "api.gandi.net",
    "sandbox_host": "api.sandbox.gandi.net",
}
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
async def no_setup(hass: HomeAssistant) -> AsyncGenerator[AsyncMock]:
    """Keep the flow tests about the flow: don't set the entry up (a reload calls the mock)."""
    with (
        patch("custom_components.esddns.async_setup_entry", return_value=True) as mock,
        patch("custom_components.esddns.async_unload_entry", return_value=True),
    ):
        yield mock
        # Unloaded while still mocked: the real unload would look for what setup never made.
        for entry in hass.config_entries.async_entries(DOMAIN):
            if entry.state is ConfigEntryState.LOADED:
                await hass.config_entries.async_unload(entry.entry_id)


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
        minor_version=ENTRY_MINOR_VERSION,
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


# ----- the account: credential, then the first record --------------------------------------------


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
    assert (entry.version, entry.minor_version, entry.unique_id) == (ENTRY_VERSION, 2, None)
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
        "custom_components.esddns.data.GandiClient.list_domains",
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
    """A second token for the same domains, or the same token elsewhere, is allowed (with
    records of its own: see the next test)."""
    _account(fake_gandi, secret="token-other").add_to_hass(hass)
    _account(fake_gandi, api_url="https://api.sandbox.gandi.net/v5/livedns").add_to_hass(hass)
    _account(fake_gandi, kind="api_key").add_to_hass(hass)  # the same text as another kind
    result = await _start(hass, fake_gandi)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**HOME, CONF_NAME: "vpn"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert len(hass.config_entries.async_entries(DOMAIN)) == 4


KEPT_BY_OTHER = (
    "The ESDDNS account “example.com” already keeps home.example.com A in sync: two accounts "
    "writing one record would overwrite each other. Change or delete it in that account first."
)


async def test_a_record_another_account_keeps_is_refused(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock
) -> None:
    """Two tokens of one Gandi organization manage the same zones: a record (name and type)
    that one account keeps is refused in the other, naming the account that keeps it, in the
    first record, in Add record and in a record's reconfigure. Another type of the same name,
    or the same record on another endpoint (another zone), is free."""
    _account(fake_gandi, secret="token-other").add_to_hass(hass)
    result = await _start(hass, fake_gandi)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**HOME, CONF_NAME: "Home.example.com"}
    )
    assert shown_errors(result, ACCOUNT) == {"base": KEPT_BY_OTHER}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**HOME, CONF_RECORD_TYPES: ["AAAA"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    second: ConfigEntry = result["result"]

    result = await _add_record(hass, second)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**HOME, CONF_RECORD_TYPES: ["A", "AAAA"]}
    )
    assert shown_errors(result, RECORD) == {
        "base": "This account already keeps home.example.com AAAA in sync. Change that record "
        "instead."
    }
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**HOME, CONF_NAME: "vpn"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY

    result = await _change_record(hass, second, subentry_id(second, "vpn"))
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {CONF_NAME: "home", CONF_RECORD_TYPES: ["A"], CONF_TTL: 300, CONF_AUTO_SYNC: True},
    )
    assert shown_errors(result, RECORD) == {"base": KEPT_BY_OTHER}
    assert subentry_id(second, "vpn")  # unchanged

    sandbox = FakeGandi()  # another endpoint: its example.com is another zone
    sandbox.add_token(TOKEN, ["example.com"], name="sandbox")
    await sandbox.start()
    try:
        elsewhere = _account(sandbox, ("example.com", "www", ["A"]))
        elsewhere.add_to_hass(hass)
        result = await _add_record(hass, elsewhere)
        result = await hass.config_entries.subentries.async_configure(result["flow_id"], HOME)
        assert result["type"] is FlowResultType.CREATE_ENTRY
    finally:
        await sandbox.close()
    assert fake_gandi.writes() == []


@pytest.mark.parametrize(
    ("typed", "name", "title"),
    [
        ("home.example.com", "home", "home.example.com"),
        ("HOME.Example.COM", "home", "home.example.com"),
        ("home.example.com.", "home", "home.example.com"),
        ("*.lab.example.com", "*.lab", "*.lab.example.com"),
        ("example.com", "@", "example.com"),
        ("Example.COM.", "@", "example.com"),
    ],
)
@pytest.mark.entry(records=["vpn"])
async def test_a_full_name_pasted_is_the_name_inside_its_domain(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    init_integration: MockConfigEntry,
    typed: str,
    name: str,
    title: str,
) -> None:
    """Add record with the whole host name typed: the record is the name it means, and that is
    the rrset written at Gandi (0.2.0 wrote home.example.com.example.com)."""
    entry = init_integration
    fake_gandi.clear_requests()
    result = await _add_record(hass, entry)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**HOME, CONF_NAME: typed}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == title
    await hass.async_block_till_done(wait_background_tasks=True)
    assert subentry_id(entry, name)
    assert [r.path for r in fake_gandi.writes()] == [
        f"/v5/livedns/domains/example.com/records/{name}/A"
    ]


async def test_a_full_name_in_the_first_record_and_in_reconfigure(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock
) -> None:
    """The account's first record and a record's reconfigure read a full name the same way."""
    result = await _start(hass, fake_gandi)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**HOME, CONF_NAME: "Home.Example.com."}
    )
    entry: ConfigEntry = result["result"]
    [subentry] = entry.subentries.values()
    assert (subentry.title, subentry.data[CONF_NAME]) == ("home.example.com", "home")

    result = await _change_record(hass, entry, subentry.subentry_id)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {CONF_NAME: "NAS.example.com", CONF_RECORD_TYPES: ["A"], CONF_TTL: 300,
         CONF_AUTO_SYNC: True},
    )  # fmt: skip
    assert result["reason"] == "reconfigure_successful"
    changed = entry.subentries[subentry.subentry_id]
    assert (changed.title, changed.data[CONF_NAME]) == ("nas.example.com", "nas")


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
                CONF_NAME: "“home.” names a record outside example.com. Type the name inside the "
                "domain, such as home for home.example.com, or @ for example.com itself."
            },
        ),
        (
            {CONF_NAME: "home.example.org."},
            {
                CONF_NAME: "“home.example.org.” names a record outside example.com. Type the "
                "name inside the domain, such as home for home.example.com, or @ for example.com "
                "itself."
            },
        ),
        (
            {CONF_NAME: f"{LONG_NAME}.example.com"},
            {
                CONF_NAME: f"“{LONG_NAME}.example.com” is longer than the 253 characters a DNS "
                "name may have."
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
                CONF_INTERFACE_ID: "“2001:db8::10” has bits inside the first 64 bits, which the "
                "record takes from the detected address: give only the part after them (with 56 "
                "kept bits, subnet 3's ::10 is ::3:0:0:0:10), or keep fewer bits."
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
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {**HOME, **changes})
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
    for types, family, providers in ((["AAAA"], "IPv6", 0), (["A"], "IPv4", 1)):
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


# ----- reauth and reconfigure: the credential only -----------------------------------------------


TWO_DOMAINS = (("example.com", "home", ["A"]), ("example.org", "@", ["A"]))


async def test_reauth_takes_a_new_secret_that_manages_every_record_domain(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock
) -> None:
    """Reauth asks for the secret (and the new token's expiry date); the new one must manage the
    domain of every record."""
    entry = _account(fake_gandi, *TWO_DOMAINS, secret="expired-token")
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["account"] == "example.com, example.org"
    assert [str(key) for key in result["data_schema"].schema] == [CONF_SECRET, "token_expires"]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SECRET: "still-wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}

    fake_gandi.add_token("only-com", ["example.com"])
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SECRET: "only-com"}
    )
    assert shown_errors(result, ACCOUNT) == {
        "base": "This credential may not manage example.org, which holds records of this account."
    }
    assert result["description_placeholders"]["account"] == "example.com, example.org"

    fake_gandi.add_token("other-domains", ["example.net"])
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SECRET: "other-domains"}
    )
    assert result["description_placeholders"]["domain"] == "example.com, example.org"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SECRET: "tökén"}
    )
    assert result["errors"] == {CONF_SECRET: "invalid_secret"}
    assert entry.data[CONF_SECRET] == "expired-token"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SECRET: f"  {TOKEN}\n"}
    )
    assert shown_abort(result, ACCOUNT) == "The new credential works."
    await hass.async_block_till_done()
    assert dict(entry.data) == {
        CONF_CREDENTIAL_KIND: "token",
        CONF_SECRET: TOKEN,
        CONF_API_URL: fake_gandi.url,
    }
    assert len(entry.subentries) == 2
    assert len(no_setup.mock_calls) == 1  # reloaded with the new secret


async def test_reconfigure_form_never_holds_the_stored_secret(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock
) -> None:
    """The form shows the kind and endpoint; the secret field is empty and optional."""
    entry = _account(fake_gandi)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    # The hosts the field descriptions name come as placeholders (no host in translations).
    assert result["description_placeholders"] == {"account": "example.com", **GANDI_HOSTS}
    assert field_of(result, CONF_CREDENTIAL_KIND).default() == "token"
    secret = field_of(result, CONF_SECRET)
    assert isinstance(secret, vol.Optional)
    assert secret.default is vol.UNDEFINED
    assert TOKEN not in str(result["data_schema"].schema)
    advanced = result["data_schema"].schema[field_of(result, CONF_ADVANCED)]
    assert next(iter(advanced.schema.schema)).default() == fake_gandi.url


async def test_reconfigure_with_an_empty_secret_keeps_it_for_the_same_place(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock
) -> None:
    """Same kind and the same endpoint (as normalised): the stored token is tested and kept."""
    entry = _account(fake_gandi)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_CREDENTIAL_KIND: "token", CONF_ADVANCED: {CONF_API_URL: f" {fake_gandi.url}/ "}},
    )
    assert shown_abort(result, ACCOUNT) == "The credential was changed."
    await hass.async_block_till_done()
    assert len(no_setup.mock_calls) == 1  # reloaded with the new credential
    assert entry.data[CONF_SECRET] == TOKEN
    assert entry.data[CONF_API_URL] == fake_gandi.url
    assert [(r.path, r.principal) for r in fake_gandi.requests] == [
        ("/v5/livedns/domains", "example-token")
    ]


@pytest.fixture
async def other_gandi(socket_enabled: None) -> AsyncGenerator[FakeGandi]:
    """A second LiveDNS endpoint, where the stored token must never go."""
    fake = FakeGandi()
    fake.add_token("token-elsewhere", ["example.com"], name="elsewhere")
    fake.add_token(TOKEN, ["example.com"], name="stolen")
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


async def test_reconfigure_never_sends_the_stored_token_to_a_new_endpoint(
    hass: HomeAssistant, fake_gandi: FakeGandi, other_gandi: FakeGandi, no_setup: AsyncMock
) -> None:
    """An empty secret keeps the token only for the same kind and endpoint: a new, a bad or
    another kind's endpoint needs the secret typed again, and nothing is sent before."""
    entry = _account(fake_gandi)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_CREDENTIAL_KIND: "token", CONF_ADVANCED: {CONF_API_URL: other_gandi.url}},
    )
    assert result["errors"] == {CONF_SECRET: "invalid_secret"}
    # A bad endpoint: both are wrong, and both are said.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_CREDENTIAL_KIND: "token", CONF_ADVANCED: {CONF_API_URL: "ftp://x.example"}},
    )
    assert result["errors"] == {"base": "invalid_url", CONF_SECRET: "invalid_secret"}
    assert result["description_placeholders"]["api_url"] == "ftp://x.example"
    # Another kind at the same endpoint: the token is no API key.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_CREDENTIAL_KIND: "api_key", CONF_ADVANCED: {CONF_API_URL: fake_gandi.url}},
    )
    assert result["errors"] == {CONF_SECRET: "invalid_secret"}
    assert other_gandi.requests == []
    assert fake_gandi.requests == []
    assert entry.data[CONF_API_URL] == fake_gandi.url

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_CREDENTIAL_KIND: "token",
            CONF_SECRET: "token-elsewhere\n",
            CONF_ADVANCED: {CONF_API_URL: other_gandi.url},
        },
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert len(no_setup.mock_calls) == 1  # reloaded with the new credential
    assert [r.principal for r in other_gandi.requests] == ["elsewhere"]
    assert fake_gandi.requests == []
    assert dict(entry.data) == {
        CONF_CREDENTIAL_KIND: "token",
        CONF_SECRET: "token-elsewhere",
        CONF_API_URL: other_gandi.url,
    }


async def test_reconfigure_changes_kind_and_secret_after_testing_them(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock
) -> None:
    """A new credential must work and manage every record's domain before it is saved."""
    entry = _account(fake_gandi, *TWO_DOMAINS)
    entry.add_to_hass(hass)
    advanced = {CONF_ADVANCED: {CONF_API_URL: fake_gandi.url}}
    result = await entry.start_reconfigure_flow(hass)
    assert result["description_placeholders"] == {
        "account": "example.com, example.org",
        **GANDI_HOSTS,
    }

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CREDENTIAL_KIND: "api_key", CONF_SECRET: "wrong", **advanced}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    # The form keeps the kind just chosen.
    assert field_of(result, CONF_CREDENTIAL_KIND).default() == "api_key"

    fake_gandi.add_api_key("key-com", ["example.com"])
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CREDENTIAL_KIND: "api_key", CONF_SECRET: "key-com", **advanced}
    )
    assert shown_errors(result, ACCOUNT) == {
        "base": "This credential may not manage example.org, which holds records of this account."
    }
    assert entry.data[CONF_SECRET] == TOKEN

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_CREDENTIAL_KIND: "api_key", CONF_SECRET: " apikey-example\n", **advanced},
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert len(no_setup.mock_calls) == 1  # reloaded with the new credential
    assert dict(entry.data) == {
        CONF_CREDENTIAL_KIND: "api_key",
        CONF_SECRET: "apikey-example",
        CONF_API_URL: fake_gandi.url,
    }
    assert fake_gandi.requests[-1].auth_scheme == "Apikey"
    assert len(entry.subentries) == 2


@pytest.mark.parametrize("source", ["reauth", "reconfigure"])
async def test_credential_of_another_account_is_refused(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock, source: str
) -> None:
    """Reauth or reconfigure can't make an account a copy of another (the same kind, secret
    and endpoint): two entries would hold one credential. Nothing is sent, nothing changes."""
    _account(fake_gandi).add_to_hass(hass)
    fake_gandi.add_token("token-org", ["example.org"])
    entry = _account(fake_gandi, ("example.org", "@", ["A"]), secret="token-org")
    entry.add_to_hass(hass)
    if source == "reauth":
        result = await entry.start_reauth_flow(hass)
        user_input: dict[str, Any] = {CONF_SECRET: f"{TOKEN}\n"}
    else:
        result = await entry.start_reconfigure_flow(hass)
        user_input = {
            **_credential(fake_gandi),
            CONF_ADVANCED: {CONF_API_URL: fake_gandi.url + "/"},
        }
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert shown_abort(result, ACCOUNT) == "This Gandi credential is already set up."
    assert entry.data[CONF_SECRET] == "token-org"
    assert fake_gandi.requests == []


# ----- options: how the address is found ---------------------------------------------------------


OPTIONS = {
    CONF_DETECTION_MODE: "stun_https",
    CONF_STUN_SERVERS: ["127.0.0.1:3478", "tcp://[::1]:3479"],
    CONF_HTTPS_SOURCES: ["https://ip.example.net/"],
    CONF_ENTITY_SOURCES: [],
    CONF_INTERFACE_SOURCE: False,
    CONF_QUORUM: 2,
    CONF_DETECTION_INTERVAL: 10,
    CONF_CHANGE_CHECK_INTERVAL: 2,
    CONF_RECORD_CHECK_INTERVAL: 30,
}
# The options form as the frontend sends it: its "Address filters" section, empty, included.
FORM = {**OPTIONS, CONF_ADDRESS_FILTERS: {}}


async def test_options_flow(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock
) -> None:
    """Options are validated, named when wrong, saved, and the account reloaded to use them."""
    entry = _account(fake_gandi)
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "init"

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**FORM, CONF_STUN_SERVERS: ["host:notaport", " "]},
    )
    assert shown_errors(result, OPTIONS_STRINGS) == {
        CONF_STUN_SERVERS: "“host:notaport” is not a STUN server: use host, host:port or "
        "[IPv6]:port, optionally prefixed with udp://, tcp:// or udp+tcp://."
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**FORM, CONF_HTTPS_SOURCES: ["ftp://x.example"]},
    )
    assert shown_errors(result, OPTIONS_STRINGS) == {
        CONF_HTTPS_SOURCES: "“ftp://x.example” is not an http or https URL without user:password@."
    }
    # One custom STUN server (UDP and TCP are one provider) and no HTTPS: no quorum of 2.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            **FORM,
            CONF_DETECTION_MODE: "stun",
            CONF_STUN_SERVERS: ["127.0.0.1:3478", "tcp://127.0.0.1:3478"],
        },
    )
    assert shown_errors(result, OPTIONS_STRINGS) == {
        CONF_QUORUM: "For IPv4, these sources come from only 1 distinct providers, fewer than "
        "the quorum of 2: no address could ever be trusted. Add sources of other providers or "
        "lower the quorum."
    }

    with patch.object(hass.config_entries, "async_schedule_reload") as reload:
        result = await hass.config_entries.options.async_configure(
            result["flow_id"],
            {
                **FORM,
                CONF_HTTPS_SOURCES: [" https://ip.example.net/ ", ""],
            },
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == OPTIONS
    reload.assert_called_once_with(entry.entry_id)


async def test_options_quorum_covers_the_families_of_all_the_records(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock
) -> None:
    """An AAAA record in another domain of the account needs an IPv6 quorum too: two IPv4 STUN
    servers are refused, naming IPv6."""
    entry = _account(fake_gandi, ("example.com", "home", ["A"]), ("example.org", "vpn", ["AAAA"]))
    entry.add_to_hass(hass)
    servers = {CONF_STUN_SERVERS: ["127.0.0.1:3478", "127.0.0.2:3478"]}
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**FORM, CONF_DETECTION_MODE: "stun", **servers},
    )
    assert result["errors"] == {CONF_QUORUM: "quorum_unreachable"}
    assert result["description_placeholders"] == {"family": "IPv6", "providers": "0", "quorum": "2"}

    # The same options for an account of A records only are fine.
    hass.config_entries.async_remove_subentry(entry, subentry_id(entry, "vpn", "example.org"))
    with patch.object(hass.config_entries, "async_schedule_reload"):
        result = await hass.config_entries.options.async_configure(
            result["flow_id"],
            {**FORM, CONF_DETECTION_MODE: "stun", **servers},
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_options_entity_and_interface_sources_count_as_providers(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock
) -> None:
    """A router entity and the host's interfaces are one provider each toward the quorum."""
    entry = _account(fake_gandi)
    entry.add_to_hass(hass)
    one_stun = {**FORM, CONF_DETECTION_MODE: "stun", CONF_STUN_SERVERS: ["127.0.0.1:3478"]}
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


# ----- record subentries: add and change one record ----------------------------------------------


async def _add_record(hass: HomeAssistant, entry: ConfigEntry) -> FlowResult[Any, Any]:
    return await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_RECORD), context={"source": SOURCE_USER}
    )


async def _change_record(
    hass: HomeAssistant, entry: ConfigEntry, record_id: str
) -> FlowResult[Any, Any]:
    """ "Change record" (MockConfigEntry's helper changed its signature after 2025.4)."""
    return await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_RECORD),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": record_id},
    )


async def test_add_record_offers_the_domains_gandi_lists(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock
) -> None:
    """ "Add record" lists the credential's domains once, then adds the record as a subentry."""
    entry = _account(fake_gandi)
    entry.add_to_hass(hass)
    fake_gandi.add_token(TOKEN, ["example.com", "example.org", "example.net"], name="three")
    result = await _add_record(hass, entry)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["description_placeholders"] == {"account": "example.com", **PREFIX_EXAMPLE}
    domain = field_of(result, CONF_DOMAIN)
    assert result["data_schema"].schema[domain].config["options"] == [
        "example.com",
        "example.net",
        "example.org",
    ]
    assert [(r.path, r.principal) for r in fake_gandi.requests] == [
        ("/v5/livedns/domains", "three")
    ]

    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**HOME, CONF_NAME: "bad name!"}
    )
    assert shown_errors(result, RECORD) == {
        CONF_NAME: "“bad name!” is not a record name. Use @ for the domain itself, or a name "
        "inside it made of letters, digits, hyphens and underscores, optionally starting with "
        "a * wildcard label."
    }
    assert result["description_placeholders"]["account"] == "example.com"
    assert len(fake_gandi.requests) == 1  # the list is not asked again

    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            **HOME,
            CONF_DOMAIN: "example.net",
            CONF_NAME: "NAS",
            CONF_RECORD_TYPES: ["AAAA"],
            CONF_TTL: 900,
            CONF_INTERFACE_ID: "::10",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "nas.example.net"
    added = next(s for s in entry.subentries.values() if s.title == "nas.example.net")
    assert added.subentry_type == SUBENTRY_RECORD
    assert dict(added.data) == {
        CONF_DOMAIN: "example.net",
        CONF_NAME: "nas",
        CONF_RECORD_TYPES: ["AAAA"],
        CONF_TTL: 900,
        CONF_AUTO_SYNC: True,
        CONF_INTERFACE_ID: "::10",
    }
    assert len(entry.subentries) == 2
    assert fake_gandi.writes() == []


@pytest.mark.parametrize(
    ("secret", "fault", "reason", "text"),
    [
        (
            "revoked",
            None,
            "invalid_auth",
            "Gandi refused the credential of example.com. Reauthenticate the account first.",
        ),
        (
            TOKEN,
            "echo-message",
            "invalid_auth",
            "Gandi refused the credential of example.com. Reauthenticate the account first.",
        ),
        (TOKEN, "503", "cannot_connect", None),
        (
            "token-no-rights",
            None,
            "no_domains",
            "The credential of example.com may not manage any domain's DNS.",
        ),
        (TOKEN, RuntimeError("boom"), "unknown", "Unexpected error; see the log."),
        (
            "two words",
            None,
            "invalid_secret",
            "The stored credential of example.com is unusable; reconfigure the account.",
        ),
    ],
)
async def test_add_record_aborts_when_the_domains_cannot_be_listed(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    no_setup: AsyncMock,
    secret: str,
    fault: str | Exception | None,
    reason: str,
    text: str | None,
) -> None:
    """Without the domain list there is nothing to offer: the flow stops, saying why."""
    entry = _account(fake_gandi, secret=secret)
    entry.add_to_hass(hass)
    if isinstance(fault, str):
        fake_gandi.fail_next(fault, status=403)
    with (
        patch(
            "custom_components.esddns.data.GandiClient.list_domains",
            side_effect=fault,
        )
        if isinstance(fault, Exception)
        else nullcontext()
    ):
        result = await _add_record(hass, entry)
    assert result["reason"] == reason
    shown = shown_abort(result, RECORD)
    if text is None:
        detail = result["description_placeholders"]["error"]
        assert TOKEN not in detail
        text = (
            f"Could not reach the Gandi API ({detail}) to list the domains of example.com. "
            "Try again later."
        )
    assert shown == text
    assert len(entry.subentries) == 1


async def test_add_record_aborts_on_a_stored_endpoint_it_cannot_use(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock
) -> None:
    """An endpoint stored before the rules were this strict is never called."""
    entry = _account(fake_gandi, api_url="https://user:pw@api.example/v5/livedns")
    entry.add_to_hass(hass)
    result = await _add_record(hass, entry)
    assert shown_abort(result, RECORD) == (
        "The stored endpoint of example.com is unusable; reconfigure the account."
    )
    assert fake_gandi.requests == []


RECORD_EXISTS = "This account already keeps {} in sync. Change that record instead."


async def test_the_same_record_and_type_twice_is_refused(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock
) -> None:
    """Two subentries writing one rrset would fight: refused, naming the record and the type;
    the same name with other types, or in another domain, is another rrset."""
    entry = _account(fake_gandi, ("example.com", "home", ["A"]), ("example.com", "@", ["AAAA"]))
    entry.add_to_hass(hass)
    result = await _add_record(hass, entry)
    for name, types, existing in (
        ("Home", ["A", "AAAA"], "home.example.com A"),
        ("@", ["AAAA"], "example.com AAAA"),
    ):
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], {**HOME, CONF_NAME: name, CONF_RECORD_TYPES: types}
        )
        assert shown_errors(result, RECORD) == {"base": RECORD_EXISTS.format(existing)}
    assert len(entry.subentries) == 2

    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**HOME, CONF_RECORD_TYPES: ["AAAA"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "home.example.com"

    result = await _add_record(hass, entry)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**HOME, CONF_DOMAIN: "example.org"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    records = sorted(
        (s.data[CONF_DOMAIN], s.data[CONF_NAME], tuple(s.data[CONF_RECORD_TYPES]))
        for s in entry.subentries.values()
    )
    assert records == [
        ("example.com", "@", ("AAAA",)),
        ("example.com", "home", ("A",)),
        ("example.com", "home", ("AAAA",)),
        ("example.org", "home", ("A",)),
    ]


async def test_add_record_errors_are_on_their_fields(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock
) -> None:
    """The record form of a subentry says what is wrong the way the first record's does."""
    entry = _account(fake_gandi)
    entry.add_to_hass(hass)
    result = await _add_record(hass, entry)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            **HOME,
            CONF_NAME: "vpn",
            CONF_RECORD_TYPES: [],
            CONF_TTL: 100,
            CONF_INTERFACE_ID: "a1:b2:c3:d4:e5:f6:07",
        },
    )
    assert shown_errors(result, RECORD) == {
        CONF_RECORD_TYPES: "Choose at least one record type.",
        CONF_TTL: "A TTL of 100 seconds is not allowed: Gandi takes a whole number of seconds "
        "from 300 to 2592000.",
        CONF_INTERFACE_ID: "“a1:b2:c3:d4:e5:f6:07” is not an interface identifier: give the "
        "last 64 bits of an IPv6 address, such as ::10 or ::a1b2:c3ff:fed4:e5f6, or a MAC "
        "address such as a1:b2:c3:d4:e5:f6.",
    }
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**HOME, CONF_NAME: "vpn", CONF_INTERFACE_ID: "::10"}
    )
    assert shown_errors(result, RECORD) == {
        CONF_INTERFACE_ID: "An interface identifier (::10) is only used for AAAA records: "
        "choose AAAA too, or leave it empty."
    }
    assert len(entry.subentries) == 1


async def test_add_record_needs_a_quorum_for_a_new_family(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock
) -> None:
    """Detection options that serve IPv4 only: an AAAA record is refused with the numbers;
    another A record is fine."""
    options = {
        CONF_DETECTION_MODE: "stun",
        CONF_STUN_SERVERS: ["127.0.0.1:3478", "127.0.0.2:3478"],
        CONF_QUORUM: 2,
    }
    entry = _account(fake_gandi, options=options)
    entry.add_to_hass(hass)
    result = await _add_record(hass, entry)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**HOME, CONF_NAME: "vpn", CONF_RECORD_TYPES: ["A", "AAAA"]}
    )
    assert shown_errors(result, RECORD) == {
        CONF_RECORD_TYPES: "For IPv6, the detection options give only 0 distinct providers, "
        "fewer than the quorum of 2: records of this type could never be written. Change the "
        "detection options (Configure) first."
    }
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**HOME, CONF_NAME: "vpn"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_reconfigure_record(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock
) -> None:
    """ "Change record": its form holds the record's values and no domain; types, TTL and
    interface identifier change; the title follows a new name; Gandi is not asked."""
    entry = _account(fake_gandi, ("example.com", "home", ["A"]), ("example.com", "vpn", ["A"]))
    entry.add_to_hass(hass)
    home = subentry_id(entry, "home")
    result = await _change_record(hass, entry, home)
    assert result["step_id"] == "reconfigure"
    assert result["description_placeholders"] == {"record": "home.example.com", **PREFIX_EXAMPLE}
    assert CONF_DOMAIN not in [str(key) for key in result["data_schema"].schema]
    assert field_of(result, CONF_NAME).default() == "home"
    assert field_of(result, CONF_RECORD_TYPES).default() == ["A"]
    assert field_of(result, CONF_TTL).default() == 300

    # Another record's name and type are refused (keeping its own, below, is not).
    form = {key: value for key, value in HOME.items() if key != CONF_DOMAIN}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**form, CONF_NAME: "vpn"}
    )
    assert shown_errors(result, RECORD) == {"base": RECORD_EXISTS.format("vpn.example.com A")}
    assert result["description_placeholders"]["record"] == "home.example.com"

    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            CONF_NAME: "NAS",
            CONF_RECORD_TYPES: ["A", "AAAA"],
            CONF_TTL: 3600,
            CONF_AUTO_SYNC: False,
            CONF_INTERFACE_ID: "A1:B2:C3:D4:E5:F6",
        },
    )
    assert shown_abort(result, RECORD) == "The record was changed."
    subentry = entry.subentries[home]
    assert subentry.title == "nas.example.com"
    assert dict(subentry.data) == {
        CONF_DOMAIN: "example.com",
        CONF_NAME: "nas",
        CONF_RECORD_TYPES: ["A", "AAAA"],
        CONF_TTL: 3600,
        CONF_AUTO_SYNC: False,
        CONF_INTERFACE_ID: "::a3b2:c3ff:fed4:e5f6",
    }

    # Its interface identifier is shown, and emptying the field drops it.
    result = await _change_record(hass, entry, home)
    assert field_of(result, CONF_INTERFACE_ID).description == {
        "suggested_value": "::a3b2:c3ff:fed4:e5f6"
    }
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {CONF_NAME: "nas", CONF_RECORD_TYPES: ["AAAA"], CONF_TTL: 3600, CONF_AUTO_SYNC: False},
    )
    assert result["reason"] == "reconfigure_successful"
    assert CONF_INTERFACE_ID not in entry.subentries[home].data
    assert entry.subentries[home].data[CONF_RECORD_TYPES] == ["AAAA"]
    assert fake_gandi.requests == []


async def test_reconfigure_record_needs_a_quorum_for_a_new_family(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock
) -> None:
    """Turning an A record into A and AAAA is refused when nothing can detect IPv6."""
    options = {
        CONF_DETECTION_MODE: "stun",
        CONF_STUN_SERVERS: ["127.0.0.1:3478", "127.0.0.2:3478"],
        CONF_QUORUM: 2,
    }
    entry = _account(fake_gandi, options=options)
    entry.add_to_hass(hass)
    result = await _change_record(hass, entry, subentry_id(entry, "home"))
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {CONF_NAME: "home", CONF_RECORD_TYPES: ["A", "AAAA"], CONF_TTL: 300, CONF_AUTO_SYNC: True},
    )
    assert result["errors"] == {CONF_RECORD_TYPES: "quorum_unreachable"}
    assert result["description_placeholders"] == {
        "record": "home.example.com",
        "family": "IPv6",
        "providers": "0",
        "quorum": "2",
        **PREFIX_EXAMPLE,
    }
    assert entry.subentries[subentry_id(entry, "home")].data[CONF_RECORD_TYPES] == ["A"]


# ----- what the user sees after adding, changing or removing a record ----------------------------


def _record_entities(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, str | None]:
    """Entity id → the record subentry it belongs to (None: the account's own)."""
    registry = er.async_get(hass)
    return {
        entity.entity_id: entity.config_subentry_id
        for entity in er.async_entries_for_config_entry(registry, entry.entry_id)
    }


def _devices(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, str | None]:
    """Device name → the name of the device it is reached through."""
    registry = dr.async_get(hass)
    devices = dr.async_entries_for_config_entry(registry, entry.entry_id)
    by_id = {device.id: device for device in devices}
    return {
        str(device.name): (
            by_id[device.via_device_id].name if device.via_device_id in by_id else None
        )
        for device in devices
    }


async def test_records_added_changed_and_removed_take_effect_at_once(
    hass: HomeAssistant, fake_gandi: FakeGandi, init_integration: MockConfigEntry
) -> None:
    """A new record gets its device and entities and is written; a renamed one follows its new
    name; a removed one loses them; the account's title names its domains throughout."""
    entry = init_integration
    home = subentry_id(entry, "home")
    assert _devices(hass, entry) == {
        "ESDDNS example.com": None,
        "home.example.com": "ESDDNS example.com",
    }

    result = await _add_record(hass, entry)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**HOME, CONF_DOMAIN: "example.org", CONF_NAME: "vpn"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    vpn = subentry_id(entry, "vpn", "example.org")
    assert entry.title == "example.com, example.org"
    assert _devices(hass, entry) == {
        "ESDDNS example.com, example.org": None,
        "home.example.com": "ESDDNS example.com, example.org",
        "vpn.example.org": "ESDDNS example.com, example.org",
    }
    entities = _record_entities(hass, entry)
    for entity_id in (
        "sensor.vpn_example_org_a_record",
        "binary_sensor.vpn_example_org_a_drift",
        "button.vpn_example_org_sync_now",
    ):
        assert entities[entity_id] == vpn
    assert entities["sensor.home_example_com_a_record"] == home
    assert hass.states.get("sensor.vpn_example_org_a_record").state == PUBLIC
    assert fake_gandi.get_rrset("example.org", "vpn", "A").values == [PUBLIC]

    # Renamed: the same entities (their ids stay), now named after the new record, which is
    # the one written.
    result = await _change_record(hass, entry, vpn)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {CONF_NAME: "nas", CONF_RECORD_TYPES: ["A"], CONF_TTL: 600, CONF_AUTO_SYNC: True},
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert "vpn.example.org" not in _devices(hass, entry)
    assert _devices(hass, entry)["nas.example.org"] == "ESDDNS example.com, example.org"
    state = hass.states.get("sensor.vpn_example_org_a_record")
    assert state.attributes["friendly_name"] == "nas.example.org A record"
    assert state.attributes["ttl"] == 600
    assert fake_gandi.get_rrset("example.org", "nas", "A").values == [PUBLIC]

    hass.config_entries.async_remove_subentry(entry, vpn)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.title == "example.com"
    assert _devices(hass, entry) == {
        "ESDDNS example.com": None,
        "home.example.com": "ESDDNS example.com",
    }
    entities = _record_entities(hass, entry)
    assert vpn not in entities.values()
    assert hass.states.get("sensor.vpn_example_org_a_record") is None
    assert "sensor.home_example_com_a_record" in entities
    assert hass.states.get("sensor.home_example_com_a_record").state == PUBLIC


async def test_an_entry_merged_by_the_migration_offers_no_add_record(hass: HomeAssistant) -> None:
    """A 0.1.0 entry merged into another account lives until its removal task runs: no
    "Add record" on it, which would have nowhere to go."""
    merged = MockConfigEntry(domain=DOMAIN, version=2, data={CONF_MERGED_INTO: "other"})
    merged.add_to_hass(hass)
    assert merged.supported_subentry_types == {}


@pytest.mark.parametrize("step", ["user", "reconfigure"])
async def test_field_descriptions_name_gandi_hosts_through_placeholders(
    hass: HomeAssistant, fake_gandi: FakeGandi, no_setup: AsyncMock, step: str
) -> None:
    """The credential's and the endpoint's descriptions name Gandi's hosts: they come from the
    flow's placeholders (translations hold none), and each one the texts use is given."""
    if step == "user":
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    else:
        entry = _account(fake_gandi)
        entry.add_to_hass(hass)
        result = await entry.start_reconfigure_flow(hass)
    texts = ACCOUNT["step"][step]
    shown = [
        texts["data_description"][CONF_CREDENTIAL_KIND].format(
            **result["description_placeholders"]
        ),
        texts["sections"][CONF_ADVANCED]["data_description"][CONF_API_URL].format(
            **result["description_placeholders"]
        ),
    ]
    assert "create one at admin.gandi.net" in shown[0]
    assert "Production (api.gandi.net), the sandbox (api.sandbox.gandi.net" in shown[1]
    assert "gandi.net" not in json.dumps(texts)  # the hosts are the flow's placeholders


async def test_add_record_waits_as_gandi_asked_the_account(
    hass: HomeAssistant, fake_gandi: FakeGandi, init_integration: MockConfigEntry
) -> None:
    """Gandi answered the account's read with 429: Add record sends nothing before the wait is
    over, and says why."""
    entry = init_integration
    fake_gandi.fail_next("429", retry_after="120")
    await entry.runtime_data.records.async_refresh()
    fake_gandi.clear_requests()
    result = await _add_record(hass, entry)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"
    assert "rate limited, retry in 120 s" in result["description_placeholders"]["error"]
    assert fake_gandi.requests == []
