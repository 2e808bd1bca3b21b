"""The form checks the flows share: each returns what it read and the errors it found (naming
the value that is wrong), and raises nothing."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from ipaddress import IPv6Address
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .address_filters import check_filters, rejecting
from .const import (
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
    CONF_PREFIX_BITS,
    CONF_QUORUM,
    CONF_RECORD_CHECK_INTERVAL,
    CONF_RECORD_TYPES,
    CONF_SECRET,
    CONF_STUN_SERVERS,
    CONF_TOKEN_EXPIRES,
    CONF_TTL,
    DOMAIN,
    LOGGER,
)
from .data import gandi_client
from .detection import DetectionSettings
from .form_errors import FormErrors
from .gandi import (
    MAX_TTL,
    MIN_TTL,
    PRODUCTION_URL,
    Credential,
    CredentialKind,
    GandiCredentialError,
    GandiError,
    GandiInputError,
    RateLimitGate,
    RecordType,
    check_record_length,
    normalize_api_url,
    normalize_name,
    validate_ttl,
)
from .records import (
    FAMILY_OF_TYPE,
    PREFIX_BITS,
    AccountRecords,
    HostPartInPrefixError,
    InvalidInterfaceIdError,
    IPAddress,
    ManagedRecord,
    in_prefix,
    parse_interface_id,
)
from .wan import (
    AddressPolicy,
    DetectionMode,
    Family,
    InvalidSourceError,
    parse_https_source,
    parse_stun_server,
)

# ----- the credential -----------------------------------------------------------------------


def credential_data(kind: str, secret: str, api_url: str) -> tuple[dict[str, str], FormErrors]:
    """The credential and endpoint the user typed, by the client's own rules (the secret
    stripped, the URL normalised), as an account stores them; empty when refused."""
    errors = FormErrors()
    try:
        url = normalize_api_url(str(api_url))
    except GandiInputError:
        errors.add("base", "invalid_url", api_url=str(api_url).strip())
        url = ""
    try:
        credential = Credential(CredentialKind(kind), secret)
    except GandiInputError:
        errors.add(CONF_SECRET, "invalid_secret")
        return {}, errors
    if not url:
        return {}, errors
    data = {
        CONF_CREDENTIAL_KIND: credential.kind.value,
        CONF_SECRET: credential.secret,
        CONF_API_URL: url,
    }
    return data, errors


def same_url(typed: str, stored: str) -> bool:
    """Whether two endpoint texts name the same endpoint."""
    try:
        return normalize_api_url(str(typed)) == normalize_api_url(stored)
    except GandiInputError:
        return False


def check_token_expiry(kind: str, value: object) -> tuple[str | None, FormErrors]:
    """The token's expiry date as stored (ISO), or None: none given, or an API key (which has
    none). A date in the past is refused, naming it."""
    errors = FormErrors()
    if kind != CredentialKind.TOKEN.value or not value:
        return None, errors
    try:
        expires = date.fromisoformat(str(value))
    except ValueError:
        errors.add(CONF_TOKEN_EXPIRES, "invalid_expiry", expires=str(value))
        return None, errors
    if expires < dt_util.now().date():
        errors.add(CONF_TOKEN_EXPIRES, "expiry_in_past", expires=expires.isoformat())
        return None, errors
    return expires.isoformat(), errors


async def async_list_domains(
    hass: HomeAssistant, credential: Mapping[str, Any], gate: RateLimitGate | None = None
) -> tuple[list[str], FormErrors]:
    """Test a credential by listing the domains it manages (through the account's ``gate``,
    when the account runs: while Gandi asks it to wait, nothing is sent)."""
    errors = FormErrors()
    try:
        domains = await gandi_client(hass, credential, gate).list_domains()
    except GandiCredentialError:
        errors.add("base", "invalid_auth")
    except GandiError as err:  # GandiInputError included: a stored credential can't be used
        errors.add("base", "cannot_connect", error=str(err))
    except Exception:  # anything else is a bug the user can only report
        LOGGER.exception("Unexpected error while testing the Gandi credential")
        errors.add("base", "unknown")
    else:
        if not domains:
            errors.add("base", "no_domains")
        return domains, errors
    return [], errors


async def async_check_manages(
    hass: HomeAssistant, credential: Mapping[str, Any], domains: set[str]
) -> FormErrors:
    """Whether the credential works and may manage every one of ``domains``."""
    listed, errors = await async_list_domains(hass, credential)
    if not errors and (missing := sorted(domains - set(listed))):
        errors.add("base", "domain_not_managed", domain=", ".join(missing))
    return errors


# ----- a record -----------------------------------------------------------------------------


def check_record(
    user_input: Mapping[str, Any],
    domain: str,
    others: list[ManagedRecord],
    elsewhere: list[tuple[str, ManagedRecord]],
    current: IPAddress | None = None,
    policy: AddressPolicy | None = None,
) -> tuple[dict[str, Any], FormErrors]:
    """A record subentry's data from the form.

    ``others`` are the account's other records, ``elsewhere`` those of the other accounts on
    the same endpoint, with their titles: one rrset kept by two records (or two accounts) has
    two writers fighting over it. With the account's IPv6 address now (``current``), a host
    address its IPv6 address filters (``policy``) reject is refused: it would never be written.
    """
    errors = FormErrors()
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
        bits = int(user_input.get(CONF_PREFIX_BITS, PREFIX_BITS))
        try:
            interface_id = parse_interface_id(text, bits)
            data[CONF_INTERFACE_ID] = str(interface_id)
            if isinstance(current, IPv6Address) and policy is not None:
                address = in_prefix(current, interface_id, bits)
                if prefixes := rejecting(policy, address):
                    errors.add(
                        CONF_INTERFACE_ID,
                        "address_filtered",
                        interface_id=text,
                        address=str(address),
                        prefixes=prefixes,
                    )
        except HostPartInPrefixError:
            errors.add(CONF_INTERFACE_ID, "host_part_in_prefix", interface_id=text, bits=str(bits))
        except InvalidInterfaceIdError:
            errors.add(CONF_INTERFACE_ID, "invalid_interface_id", interface_id=text)
        if bits != PREFIX_BITS:  # 64, the /64 of this host, stays implicit
            data[CONF_PREFIX_BITS] = bits
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
    return data, errors


def prefix_example(current: IPAddress | None) -> dict[str, str]:
    """Placeholders that show what a kept prefix does, with the current public IPv6 address
    (or a documentation one before there is any)."""
    public = current if isinstance(current, IPv6Address) else IPv6Address("2001:db8:1:2::abcd")
    return {
        "current_ipv6": str(public),
        "example_64": str(in_prefix(public, IPv6Address("::10"), 64)),
        "example_56": str(in_prefix(public, IPv6Address("::3:0:0:0:10"), 56)),
    }


def records_elsewhere(
    hass: HomeAssistant, api_url: str, entry_id: str | None = None
) -> list[tuple[str, ManagedRecord]]:
    """The records the other ESDDNS accounts keep on the same LiveDNS endpoint, with their
    titles: two tokens of one Gandi organization manage the same zones."""
    found: list[tuple[str, ManagedRecord]] = []
    for other in hass.config_entries.async_entries(DOMAIN, include_ignore=False):
        if other.entry_id == entry_id or CONF_MERGED_INTO in other.data:
            continue
        if not same_url(api_url, str(other.data.get(CONF_API_URL, PRODUCTION_URL))):
            continue
        found += [(other.title, record) for record in AccountRecords.read(other.subentries).records]
    return found


def check_new_families(
    entry: ConfigEntry, others: list[ManagedRecord], record: Mapping[str, Any]
) -> FormErrors:
    """A record that brings a family the detection options can't serve with a quorum is
    refused (the families the account's other records hold are served already)."""
    new = {FAMILY_OF_TYPE[RecordType(rtype)] for rtype in record[CONF_RECORD_TYPES]}
    new -= {key.family for other in others for key in other.keys}
    return check_quorum(DetectionSettings.from_options(entry.options), new, CONF_RECORD_TYPES)


# ----- the detection options -------------------------------------------------------------------


def check_options(
    user_input: Mapping[str, Any],
    families: Collection[Family],
    seen: Mapping[Family, Collection[IPAddress]] | None = None,
    stored: Mapping[str, Any] | None = None,
    records: Collection[ManagedRecord] = (),
) -> tuple[dict[str, Any], FormErrors]:
    """Parse the custom sources and the address filters, and check a quorum can be reached
    for every family needed, and that the filters let through an address the sources saw."""
    errors = FormErrors()
    stun = [str(text).strip() for text in user_input.get(CONF_STUN_SERVERS, [])]
    https = [str(text).strip() for text in user_input.get(CONF_HTTPS_SOURCES, [])]
    stun, https = [text for text in stun if text], [text for text in https if text]
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
    options: dict[str, Any] = {
        CONF_DETECTION_MODE: DetectionMode(user_input[CONF_DETECTION_MODE]).value,
        CONF_STUN_SERVERS: stun,
        CONF_HTTPS_SOURCES: https,
        # The entity selector has already checked these are entity ids.
        CONF_ENTITY_SOURCES: list(user_input.get(CONF_ENTITY_SOURCES, [])),
        CONF_INTERFACE_SOURCE: bool(user_input.get(CONF_INTERFACE_SOURCE, False)),
        CONF_QUORUM: int(user_input[CONF_QUORUM]),
        CONF_DETECTION_INTERVAL: int(user_input[CONF_DETECTION_INTERVAL]),
        CONF_CHANGE_CHECK_INTERVAL: int(user_input[CONF_CHANGE_CHECK_INTERVAL]),
        CONF_RECORD_CHECK_INTERVAL: int(user_input[CONF_RECORD_CHECK_INTERVAL]),
    }
    filters, filter_errors, warning = check_filters(user_input, seen or {}, stored or {}, records)
    options.update(filters)
    errors |= filter_errors
    if not errors:
        errors = check_quorum(DetectionSettings.from_options(options), families, CONF_QUORUM)
    # Filters rejecting every address seen may be meant (a VPN up now): said only when nothing
    # else is wrong, so the user who confirms them confirms nothing else.
    return options, errors or warning


def check_quorum(
    settings: DetectionSettings, families: Collection[Family], field_name: str
) -> FormErrors:
    """Each family needed must have at least ``quorum`` distinct providers."""
    errors = FormErrors()
    for family in sorted(families):
        providers = {source.provider for source in settings.sources(family)}
        if len(providers) < settings.quorum:
            errors.add(
                field_name,
                "quorum_unreachable",
                family=family.label,
                providers=str(len(providers)),
                quorum=str(settings.quorum),
            )
    return errors
