"""The forms a user fills in: the credential, a record, the detection options.

Only their shape (fields, selectors, defaults); what the answers must be is validation.py's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    BooleanSelector,
    DateSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from .address_filters import FILTER_KEYS
from .const import (
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
    CONF_NAME,
    CONF_PREFIX_BITS,
    CONF_QUORUM,
    CONF_RECORD_CHECK_INTERVAL,
    CONF_RECORD_TYPES,
    CONF_SECRET,
    CONF_STUN_SERVERS,
    CONF_TOKEN_EXPIRES,
    CONF_TTL,
    DEFAULT_AUTO_SYNC,
    DEFAULT_CHANGE_CHECK_INTERVAL,
    DEFAULT_DETECTION_INTERVAL,
    DEFAULT_DETECTION_MODE,
    DEFAULT_NAME,
    DEFAULT_QUORUM,
    DEFAULT_RECORD_CHECK_INTERVAL,
    DEFAULT_RECORD_TYPES,
    DEFAULT_TTL,
    MAX_CHANGE_CHECK_INTERVAL,
    MAX_DETECTION_INTERVAL,
    MAX_QUORUM,
    MAX_RECORD_CHECK_INTERVAL,
    MIN_CHANGE_CHECK_INTERVAL,
    MIN_DETECTION_INTERVAL,
    MIN_QUORUM,
    MIN_RECORD_CHECK_INTERVAL,
)
from .gandi import PRODUCTION_URL, SANDBOX_URL, CredentialKind, RecordType
from .records import MIN_PREFIX_BITS, PREFIX_BITS
from .wan import DetectionMode

SECRET_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
# Named in the forms' descriptions through placeholders (translations hold no host names).
GANDI_PLACEHOLDERS = {
    "admin_host": "admin.gandi.net",
    "production_host": "api.gandi.net",
    "sandbox_host": "api.sandbox.gandi.net",
}


def user_schema(defaults: Mapping[str, Any]) -> vol.Schema:
    """The credential: its kind, the secret, and (folded away) the endpoint."""
    return vol.Schema(
        {
            vol.Required(
                CONF_CREDENTIAL_KIND,
                default=defaults.get(CONF_CREDENTIAL_KIND, CredentialKind.TOKEN.value),
            ): SelectSelector(
                SelectSelectorConfig(
                    options=[kind.value for kind in CredentialKind],
                    translation_key=CONF_CREDENTIAL_KIND,
                    mode=SelectSelectorMode.LIST,
                )
            ),
            vol.Required(CONF_SECRET): SECRET_SELECTOR,
            **token_expiry_field(defaults),
            vol.Required(CONF_ADVANCED): section(
                vol.Schema(
                    {
                        vol.Required(
                            CONF_API_URL, default=defaults.get(CONF_API_URL, PRODUCTION_URL)
                        ): SelectSelector(
                            SelectSelectorConfig(
                                options=[PRODUCTION_URL, SANDBOX_URL],
                                custom_value=True,
                                mode=SelectSelectorMode.DROPDOWN,
                            )
                        ),
                    }
                ),
                {"collapsed": True},
            ),
        }
    )


def token_expiry_field(defaults: Mapping[str, Any]) -> dict[Any, Any]:
    """A token's expiry date: optional, a date picker (ignored for an API key)."""
    return {
        vol.Optional(
            CONF_TOKEN_EXPIRES, description={"suggested_value": defaults.get(CONF_TOKEN_EXPIRES)}
        ): DateSelector()
    }


def reauth_schema() -> vol.Schema:
    """A new secret, and its expiry date."""
    return vol.Schema({vol.Required(CONF_SECRET): SECRET_SELECTOR, **token_expiry_field({})})


def record_schema(defaults: Mapping[str, Any], domains: list[str] | None) -> vol.Schema:
    """One record: its domain (a choice of what the credential manages), name, types, TTL."""
    fields: dict[Any, Any] = {}
    if domains is not None:
        fields[vol.Required(CONF_DOMAIN, default=defaults.get(CONF_DOMAIN, domains[0]))] = (
            SelectSelector(SelectSelectorConfig(options=domains, mode=SelectSelectorMode.DROPDOWN))
        )
    fields.update(
        {
            vol.Required(CONF_NAME, default=defaults.get(CONF_NAME, DEFAULT_NAME)): TextSelector(),
            vol.Required(
                CONF_RECORD_TYPES,
                default=list(defaults.get(CONF_RECORD_TYPES, DEFAULT_RECORD_TYPES)),
            ): SelectSelector(
                SelectSelectorConfig(
                    options=[rtype.value for rtype in RecordType],
                    multiple=True,
                    mode=SelectSelectorMode.LIST,
                )
            ),
            # No min/max on the selector: its own refusal is an untranslated "Value 60.0 is too
            # small"; validation.check_record names the value and the bounds instead.
            vol.Required(CONF_TTL, default=defaults.get(CONF_TTL, DEFAULT_TTL)): NumberSelector(
                NumberSelectorConfig(step=1, mode=NumberSelectorMode.BOX, unit_of_measurement="s")
            ),
            vol.Required(
                CONF_AUTO_SYNC, default=defaults.get(CONF_AUTO_SYNC, DEFAULT_AUTO_SYNC)
            ): BooleanSelector(),
            vol.Optional(
                CONF_INTERFACE_ID,
                description={"suggested_value": defaults.get(CONF_INTERFACE_ID)},
            ): TextSelector(),
            vol.Required(
                CONF_PREFIX_BITS, default=defaults.get(CONF_PREFIX_BITS, PREFIX_BITS)
            ): NumberSelector(
                NumberSelectorConfig(
                    min=MIN_PREFIX_BITS, max=PREFIX_BITS, step=1, mode=NumberSelectorMode.BOX
                )
            ),
        }
    )
    return vol.Schema(fields)


def reconfigure_schema(defaults: Mapping[str, Any]) -> vol.Schema:
    """The credential fields; the secret may stay empty."""
    fields: dict[Any, Any] = {}
    for key, selector in user_schema(defaults).schema.items():
        if key == CONF_SECRET:
            key = vol.Optional(CONF_SECRET)
        fields[key] = selector
    return vol.Schema(fields)


def options_schema(defaults: Mapping[str, Any]) -> vol.Schema:
    """How the public address is found: sources, quorum, intervals."""

    def minutes(low: int, high: int) -> NumberSelector:
        return NumberSelector(
            NumberSelectorConfig(
                min=low, max=high, step=1, mode=NumberSelectorMode.BOX, unit_of_measurement="min"
            )
        )

    return vol.Schema(
        {
            vol.Required(
                CONF_DETECTION_MODE,
                default=defaults.get(CONF_DETECTION_MODE, DEFAULT_DETECTION_MODE),
            ): SelectSelector(
                SelectSelectorConfig(
                    options=[mode.value for mode in DetectionMode],
                    translation_key=CONF_DETECTION_MODE,
                    mode=SelectSelectorMode.DROPDOWN,
                )
            ),
            vol.Optional(
                CONF_STUN_SERVERS, default=list(defaults.get(CONF_STUN_SERVERS, []))
            ): TextSelector(TextSelectorConfig(multiple=True)),
            vol.Optional(
                CONF_HTTPS_SOURCES, default=list(defaults.get(CONF_HTTPS_SOURCES, []))
            ): TextSelector(TextSelectorConfig(multiple=True, type=TextSelectorType.URL)),
            vol.Optional(
                CONF_ENTITY_SOURCES, default=list(defaults.get(CONF_ENTITY_SOURCES, []))
            ): EntitySelector(EntitySelectorConfig(multiple=True)),
            vol.Required(
                CONF_INTERFACE_SOURCE, default=bool(defaults.get(CONF_INTERFACE_SOURCE, False))
            ): BooleanSelector(),
            vol.Required(
                CONF_QUORUM, default=defaults.get(CONF_QUORUM, DEFAULT_QUORUM)
            ): NumberSelector(
                NumberSelectorConfig(
                    min=MIN_QUORUM, max=MAX_QUORUM, step=1, mode=NumberSelectorMode.BOX
                )
            ),
            vol.Required(
                CONF_DETECTION_INTERVAL,
                default=defaults.get(CONF_DETECTION_INTERVAL, DEFAULT_DETECTION_INTERVAL),
            ): minutes(MIN_DETECTION_INTERVAL, MAX_DETECTION_INTERVAL),
            vol.Required(
                CONF_CHANGE_CHECK_INTERVAL,
                default=defaults.get(CONF_CHANGE_CHECK_INTERVAL, DEFAULT_CHANGE_CHECK_INTERVAL),
            ): minutes(MIN_CHANGE_CHECK_INTERVAL, MAX_CHANGE_CHECK_INTERVAL),
            vol.Required(
                CONF_RECORD_CHECK_INTERVAL,
                default=defaults.get(CONF_RECORD_CHECK_INTERVAL, DEFAULT_RECORD_CHECK_INTERVAL),
            ): minutes(MIN_RECORD_CHECK_INTERVAL, MAX_RECORD_CHECK_INTERVAL),
            vol.Required(CONF_ADDRESS_FILTERS): section(
                vol.Schema(
                    {
                        vol.Optional(key, default=list(defaults.get(key, []))): TextSelector(
                            TextSelectorConfig(multiple=True)
                        )
                        for key in FILTER_KEYS
                    }
                ),
                # Open when filters are set, so that they are seen.
                {"collapsed": not any(defaults.get(key) for key in FILTER_KEYS)},
            ),
        }
    )
