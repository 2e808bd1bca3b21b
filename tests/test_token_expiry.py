"""A Gandi token's expiry date, known before it breaks: given where the token is typed, shown
as a sensor, and a repair (leading to re-authentication) and a problem 14 days before."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest

from custom_components.esddns.const import CONF_TOKEN_EXPIRES, DOMAIN
from devtools.fakes.gandi import FakeGandi
from tests.integration import PUBLIC, TOKEN, PublicSources, make_entry, setup_entry, tick

EXPIRES_SENSOR = "sensor.esddns_example_com_token_expires"
HEALTH = "binary_sensor.esddns_example_com_dns_up_to_date"


def _in(days: int) -> str:
    return (dt_util.now().date() + timedelta(days=days)).isoformat()


def _credential(fake: FakeGandi, **extra: Any) -> dict[str, Any]:
    return {
        "credential_kind": "token",
        "secret": TOKEN,
        "advanced": {"api_url": fake.url},
        **extra,
    }


async def test_the_account_flow_takes_the_date_and_refuses_one_in_the_past(
    hass: HomeAssistant, fake_gandi: FakeGandi, public_sources: PublicSources
) -> None:
    """A date in the past is an error on its field, naming it; a future one is stored."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    yesterday = _in(-1)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _credential(fake_gandi, token_expires=yesterday)
    )
    assert result["errors"] == {CONF_TOKEN_EXPIRES: "expiry_in_past"}
    assert result["description_placeholders"]["expires"] == yesterday
    assert fake_gandi.requests == []  # refused before anything is sent

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _credential(fake_gandi, token_expires=_in(90))
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"domain": "example.com", "name": "home", "record_types": ["A"], "ttl": 300,
         "auto_sync": True},
    )  # fmt: skip
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_TOKEN_EXPIRES] == _in(90)


async def test_an_api_key_has_no_expiry_date(hass: HomeAssistant, fake_gandi: FakeGandi) -> None:
    """A date given with an API key is not kept."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {**_credential(fake_gandi, token_expires=_in(30)), "credential_kind": "api_key",
         "secret": "apikey-example"},
    )  # fmt: skip
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"domain": "example.com", "name": "home", "record_types": ["A"], "ttl": 300,
         "auto_sync": True},
    )  # fmt: skip
    assert CONF_TOKEN_EXPIRES not in result["data"]


async def test_the_sensor_shows_the_date(
    hass: HomeAssistant, fake_gandi: FakeGandi, public_sources: PublicSources
) -> None:
    """A timestamp sensor on the account's device: the start of that day, in HA's zone."""
    entry = make_entry(fake_gandi, public_sources)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_TOKEN_EXPIRES: _in(60)})
    await setup_entry(hass, entry)
    expected = dt_util.start_of_local_day(date.fromisoformat(_in(60)))
    state = hass.states.get(EXPIRES_SENSOR)
    assert datetime.fromisoformat(state.state) == expected
    assert state.attributes["device_class"] == "timestamp"
    assert not [i for (d, i) in ir.async_get(hass).issues if d == DOMAIN]


async def test_without_a_date_the_sensor_is_unknown_and_nothing_is_raised(
    hass: HomeAssistant, fake_gandi: FakeGandi, public_sources: PublicSources
) -> None:
    await setup_entry(hass, make_entry(fake_gandi, public_sources))
    assert hass.states.get(EXPIRES_SENSOR).state == STATE_UNKNOWN
    assert not [i for (d, i) in ir.async_get(hass).issues if d == DOMAIN]


async def test_the_repair_comes_14_days_before_and_leads_to_reauthentication(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Nothing 15 days before; 14 days before, a repair that names the account and the date, and
    DNS up to date names it too; fixing the repair starts re-authentication, and a new token with
    a later date clears everything."""
    fake_gandi.set_rrset("example.com", "home", "A", [PUBLIC])
    expires = _in(20)
    entry = make_entry(fake_gandi, public_sources)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_TOKEN_EXPIRES: expires})
    await setup_entry(hass, entry)
    issue_id = f"token_expires_{entry.entry_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None

    await tick(hass, freezer, 5 * 24 * 60 + 1)  # 15 days before: still nothing
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert hass.states.get(HEALTH).state == "off"

    await tick(hass, freezer, 24 * 60)  # 14 days before
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_placeholders == {"account": "example.com", "expires": expires}
    health = hass.states.get(HEALTH)
    assert (health.state, health.attributes["token_expires"]) == ("on", [expires])

    # The repair's fix (what the Repairs dialog runs): confirm, and Home Assistant asks for the
    # new token.
    assert await async_setup_component(hass, "repairs", {})
    await hass.async_block_till_done()
    manager = repairs_flow_manager(hass)
    assert manager is not None
    flow = await manager.async_init(DOMAIN, data={"issue_id": issue_id})
    assert flow["step_id"] == "confirm"
    assert (await manager.async_configure(flow["flow_id"], {}))["type"] == "create_entry"
    await hass.async_block_till_done()
    (reauth,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert reauth["context"]["source"] == "reauth"

    result = await hass.config_entries.flow.async_configure(
        reauth["flow_id"], {"secret": TOKEN, "token_expires": _in(400)}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_TOKEN_EXPIRES] == _in(400)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert hass.states.get(HEALTH).state == "off"


@pytest.mark.parametrize(
    ("changes", "kept"),
    [
        ({"credential_kind": "api_key", "secret": "apikey-example"}, None),  # a key has none
        ({"secret": TOKEN, "token_expires": None}, None),  # a new token, no date given
    ],
)
async def test_reconfigure_replaces_or_drops_the_date(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    public_sources: PublicSources,
    changes: dict[str, Any],
    kept: str | None,
) -> None:
    """The date belongs to the token: another credential takes its own (or none)."""
    entry = make_entry(fake_gandi, public_sources)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_TOKEN_EXPIRES: _in(9)})
    await setup_entry(hass, entry)
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"token_expires_{entry.entry_id}")
    result = await entry.start_reconfigure_flow(hass)
    form = {"credential_kind": "token", "advanced": {"api_url": fake_gandi.url}, **changes}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {k: v for k, v in form.items() if v is not None}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.data.get(CONF_TOKEN_EXPIRES) == kept
    assert not ir.async_get(hass).async_get_issue(DOMAIN, f"token_expires_{entry.entry_id}")
