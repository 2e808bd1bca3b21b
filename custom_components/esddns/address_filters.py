"""Address filters: the prefixes a user never wants published, and those an address must fall
in, per family; checked in the options form, applied by the detection's policy."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState

from .const import (
    CONF_ADDRESS_FILTERS,
    CONF_IPV4_NEVER,
    CONF_IPV4_ONLY,
    CONF_IPV6_NEVER,
    CONF_IPV6_ONLY,
)
from .form_errors import FormErrors
from .records import ManagedRecord
from .wan import (
    AddressPolicy,
    Family,
    InvalidPrefixError,
    IPAddress,
    OutcomeStatus,
    Prefix,
    hold_every_public,
    holds_public,
    parse_prefix,
)

FILTERS = {
    Family.IPV4: (CONF_IPV4_NEVER, CONF_IPV4_ONLY),
    Family.IPV6: (CONF_IPV6_NEVER, CONF_IPV6_ONLY),
}
# In the options form's order.
FILTER_KEYS = tuple(key for keys in FILTERS.values() for key in keys)
_EXAMPLE_PREFIX = {Family.IPV4: "81.2.64.0/18", Family.IPV6: "2001:db8:1200::/40"}


def _version(family: Family) -> int:
    return 4 if family is Family.IPV4 else 6


def _prefixes(texts: Iterable[str], family: Family) -> tuple[Prefix, ...]:
    """The prefixes of ``family`` among stored texts (a hand-edited bad one is left out)."""
    found: list[Prefix] = []
    for text in texts:
        try:
            found.append(parse_prefix(str(text), _version(family)))
        except InvalidPrefixError:
            continue
    return tuple(found)


def address_policy(never: Iterable[str], only: Iterable[str], family: Family) -> AddressPolicy:
    """What may be published for ``family``: public addresses the stored filters let through
    (both families' prefixes may be given: each keeps its own)."""
    return AddressPolicy(never=_prefixes(never, family), only=_prefixes(only, family))


def account_policy(options: Mapping[str, Any], family: Family) -> AddressPolicy:
    """What an account's stored options let through for ``family``."""
    never_key, only_key = FILTERS[family]
    return address_policy(options.get(never_key) or (), options.get(only_key) or (), family)


def rejecting(policy: AddressPolicy, address: IPAddress) -> str | None:
    """The filter prefixes that reject ``address`` (the one it is in, or every prefix it is
    outside of), as the user typed them; None if they let it through."""
    if inside := [str(prefix) for prefix in policy.never if address in prefix]:
        return ", ".join(inside)
    if policy.only and not any(address in prefix for prefix in policy.only):
        return ", ".join(map(str, policy.only))
    return None


def check_filters(
    user_input: Mapping[str, Any],
    seen: Mapping[Family, Collection[IPAddress]],
    stored: Mapping[str, Any],
    records: Collection[ManagedRecord] = (),
) -> tuple[dict[str, list[str]], FormErrors, FormErrors]:
    """The address filters, normalised (``81.2.69.142/18`` is ``81.2.64.0/18``) and sorted,
    only those set.

    Refused, naming the value: text that is no prefix of its family, prefixes never to publish
    that together hold every public address, one to publish only from that holds none. A change
    of a family's filters is checked against the public addresses its sources named in the last
    detection (``seen``, filtered ones included): filters that reject a host address a record
    with an interface identifier (among ``records``) would publish from an address they let
    through are refused; filters that reject every address seen are a warning (the third value,
    to be shown only when nothing else is wrong) the user may confirm by submitting them again.
    Filters saved unchanged are not checked against what is seen: they may be doing their job.
    """
    # Said on the section: the form shows it right above the filters, not at its top.
    errors, warning = FormErrors(), FormErrors()
    filters: dict[str, list[str]] = {}
    for family, (never_key, only_key) in FILTERS.items():
        never = _read(user_input.get(never_key), family, errors)
        only = _read(user_input.get(only_key), family, errors)
        if never and hold_every_public(never, _version(family)):
            errors.add(
                CONF_ADDRESS_FILTERS,
                "prefix_holds_every_address",
                prefix=", ".join(map(str, never)),
                family=family.label,
            )
        for prefix in only:
            if not holds_public(prefix):
                errors.add(
                    CONF_ADDRESS_FILTERS,
                    "prefix_holds_no_public",
                    prefix=str(prefix),
                    family=family.label,
                )
        for key, prefixes in ((never_key, never), (only_key, only)):
            if prefixes:
                filters[key] = [str(prefix) for prefix in prefixes]
        new = AddressPolicy(never=never, only=only)
        before = account_policy(stored, family)
        if (set(new.never), set(new.only)) == (set(before.never), set(before.only)):
            continue
        public = sorted(a for a in seen.get(family, ()) if new.rejects(a) is None)
        accepted = [a for a in public if new.accepts(a)]
        for address in accepted:
            for record, host in _hosts(records, family, address):
                if rejected := rejecting(new, host):
                    errors.add(
                        CONF_ADDRESS_FILTERS,
                        "filters_reject_record",
                        record=record,
                        address=str(host),
                        prefixes=rejected,
                    )
        if public and not accepted:
            warning.add(
                CONF_ADDRESS_FILTERS,
                "filters_reject_all",
                family=family.label,
                addresses=", ".join(map(str, public)),
            )
    return filters, errors, warning


def _hosts(
    records: Iterable[ManagedRecord], family: Family, public: IPAddress
) -> Iterator[tuple[str, IPAddress]]:
    """The other hosts' addresses records with an interface identifier publish from
    ``public``, with the records' names."""
    for record in records:
        for key in record.keys:
            if key.family is family and (host := record.desired(key, public)) != public:
                yield record.label, host


def _read(texts: Any, family: Family, errors: FormErrors) -> tuple[Prefix, ...]:
    """One field's prefixes, sorted, without repeats; bad text is an error naming it."""
    found: set[Prefix] = set()
    for text in (str(text).strip() for text in texts or ()):
        if not text:
            continue
        try:
            found.add(parse_prefix(text, _version(family)))
        except InvalidPrefixError:
            errors.add(
                CONF_ADDRESS_FILTERS,
                "invalid_prefix",
                prefix=text,
                family=family.label,
                example=_EXAMPLE_PREFIX[family],
            )
    # Sorted: accounts with the same filters typed in another order share one detection.
    return tuple(sorted(found, key=lambda prefix: (prefix.network_address, prefix.prefixlen)))


def current_ipv6(entry: ConfigEntry) -> IPAddress | None:
    """The account's public IPv6 address now, when it is loaded and has one."""
    data = getattr(entry, "runtime_data", None)
    if entry.state is not ConfigEntryState.LOADED or data is None or data.detection.data is None:
        return None
    address: IPAddress | None = data.detection.data.address(Family.IPV6)
    return address


def last_seen(entry: ConfigEntry) -> dict[Family, set[IPAddress]]:
    """The public addresses the sources named in the account's last detection, per family
    (those the filters rejected included): what new filters are checked against."""
    data = getattr(entry, "runtime_data", None)
    if entry.state is not ConfigEntryState.LOADED or data is None or data.detection.data is None:
        return {}
    return {
        family: {
            outcome.address
            for outcome in detection.outcomes
            if outcome.address is not None
            and outcome.status in (OutcomeStatus.ADDRESS, OutcomeStatus.FILTERED)
        }
        for family, detection in data.detection.data.detections.items()
    }
