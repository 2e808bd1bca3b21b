"""Config flow: the Gandi account (credential, first record), its records, detection options."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryData,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
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

from .const import (
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
    CONF_MERGED_INTO,
    CONF_NAME,
    CONF_QUORUM,
    CONF_RECORD_CHECK_INTERVAL,
    CONF_RECORD_TYPES,
    CONF_SECRET,
    CONF_STUN_SERVERS,
    CONF_TTL,
    DEFAULT_AUTO_SYNC,
    DEFAULT_DETECTION_INTERVAL,
    DEFAULT_DETECTION_MODE,
    DEFAULT_NAME,
    DEFAULT_QUORUM,
    DEFAULT_RECORD_CHECK_INTERVAL,
    DEFAULT_RECORD_TYPES,
    DEFAULT_TTL,
    DOMAIN,
    ENTRY_MINOR_VERSION,
    ENTRY_VERSION,
    LOGGER,
    MAX_DETECTION_INTERVAL,
    MAX_QUORUM,
    MAX_RECORD_CHECK_INTERVAL,
    MIN_DETECTION_INTERVAL,
    MIN_QUORUM,
    MIN_RECORD_CHECK_INTERVAL,
    SUBENTRY_RECORD,
)
from .data import EsddnsConfigEntry
from .detection import DetectionSettings
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
    check_record_length,
    normalize_api_url,
    normalize_domain,
    normalize_name,
    validate_ttl,
)
from .records import (
    FAMILY_OF_TYPE,
    AccountRecords,
    InvalidInterfaceIdError,
    ManagedRecord,
    account_title,
    families_of,
    label,
    parse_interface_id,
)
from .wan import (
    DetectionMode,
    Family,
    InvalidSourceError,
    parse_https_source,
    parse_stun_server,
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


def _record_schema(defaults: Mapping[str, Any], domains: list[str] | None) -> vol.Schema:
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
            # small"; _validate_record names the value and the bounds instead.
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
        }
    )
    return vol.Schema(fields)


class FormErrors:
    """A form's errors, keyed by field, and the placeholders that name the offending values."""

    def __init__(self) -> None:
        """Start with no error."""
        self.errors: dict[str, str] = {}
        self.placeholders: dict[str, str] = {}

    def add(self, field: str, key: str, **placeholders: str) -> None:
        """Show ``key`` on ``field`` (the first error of a field wins)."""
        self.errors.setdefault(field, key)
        for name, value in placeholders.items():
            self.placeholders.setdefault(name, value)

    def __bool__(self) -> bool:
        return bool(self.errors)


def _validate_record(
    user_input: Mapping[str, Any],
    domain: str,
    others: list[ManagedRecord],
    errors: FormErrors,
    elsewhere: list[tuple[str, ManagedRecord]],
) -> dict[str, Any]:
    """A record subentry's data from the form; what is wrong is noted, naming the bad value.

    ``others`` are the account's other records, ``elsewhere`` those of the other accounts on
    the same endpoint, with their titles: one rrset kept by two records (or two accounts) has
    two writers fighting over it.
    """
    raw = str(user_input[CONF_NAME]).strip()
    name = raw
    try:
        # A full name inside the domain (home.example.com, example.com.) is the relative name
        # it means: pasted whole, it would write home.example.com.example.com.
        name = normalize_name(raw, domain)
        check_record_length(domain, name)
    except GandiInputError as err:
        if err.code == "name_too_long":
            # As it would be written: a pasted domain is not shown twice.
            errors.add(CONF_NAME, "name_too_long", name=name, domain=domain)
        elif err.code == "name_outside_domain":
            errors.add(CONF_NAME, "name_outside_domain", name=raw, domain=domain)
        else:
            errors.add(CONF_NAME, "invalid_record", name=raw)
    types = sorted({RecordType(rtype).value for rtype in user_input[CONF_RECORD_TYPES]})
    if not types:
        errors.add(CONF_RECORD_TYPES, "no_record_types")
    ttl = user_input[CONF_TTL]
    try:
        ttl = validate_ttl(int(ttl) if float(ttl).is_integer() else ttl)
    except (GandiInputError, TypeError, ValueError, OverflowError):
        errors.add(
            CONF_TTL,
            "invalid_ttl",
            # The selector gives a float: 2592001.0 is shown as typed, not as "2.592e+06".
            ttl=str(int(ttl)) if isinstance(ttl, float) and ttl.is_integer() else str(ttl),
            min=str(MIN_TTL),
            max=str(MAX_TTL),
        )
    data: dict[str, Any] = {
        CONF_DOMAIN: domain,
        CONF_NAME: name,
        CONF_RECORD_TYPES: types,
        CONF_TTL: ttl,
        CONF_AUTO_SYNC: bool(user_input[CONF_AUTO_SYNC]),
    }
    if text := str(user_input.get(CONF_INTERFACE_ID) or "").strip():
        try:
            data[CONF_INTERFACE_ID] = str(parse_interface_id(text))
        except InvalidInterfaceIdError:
            errors.add(CONF_INTERFACE_ID, "invalid_interface_id", interface_id=text)
        if RecordType.AAAA.value not in types:
            errors.add(CONF_INTERFACE_ID, "interface_id_needs_aaaa", interface_id=text)
    for account, other in [(None, other) for other in others] + list(elsewhere):
        if (other.domain, other.name) != (domain, name):
            continue
        if taken := [rtype.value for rtype in other.types if rtype.value in types]:
            existing = f"{other.label} {', '.join(taken)}"
            if account is None:
                errors.add("base", "record_exists", existing=existing)
            else:
                errors.add("base", "record_kept_elsewhere", existing=existing, account=account)
    return data


def _records_elsewhere(
    hass: HomeAssistant, api_url: str, entry_id: str | None = None
) -> list[tuple[str, ManagedRecord]]:
    """The records the other ESDDNS accounts keep on the same LiveDNS endpoint, with their
    titles: two tokens of one Gandi organization manage the same zones."""
    found: list[tuple[str, ManagedRecord]] = []
    for other in hass.config_entries.async_entries(DOMAIN, include_ignore=False):
        if other.entry_id == entry_id or CONF_MERGED_INTO in other.data:
            continue
        if not _same_url(api_url, str(other.data.get(CONF_API_URL, PRODUCTION_URL))):
            continue
        found += [(other.title, record) for record in AccountRecords.read(other.subentries).records]
    return found


def _credential_from(
    kind: str, secret: str, api_url: str, errors: FormErrors
) -> tuple[Credential, str] | None:
    """The credential and endpoint the user typed, by the client's own rules; None if refused."""
    try:
        url = normalize_api_url(str(api_url))
    except GandiInputError:
        errors.add("base", "invalid_url", api_url=str(api_url).strip())
        url = ""
    try:
        credential = Credential(CredentialKind(kind), secret)
    except GandiInputError:
        errors.add(CONF_SECRET, "invalid_secret")
        return None
    return (credential, url) if url else None


async def _async_list_domains(
    hass: HomeAssistant, credential: Credential, api_url: str, errors: FormErrors
) -> list[str]:
    """Test a credential by listing its domains; note the failure in ``errors``."""
    client = GandiClient(async_get_clientsession(hass), credential, api_url)
    try:
        domains = await client.list_domains()
    except GandiCredentialError:
        errors.add("base", "invalid_auth")
    except GandiError as err:
        errors.add("base", "cannot_connect", error=str(err))
    except Exception:  # anything else is a bug the user can only report
        LOGGER.exception("Unexpected error while testing the Gandi credential")
        errors.add("base", "unknown")
    else:
        if not domains:
            errors.add("base", "no_domains")
        return domains
    return []


def _same_url(typed: str, stored: str) -> bool:
    try:
        return normalize_api_url(str(typed)) == normalize_api_url(stored)
    except GandiInputError:
        return False


async def _async_manages(
    hass: HomeAssistant,
    credential: Credential,
    api_url: str,
    domains: set[str],
    errors: FormErrors,
) -> bool:
    """Whether the credential works and may manage every one of ``domains``."""
    listed = await _async_list_domains(hass, credential, api_url, errors)
    if not errors and (missing := sorted(domains - set(listed))):
        errors.add("base", "domain_not_managed", domain=", ".join(missing))
    return not errors


def _credential_data(credential: Credential, api_url: str) -> dict[str, str]:
    return {
        CONF_CREDENTIAL_KIND: credential.kind.value,
        CONF_SECRET: credential.secret,
        CONF_API_URL: api_url,
    }


def _record_domains(entry: ConfigEntry) -> set[str]:
    return {record.domain for record in AccountRecords.read(entry.subentries).records}


class EsddnsConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up one Gandi account and its first record."""

    VERSION = ENTRY_VERSION
    MINOR_VERSION = ENTRY_MINOR_VERSION

    def __init__(self) -> None:
        """Start with nothing known."""
        self._credential: dict[str, Any] = {}
        self._domains: list[str] = []

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: EsddnsConfigEntry) -> EsddnsOptionsFlow:
        """Detection options."""
        return EsddnsOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Records are added one by one: "+ Add record" on the integration's page (not on a
        0.1.0 entry merged into another account, which only waits to be removed)."""
        if CONF_MERGED_INTO in config_entry.data:
            return {}
        return {SUBENTRY_RECORD: RecordSubentryFlow}

    def _held_by_another_account(
        self, credential: Credential, api_url: str, entry: ConfigEntry | None = None
    ) -> bool:
        """Whether an account other than ``entry`` has this kind, secret and endpoint: one
        credential is one account, whose records are its subentries."""
        data = _credential_data(credential, api_url)
        return any(
            (entry is None or other.entry_id != entry.entry_id)
            and all(other.data.get(key) == value for key, value in data.items())
            for other in self._async_current_entries(include_ignore=False)
        )

    def _async_update_reload_and_abort(
        self, entry: ConfigEntry, data_updates: Mapping[str, Any], reason: str
    ) -> ConfigFlowResult:
        """Store the new credential and reload the account by hand: Home Assistant's helper
        for it warns (2026.x) and fails (2026.12) on an entry with an update listener, which
        the account keeps so that records take effect at once."""
        self.hass.config_entries.async_update_entry(entry, data={**entry.data, **data_updates})
        self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return self.async_abort(reason=reason)

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the credential and test it by listing the domains it manages."""
        errors = FormErrors()
        if user_input is not None:
            found = _credential_from(
                user_input[CONF_CREDENTIAL_KIND],
                user_input[CONF_SECRET],
                user_input[CONF_ADVANCED][CONF_API_URL],
                errors,
            )
            if found is not None:
                if self._held_by_another_account(*found):
                    return self.async_abort(reason="already_configured")
                domains = await _async_list_domains(self.hass, *found, errors)
                if not errors:
                    self._credential = _credential_data(*found)
                    self._domains = domains
                    return await self.async_step_record()
        defaults = {**(user_input or {}), **(user_input or {}).get(CONF_ADVANCED, {})}
        return self.async_show_form(
            step_id="user",
            data_schema=_user_schema(defaults),
            errors=errors.errors,
            description_placeholders=errors.placeholders,
        )

    async def async_step_record(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The account's first record; more are added from the integration's page."""
        errors = FormErrors()
        if user_input is not None:
            domain = normalize_domain(user_input[CONF_DOMAIN])
            elsewhere = _records_elsewhere(self.hass, self._credential[CONF_API_URL])
            record = _validate_record(user_input, domain, [], errors, elsewhere)
            _check_quorum(
                DetectionSettings.from_options({}),
                {FAMILY_OF_TYPE[RecordType(t)] for t in record[CONF_RECORD_TYPES]},
                errors,
                field=CONF_RECORD_TYPES,
            )
            if not errors:
                return self.async_create_entry(
                    title=account_title([domain]),
                    data=self._credential,
                    subentries=[
                        ConfigSubentryData(
                            data=record,
                            subentry_type=SUBENTRY_RECORD,
                            title=label(domain, record[CONF_NAME]),
                            unique_id=None,
                        )
                    ],
                )
        return self.async_show_form(
            step_id="record",
            data_schema=_record_schema(user_input or {}, self._domains),
            errors=errors.errors,
            description_placeholders=errors.placeholders,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Gandi refused the credential: ask for a new one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Take the new secret, and check it still manages the account's domains."""
        entry = self._get_reauth_entry()
        errors = FormErrors()
        if user_input is not None:
            found = _credential_from(
                entry.data[CONF_CREDENTIAL_KIND],
                user_input[CONF_SECRET],
                entry.data[CONF_API_URL],
                errors,
            )
            if found is not None and self._held_by_another_account(*found, entry):
                return self.async_abort(reason="already_configured")
            if found is not None and await _async_manages(
                self.hass, *found, _record_domains(entry), errors
            ):
                return self._async_update_reload_and_abort(
                    entry, {CONF_SECRET: found[0].secret}, "reauth_successful"
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_SECRET): SECRET_SELECTOR}),
            description_placeholders={**errors.placeholders, "account": entry.title},
            errors=errors.errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the credential: its kind, the secret and the endpoint."""
        entry = self._get_reconfigure_entry()
        errors = FormErrors()
        if user_input is not None:
            kind = user_input[CONF_CREDENTIAL_KIND]
            api_url = user_input[CONF_ADVANCED][CONF_API_URL]
            # An empty secret keeps the current one, unless the kind or the endpoint changes:
            # the stored token must never be sent to a host the user has just typed.
            same_place = kind == entry.data[CONF_CREDENTIAL_KIND] and _same_url(
                api_url, entry.data[CONF_API_URL]
            )
            secret = user_input.get(CONF_SECRET) or (entry.data[CONF_SECRET] if same_place else "")
            found = _credential_from(kind, secret, api_url, errors)
            if found is not None and self._held_by_another_account(*found, entry):
                return self.async_abort(reason="already_configured")
            if found is not None and await _async_manages(
                self.hass, *found, _record_domains(entry), errors
            ):
                return self._async_update_reload_and_abort(
                    entry, _credential_data(*found), "reconfigure_successful"
                )
        defaults = dict(user_input or entry.data)
        defaults.update((user_input or {}).get(CONF_ADVANCED, {}))
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_reconfigure_schema(defaults),
            description_placeholders={**errors.placeholders, "account": entry.title},
            errors=errors.errors,
        )


def _reconfigure_schema(defaults: Mapping[str, Any]) -> vol.Schema:
    """The credential fields; the secret may stay empty."""
    fields: dict[Any, Any] = {}
    for key, selector in _user_schema(defaults).schema.items():
        if key == CONF_SECRET:
            key = vol.Optional(CONF_SECRET)
        fields[key] = selector
    return vol.Schema(fields)


class RecordSubentryFlow(ConfigSubentryFlow):
    """Add or change one record of an account."""

    def __init__(self) -> None:
        """Nothing asked of Gandi yet."""
        self._domains: list[str] | None = None

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a record: a domain the credential manages, a name, its types."""
        entry = self._get_entry()
        errors = FormErrors()
        if self._domains is None:
            found = _credential_from(
                entry.data[CONF_CREDENTIAL_KIND],
                entry.data[CONF_SECRET],
                entry.data[CONF_API_URL],
                errors,
            )
            domains = await _async_list_domains(self.hass, *found, errors) if found else []
            if errors:
                return self.async_abort(
                    reason=next(iter(errors.errors.values())),
                    description_placeholders={"account": entry.title, **errors.placeholders},
                )
            self._domains = domains
        if user_input is not None:
            domain = normalize_domain(user_input[CONF_DOMAIN])
            others = list(AccountRecords.read(entry.subentries).records)
            elsewhere = _records_elsewhere(self.hass, entry.data[CONF_API_URL], entry.entry_id)
            record = _validate_record(user_input, domain, others, errors, elsewhere)
            _check_record_quorum(entry, [*others], record, errors)
            if not errors:
                return self.async_create_entry(title=label(domain, record[CONF_NAME]), data=record)
        return self.async_show_form(
            step_id="user",
            data_schema=_record_schema(user_input or {}, self._domains),
            errors=errors.errors,
            description_placeholders={"account": entry.title, **errors.placeholders},
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a record's name, types, TTL, automatic sync or interface identifier."""
        entry = self._get_entry()
        subentry = self._get_reconfigure_subentry()
        domain = subentry.data[CONF_DOMAIN]
        errors = FormErrors()
        if user_input is not None:
            others = [
                record
                for record in AccountRecords.read(entry.subentries).records
                if record.subentry_id != subentry.subentry_id
            ]
            elsewhere = _records_elsewhere(self.hass, entry.data[CONF_API_URL], entry.entry_id)
            record = _validate_record(user_input, domain, others, errors, elsewhere)
            _check_record_quorum(entry, others, record, errors)
            if not errors:
                return self.async_update_and_abort(
                    entry, subentry, title=label(domain, record[CONF_NAME]), data=record
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_record_schema(user_input or subentry.data, None),
            errors=errors.errors,
            description_placeholders={"record": subentry.title, **errors.placeholders},
        )


def _check_record_quorum(
    entry: ConfigEntry, others: list[ManagedRecord], record: Mapping[str, Any], errors: FormErrors
) -> None:
    """A record of a family the detection options can't serve with a quorum is refused."""
    if errors:
        return
    known = families_of(others)
    new = {FAMILY_OF_TYPE[RecordType(rtype)] for rtype in record[CONF_RECORD_TYPES]} - known
    _check_quorum(
        DetectionSettings.from_options(entry.options), new, errors, field=CONF_RECORD_TYPES
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
                CONF_RECORD_CHECK_INTERVAL,
                default=defaults.get(CONF_RECORD_CHECK_INTERVAL, DEFAULT_RECORD_CHECK_INTERVAL),
            ): minutes(MIN_RECORD_CHECK_INTERVAL, MAX_RECORD_CHECK_INTERVAL),
        }
    )


def _validate_options(
    user_input: Mapping[str, Any], families: Collection[Family], errors: FormErrors
) -> dict[str, Any]:
    """Parse the custom sources and check a quorum can be reached for every family needed."""
    stun = [
        str(text).strip() for text in user_input.get(CONF_STUN_SERVERS, []) if str(text).strip()
    ]
    https = [
        str(text).strip() for text in user_input.get(CONF_HTTPS_SOURCES, []) if str(text).strip()
    ]
    for text in stun:
        try:
            parse_stun_server(text)
        except InvalidSourceError:
            errors.add(CONF_STUN_SERVERS, "invalid_stun_server", stun_server=text)
    for text in https:
        try:
            parse_https_source(text)
        except InvalidSourceError:
            errors.add(CONF_HTTPS_SOURCES, "invalid_https_source", https_source=text)
    # The entity selector has already checked these are entity ids.
    entities = list(user_input.get(CONF_ENTITY_SOURCES, []))
    options: dict[str, Any] = {
        CONF_DETECTION_MODE: DetectionMode(user_input[CONF_DETECTION_MODE]).value,
        CONF_STUN_SERVERS: stun,
        CONF_HTTPS_SOURCES: https,
        CONF_ENTITY_SOURCES: entities,
        CONF_INTERFACE_SOURCE: bool(user_input.get(CONF_INTERFACE_SOURCE, False)),
        CONF_QUORUM: int(user_input[CONF_QUORUM]),
        CONF_DETECTION_INTERVAL: int(user_input[CONF_DETECTION_INTERVAL]),
        CONF_RECORD_CHECK_INTERVAL: int(user_input[CONF_RECORD_CHECK_INTERVAL]),
    }
    if not errors:
        _check_quorum(DetectionSettings.from_options(options), families, errors, field=CONF_QUORUM)
    return options


def _check_quorum(
    settings: DetectionSettings, families: Collection[Family], errors: FormErrors, *, field: str
) -> None:
    """Each family the records need must have at least ``quorum`` distinct providers."""
    for family in sorted(families):
        providers = {source.provider for source in settings.sources(family)}
        if len(providers) < settings.quorum:
            errors.add(
                field,
                "quorum_unreachable",
                family=family.label,
                providers=str(len(providers)),
                quorum=str(settings.quorum),
            )


class EsddnsOptionsFlow(OptionsFlow):
    """How the public address is found."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Detection mode, custom sources, quorum and intervals."""
        errors = FormErrors()
        if user_input is not None:
            families = AccountRecords.read(self.config_entry.subentries).families
            options = _validate_options(user_input, families, errors)
            if not errors:
                # Options are applied before the reload, so setup reads the new ones.
                self.hass.config_entries.async_update_entry(self.config_entry, options=options)
                self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)
                return self.async_create_entry(data=options)
        return self.async_show_form(
            step_id="init",
            data_schema=_options_schema(user_input or self.config_entry.options),
            errors=errors.errors,
            description_placeholders=errors.placeholders,
        )
