"""Config flow: credential, then records; reauth, reconfigure and detection options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
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
from yarl import URL

from .const import (
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
    DEFAULT_AUTO_SYNC,
    DEFAULT_DETECTION_INTERVAL,
    DEFAULT_DETECTION_MODE,
    DEFAULT_QUORUM,
    DEFAULT_RECORD_CHECK_INTERVAL,
    DEFAULT_RECORD_TYPES,
    DEFAULT_RECORDS,
    DEFAULT_TTL,
    DOMAIN,
    LOGGER,
    MAX_DETECTION_INTERVAL,
    MAX_QUORUM,
    MAX_RECORD_CHECK_INTERVAL,
    MIN_DETECTION_INTERVAL,
    MIN_QUORUM,
    MIN_RECORD_CHECK_INTERVAL,
)
from .gandi import (
    MAX_TTL,
    MIN_TTL,
    PRODUCTION_URL,
    SANDBOX_URL,
    Credential,
    CredentialKind,
    GandiClient,
    GandiCredentialError,
    GandiError,
    GandiInputError,
    RecordType,
    normalize_domain,
    normalize_name,
)
from .sync import FAMILY_OF_TYPE
from .wan import (
    DetectionMode,
    Family,
    InvalidSourceError,
    parse_https_source,
    parse_stun_server,
    sources_for,
)

SECRET_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


def _user_schema(defaults: Mapping[str, Any]) -> vol.Schema:
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


def _records_schema(defaults: Mapping[str, Any], domains: list[str] | None) -> vol.Schema:
    fields: dict[Any, Any] = {}
    if domains is not None:
        fields[vol.Required(CONF_DOMAIN, default=defaults.get(CONF_DOMAIN, domains[0]))] = (
            SelectSelector(SelectSelectorConfig(options=domains, mode=SelectSelectorMode.DROPDOWN))
        )
    fields.update(
        {
            vol.Required(
                CONF_RECORDS, default=list(defaults.get(CONF_RECORDS, DEFAULT_RECORDS))
            ): TextSelector(TextSelectorConfig(multiple=True)),
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
            vol.Required(CONF_TTL, default=defaults.get(CONF_TTL, DEFAULT_TTL)): NumberSelector(
                NumberSelectorConfig(
                    min=MIN_TTL,
                    max=MAX_TTL,
                    step=1,
                    mode=NumberSelectorMode.BOX,
                    unit_of_measurement="s",
                )
            ),
            vol.Required(
                CONF_AUTO_SYNC, default=defaults.get(CONF_AUTO_SYNC, DEFAULT_AUTO_SYNC)
            ): BooleanSelector(),
        }
    )
    return vol.Schema(fields)


def _validate_records(user_input: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """Normalise the record names, types and TTL; note what is wrong in ``errors``."""
    names: list[str] = []
    try:
        for raw in user_input[CONF_RECORDS]:
            name = normalize_name(str(raw))
            if name not in names:
                names.append(name)
    except GandiInputError:
        errors[CONF_RECORDS] = "invalid_record"
    if not names and CONF_RECORDS not in errors:
        errors[CONF_RECORDS] = "invalid_record"
    types = [RecordType(rtype).value for rtype in user_input[CONF_RECORD_TYPES]]
    if not types:
        errors[CONF_RECORD_TYPES] = "no_record_types"
    return {
        CONF_RECORDS: names,
        CONF_RECORD_TYPES: sorted(set(types)),
        CONF_TTL: int(user_input[CONF_TTL]),
        CONF_AUTO_SYNC: bool(user_input[CONF_AUTO_SYNC]),
    }


async def _async_list_domains(
    hass: HomeAssistant, kind: str, secret: str, api_url: str, errors: dict[str, str]
) -> list[str]:
    """Test a credential by listing its domains; note the failure in ``errors``."""
    client = GandiClient(
        async_get_clientsession(hass), Credential(CredentialKind(kind), secret), api_url
    )
    try:
        domains = await client.list_domains()
    except GandiCredentialError:
        errors["base"] = "invalid_auth"
    except GandiError:
        errors["base"] = "cannot_connect"
    except Exception:  # anything else is a bug the user can only report
        LOGGER.exception("Unexpected error while testing the Gandi credential")
        errors["base"] = "unknown"
    else:
        if not domains:
            errors["base"] = "no_domains"
        return domains
    return []


def _valid_api_url(url: str) -> bool:
    try:
        parsed = URL(url)
    except ValueError:
        return False
    return parsed.scheme in ("https", "http") and bool(parsed.host) and not parsed.user


class EsddnsConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up one Gandi domain."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing known."""
        self._credential: dict[str, Any] = {}
        self._domains: list[str] = []

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> EsddnsOptionsFlow:
        """Detection options."""
        return EsddnsOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the credential and test it by listing the domains it manages."""
        errors: dict[str, str] = {}
        if user_input is not None:
            api_url = str(user_input[CONF_ADVANCED][CONF_API_URL]).strip().rstrip("/")
            if not _valid_api_url(api_url):
                errors["base"] = "invalid_url"
            else:
                domains = await _async_list_domains(
                    self.hass,
                    user_input[CONF_CREDENTIAL_KIND],
                    user_input[CONF_SECRET],
                    api_url,
                    errors,
                )
                if not errors:
                    self._credential = {
                        CONF_CREDENTIAL_KIND: user_input[CONF_CREDENTIAL_KIND],
                        CONF_SECRET: user_input[CONF_SECRET],
                        CONF_API_URL: api_url,
                    }
                    self._domains = domains
                    return await self.async_step_records()
        defaults = {**(user_input or {}), **(user_input or {}).get(CONF_ADVANCED, {})}
        return self.async_show_form(
            step_id="user", data_schema=_user_schema(defaults), errors=errors
        )

    async def async_step_records(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the domain and the records to keep in sync."""
        errors: dict[str, str] = {}
        if user_input is not None:
            records = _validate_records(user_input, errors)
            domain = normalize_domain(user_input[CONF_DOMAIN])
            if not errors:
                await self.async_set_unique_id(domain)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=domain, data={**self._credential, CONF_DOMAIN: domain, **records}
                )
        return self.async_show_form(
            step_id="records",
            data_schema=_records_schema(user_input or {}, self._domains),
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Gandi refused the credential: ask for a new one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Take the new secret, and check it still manages the entry's domain."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            domains = await _async_list_domains(
                self.hass,
                entry.data[CONF_CREDENTIAL_KIND],
                user_input[CONF_SECRET],
                entry.data[CONF_API_URL],
                errors,
            )
            if not errors and entry.data[CONF_DOMAIN] not in domains:
                errors["base"] = "domain_not_managed"
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_SECRET: user_input[CONF_SECRET]}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_SECRET): SECRET_SELECTOR}),
            description_placeholders={"domain": entry.data[CONF_DOMAIN]},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the records, their types, TTL and automatic sync."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            records = _validate_records(user_input, errors)
            if not errors:
                return self.async_update_reload_and_abort(entry, data_updates=records)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_records_schema(user_input or entry.data, None),
            description_placeholders={"domain": entry.data[CONF_DOMAIN]},
            errors=errors,
        )


def _options_schema(defaults: Mapping[str, Any]) -> vol.Schema:
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
                CONF_RECORD_CHECK_INTERVAL,
                default=defaults.get(CONF_RECORD_CHECK_INTERVAL, DEFAULT_RECORD_CHECK_INTERVAL),
            ): minutes(MIN_RECORD_CHECK_INTERVAL, MAX_RECORD_CHECK_INTERVAL),
        }
    )


def _validate_options(
    user_input: Mapping[str, Any], families: set[Family], errors: dict[str, str]
) -> dict[str, Any]:
    """Parse the custom sources and check a quorum can be reached for every family needed."""
    stun = [
        str(text).strip() for text in user_input.get(CONF_STUN_SERVERS, []) if str(text).strip()
    ]
    https = [
        str(text).strip() for text in user_input.get(CONF_HTTPS_SOURCES, []) if str(text).strip()
    ]
    try:
        for text in stun:
            parse_stun_server(text)
    except InvalidSourceError:
        errors[CONF_STUN_SERVERS] = "invalid_stun_server"
    try:
        for text in https:
            parse_https_source(text)
    except InvalidSourceError:
        errors[CONF_HTTPS_SOURCES] = "invalid_https_source"
    options: dict[str, Any] = {
        CONF_DETECTION_MODE: DetectionMode(user_input[CONF_DETECTION_MODE]).value,
        CONF_STUN_SERVERS: stun,
        CONF_HTTPS_SOURCES: https,
        CONF_QUORUM: int(user_input[CONF_QUORUM]),
        CONF_DETECTION_INTERVAL: int(user_input[CONF_DETECTION_INTERVAL]),
        CONF_RECORD_CHECK_INTERVAL: int(user_input[CONF_RECORD_CHECK_INTERVAL]),
    }
    for family in families if not errors else ():
        providers = {
            source.provider
            for source in sources_for(
                DetectionMode(options[CONF_DETECTION_MODE]),
                family,
                stun_servers=stun,
                https_urls=https,
            )
        }
        if len(providers) < options[CONF_QUORUM]:
            errors[CONF_QUORUM] = "quorum_unreachable"
    return options


class EsddnsOptionsFlow(OptionsFlow):
    """How the public address is found."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Detection mode, custom sources, quorum and intervals."""
        errors: dict[str, str] = {}
        if user_input is not None:
            families = {
                FAMILY_OF_TYPE[RecordType(rtype)]
                for rtype in self.config_entry.data.get(CONF_RECORD_TYPES, DEFAULT_RECORD_TYPES)
            }
            options = _validate_options(user_input, families, errors)
            if not errors:
                # Options are applied before the reload, so setup reads the new ones.
                self.hass.config_entries.async_update_entry(self.config_entry, options=options)
                self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)
                return self.async_create_entry(data=options)
        return self.async_show_form(
            step_id="init",
            data_schema=_options_schema(user_input or self.config_entry.options),
            errors=errors,
        )
