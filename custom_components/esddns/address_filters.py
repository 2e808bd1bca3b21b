"""Address filters: the prefixes a user never wants published, and those an address must fall
in, per family; checked in the options form, applied by the detection's policy."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from .const import CONF_IPV4_NEVER, CONF_IPV4_ONLY, CONF_IPV6_NEVER, CONF_IPV6_ONLY
from .form_errors import FormErrors
from .wan import AddressPolicy, Family, InvalidPrefixError, IPAddress, Prefix, parse_prefix

FILTERS = {
    Family.IPV4: (CONF_IPV4_NEVER, CONF_IPV4_ONLY),
    Family.IPV6: (CONF_IPV6_NEVER, CONF_IPV6_ONLY),
}
# In the options form's order.
FILTER_KEYS = tuple(key for keys in FILTERS.values() for key in keys)
_EXAMPLE_PREFIX = {Family.IPV4: "81.2.64.0/18", Family.IPV6: "2001:db8:1200::/40"}


def check_filters(
    user_input: Mapping[str, Any], seen: Mapping[Family, Collection[IPAddress]]
) -> tuple[dict[str, list[str]], FormErrors]:
    """The address filters, normalised (``81.2.69.142/18`` is ``81.2.64.0/18``), only those
    set; refused when a text is no prefix of its family, or when a family's filters would
    reject every public address its sources named in the last detection."""
    errors = FormErrors()
    filters: dict[str, list[str]] = {}
    for family, keys in FILTERS.items():
        version = 4 if family is Family.IPV4 else 6
        parsed: dict[str, tuple[Prefix, ...]] = {}
        for key in keys:
            prefixes: list[Prefix] = []
            for text in (str(text).strip() for text in user_input.get(key) or ()):
                if not text:
                    continue
                try:
                    prefix = parse_prefix(text, version)
                except InvalidPrefixError:
                    errors.add(
                        "base",
                        "invalid_prefix",
                        prefix=text,
                        family=family.label,
                        example=_EXAMPLE_PREFIX[family],
                    )
                    continue
                if prefix not in prefixes:
                    prefixes.append(prefix)
            parsed[key] = tuple(prefixes)
            if prefixes:
                filters[key] = [str(prefix) for prefix in prefixes]
        policy = AddressPolicy(never=parsed[keys[0]], only=parsed[keys[1]])
        public = sorted(a for a in seen.get(family, ()) if policy.rejects(a) is None)
        if public and not any(policy.filtered(address) is None for address in public):
            errors.add(
                "base",
                "filters_reject_all",
                family=family.label,
                addresses=", ".join(map(str, public)),
            )
    return filters, errors
