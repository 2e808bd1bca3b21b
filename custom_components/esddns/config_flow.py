"""Config flow: the Gandi account (credential, first record), its records, detection options.

Each step shows its form (forms.py), checks the answers (validation.py), and creates, updates
or aborts.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from homeassistant.core import callback
from homeassistant.data_entry_flow import AbortFlow

from .address_filters import FILTER_KEYS, account_policy, current_ipv6, last_seen
from .const import (
    CONF_ADDRESS_FILTERS,
    CONF_ADVANCED,
    CONF_API_URL,
    CONF_CREDENTIAL_KIND,
    CONF_DOMAIN,
    CONF_MERGED_INTO,
    CONF_NAME,
    CONF_RECORD_TYPES,
    CONF_SECRET,
    CONF_TOKEN_EXPIRES,
    DOMAIN,
    ENTRY_MINOR_VERSION,
    ENTRY_VERSION,
    SUBENTRY_RECORD,
)
from .data import EsddnsConfigEntry
from .detection import DetectionSettings
from .form_errors import FormErrors
from .forms import (
    GANDI_PLACEHOLDERS,
    options_schema,
    reauth_schema,
    reconfigure_schema,
    record_schema,
    user_schema,
)
from .gandi import RecordType, normalize_domain
from .records import FAMILY_OF_TYPE, AccountRecords, account_title, label
from .validation import (
    async_check_manages,
    async_list_domains,
    check_new_families,
    check_options,
    check_quorum,
    check_record,
    check_token_expiry,
    credential_data,
    prefix_example,
    records_elsewhere,
    same_url,
)
from .wan import Family


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

    def _held_by_another_account(self, credential: Mapping[str, str], entry: ConfigEntry) -> bool:
        """Whether an account other than ``entry`` has this kind, secret and endpoint: one
        credential is one account, whose records are its subentries."""
        return any(
            other.entry_id != entry.entry_id
            and all(other.data.get(key) == value for key, value in credential.items())
            for other in self._async_current_entries(include_ignore=False)
        )

    def _async_store_and_reload(
        self,
        entry: ConfigEntry,
        data_updates: Mapping[str, Any],
        expires: str | None,
        reason: str,
    ) -> ConfigFlowResult:
        """Store the new credential (and its expiry date: a new token has its own) and reload
        the account by hand: Home Assistant's helper for it warns (2026.x) and fails (2026.12)
        on an entry with an update listener, which the account keeps so that records take
        effect at once."""
        data = {**entry.data, **data_updates}
        data.pop(CONF_TOKEN_EXPIRES, None)
        if expires is not None:
            data[CONF_TOKEN_EXPIRES] = expires
        self.hass.config_entries.async_update_entry(entry, data=data)
        self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return self.async_abort(reason=reason)

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the credential and test it by listing the domains it manages."""
        errors = FormErrors()
        if user_input is not None:
            kind = user_input[CONF_CREDENTIAL_KIND]
            credential, errors = credential_data(
                kind, user_input[CONF_SECRET], user_input[CONF_ADVANCED][CONF_API_URL]
            )
            expires, expiry_errors = check_token_expiry(kind, user_input.get(CONF_TOKEN_EXPIRES))
            errors |= expiry_errors
            if credential and not expiry_errors:
                # One credential (kind, secret, endpoint) is one account.
                self._async_abort_entries_match(credential)
                domains, errors = await async_list_domains(self.hass, credential)
                if not errors:
                    self._credential = credential | (
                        {CONF_TOKEN_EXPIRES: expires} if expires else {}
                    )
                    self._domains = domains
                    return await self.async_step_record()
        defaults = {**(user_input or {}), **(user_input or {}).get(CONF_ADVANCED, {})}
        return self.async_show_form(
            step_id="user",
            data_schema=user_schema(defaults),
            errors=errors.errors,
            description_placeholders={**GANDI_PLACEHOLDERS, **errors.placeholders},
        )

    async def async_step_record(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The account's first record; more are added from the integration's page."""
        errors = FormErrors()
        if user_input is not None:
            domain = normalize_domain(user_input[CONF_DOMAIN])
            elsewhere = records_elsewhere(self.hass, self._credential[CONF_API_URL])
            record, errors = check_record(user_input, domain, [], elsewhere)
            families = {FAMILY_OF_TYPE[RecordType(t)] for t in record[CONF_RECORD_TYPES]}
            errors |= check_quorum(DetectionSettings.from_options({}), families, CONF_RECORD_TYPES)
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
            data_schema=record_schema(user_input or {}, self._domains),
            errors=errors.errors,
            description_placeholders={**prefix_example(None), **errors.placeholders},
        )

    async def _async_new_credential(
        self, entry: ConfigEntry, kind: str, secret: str, api_url: str, user_input: dict[str, Any]
    ) -> tuple[dict[str, str] | None, str | None, FormErrors]:
        """A new credential for ``entry`` and its token's expiry, once it manages every domain
        of the account's records; else None and why. One another account holds ends the flow."""
        credential, errors = credential_data(kind, secret, api_url)
        expires, expiry_errors = check_token_expiry(kind, user_input.get(CONF_TOKEN_EXPIRES))
        errors |= expiry_errors
        if credential and self._held_by_another_account(credential, entry):
            raise AbortFlow("already_configured")
        if credential and not errors:
            errors = await async_check_manages(self.hass, credential, _record_domains(entry))
        return (credential if not errors else None), expires, errors

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
            kind = entry.data[CONF_CREDENTIAL_KIND]
            credential, expires, errors = await self._async_new_credential(
                entry, kind, user_input[CONF_SECRET], entry.data[CONF_API_URL], user_input
            )
            if credential:
                return self._async_store_and_reload(
                    entry, {CONF_SECRET: credential[CONF_SECRET]}, expires, "reauth_successful"
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=reauth_schema(),
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
            same_place = kind == entry.data[CONF_CREDENTIAL_KIND] and same_url(
                api_url, entry.data[CONF_API_URL]
            )
            secret = user_input.get(CONF_SECRET) or (entry.data[CONF_SECRET] if same_place else "")
            credential, expires, errors = await self._async_new_credential(
                entry, kind, secret, api_url, user_input
            )
            if credential:
                return self._async_store_and_reload(
                    entry, credential, expires, "reconfigure_successful"
                )
        defaults = dict(user_input or entry.data)
        defaults.update((user_input or {}).get(CONF_ADVANCED, {}))
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=reconfigure_schema(defaults),
            description_placeholders={
                **GANDI_PLACEHOLDERS,
                **errors.placeholders,
                "account": entry.title,
            },
            errors=errors.errors,
        )


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
            credential, errors = credential_data(
                entry.data[CONF_CREDENTIAL_KIND], entry.data[CONF_SECRET], entry.data[CONF_API_URL]
            )
            if credential:
                data = getattr(entry, "runtime_data", None)
                gate = data.gate if data is not None else None
                self._domains, errors = await async_list_domains(self.hass, credential, gate)
            if errors:
                return self.async_abort(
                    reason=next(iter(errors.errors.values())),
                    description_placeholders={"account": entry.title, **errors.placeholders},
                )
        if user_input is not None:
            domain = normalize_domain(user_input[CONF_DOMAIN])
            record, errors = self._check(entry, user_input, domain, None)
            if not errors:
                return self.async_create_entry(title=label(domain, record[CONF_NAME]), data=record)
        return self.async_show_form(
            step_id="user",
            data_schema=record_schema(user_input or {}, self._domains),
            errors=errors.errors,
            description_placeholders={
                "account": entry.title,
                **prefix_example(current_ipv6(entry)),
                **errors.placeholders,
            },
        )

    def _check(
        self, entry: ConfigEntry, user_input: dict[str, Any], domain: str, changed: str | None
    ) -> tuple[dict[str, Any], FormErrors]:
        """The record's data from the form, checked against the account's other records (all
        but the ``changed`` one), other accounts', its address filters and detection options."""
        others = [
            record
            for record in AccountRecords.read(entry.subentries).records
            if record.subentry_id != changed
        ]
        elsewhere = records_elsewhere(self.hass, entry.data[CONF_API_URL], entry.entry_id)
        record, errors = check_record(
            user_input,
            domain,
            others,
            elsewhere,
            current_ipv6(entry),
            account_policy(entry.options, Family.IPV6),
        )
        return record, errors or check_new_families(entry, others, record)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a record's name, types, TTL, automatic sync or interface identifier."""
        entry = self._get_entry()
        subentry = self._get_reconfigure_subentry()
        domain = subentry.data[CONF_DOMAIN]
        errors = FormErrors()
        if user_input is not None:
            record, errors = self._check(entry, user_input, domain, subentry.subentry_id)
            if not errors:
                return self.async_update_and_abort(
                    entry, subentry, title=label(domain, record[CONF_NAME]), data=record
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=record_schema(user_input or subentry.data, None),
            errors=errors.errors,
            description_placeholders={
                "record": subentry.title,
                **prefix_example(current_ipv6(entry)),
                **errors.placeholders,
            },
        )


class EsddnsOptionsFlow(OptionsFlow):
    """How the public address is found."""

    def __init__(self) -> None:
        """Nothing to confirm yet."""
        self._confirming: dict[str, Any] | None = None

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Detection mode, custom sources, quorum and intervals."""
        errors = FormErrors()
        if user_input is not None:
            records = AccountRecords.read(self.config_entry.subentries)
            # The section's fields are stored with the others, flat.
            user_input = {**user_input, **user_input.pop(CONF_ADDRESS_FILTERS, {})}
            options, errors = check_options(
                user_input,
                records.families,
                last_seen(self.config_entry),
                self.config_entry.options,
                records.records,
            )
            # Filters that reject every address seen (a VPN that is up now) are kept when
            # the user submits them again, having read the addresses named.
            filters = {key: options.get(key) for key in FILTER_KEYS}
            # check_options says the warning only alone, when nothing else is wrong.
            warned = errors.errors == {CONF_ADDRESS_FILTERS: "filters_reject_all"}
            if warned and filters == self._confirming:
                errors = FormErrors()
            self._confirming = filters if warned else None
            if not errors:
                # Options are applied before the reload, so setup reads the new ones.
                self.hass.config_entries.async_update_entry(self.config_entry, options=options)
                self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)
                return self.async_create_entry(data=options)
        return self.async_show_form(
            step_id="init",
            data_schema=options_schema(user_input or self.config_entry.options),
            errors=errors.errors,
            description_placeholders=errors.placeholders,
        )
