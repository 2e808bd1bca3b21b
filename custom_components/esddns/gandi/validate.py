"""Validation of everything the client sends; each function raises GandiInputError.

The config flow uses these directly, so a user sees the same verdict before and after setup.
"""

from __future__ import annotations

from collections.abc import Iterable
import ipaddress
import re

import idna

from .errors import GandiInputError
from .models import MAX_TTL, MIN_TTL, RecordType

# One DNS label as LiveDNS takes it in a record name: letters, digits, hyphen, underscore
# (underscore so that service-style names such as "_vpn" stay possible), no edge hyphen.
_NAME_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
# A label of a registered domain: letters, digits, hyphen only.
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_MAX_FQDN = 253


def _to_ascii_label(label: str) -> str:
    """Lower-case one label, turning an internationalised one into its xn-- form."""
    if label.isascii():
        label = label.lower()
        if label.startswith("xn--"):
            try:
                idna.decode(label)  # a malformed punycode label is not a name
            except (idna.IDNAError, UnicodeError):
                raise GandiInputError(f"invalid internationalised label {label!r}") from None
        return label
    try:
        return idna.encode(label, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise GandiInputError("invalid internationalised label") from None


def normalize_domain(domain: str) -> str:
    """Return the domain as LiveDNS names it: ASCII (IDNA), lower-case, no trailing dot."""
    if not isinstance(domain, str):
        raise GandiInputError("the domain must be a string")
    text = domain.strip()
    if text.endswith("."):
        text = text[:-1]
    if not text:
        raise GandiInputError("the domain is empty")
    labels = [_to_ascii_label(label) for label in text.split(".")]
    if len(labels) < 2:
        raise GandiInputError(f"{text!r} is not a registered domain (it has no dot)")
    for label in labels:
        if not _DOMAIN_LABEL.match(label):
            raise GandiInputError(f"invalid label {label!r} in domain")
    if labels[-1].isdigit():
        raise GandiInputError("a domain cannot end in a numeric label")
    result = ".".join(labels)
    if len(result) > _MAX_FQDN:
        raise GandiInputError("the domain is longer than 253 characters")
    return result


def normalize_name(name: str) -> str:
    """Return a record name relative to its domain: "@" for the apex, else lower-case labels.

    A leading "*" label makes a wildcard ("*" or "*.home"). A trailing dot is refused: LiveDNS
    names are relative, and a full name would silently land under the domain a second time.
    """
    if not isinstance(name, str):
        raise GandiInputError("the record name must be a string")
    text = name.strip()
    if text == "@":
        return "@"
    if not text:
        raise GandiInputError("the record name is empty (use @ for the domain itself)")
    if text.endswith("."):
        raise GandiInputError("the record name must be relative to the domain, without a final dot")
    labels = text.split(".")
    out: list[str] = []
    for index, label in enumerate(labels):
        if label == "*" and index == 0:
            out.append("*")
            continue
        ascii_label = _to_ascii_label(label)
        if not _NAME_LABEL.match(ascii_label):
            raise GandiInputError(f"invalid label {label!r} in record name")
        out.append(ascii_label)
    result = ".".join(out)
    if len(result) > _MAX_FQDN:
        raise GandiInputError("the record name is longer than 253 characters")
    return result


def normalize_type(rtype: RecordType | str) -> RecordType:
    """Return the record type (A or AAAA), accepting any letter case."""
    if isinstance(rtype, RecordType):
        return rtype
    if isinstance(rtype, str):
        try:
            return RecordType(rtype.strip().upper())
        except ValueError:
            pass
    raise GandiInputError(f"unsupported record type {rtype!r} (A or AAAA)")


def validate_ttl(ttl: int) -> int:
    """Return the TTL if LiveDNS accepts it (an integer from MIN_TTL to MAX_TTL seconds)."""
    if isinstance(ttl, bool) or not isinstance(ttl, int):
        raise GandiInputError("the TTL must be a whole number of seconds")
    if not MIN_TTL <= ttl <= MAX_TTL:
        raise GandiInputError(f"the TTL must be between {MIN_TTL} and {MAX_TTL} seconds")
    return ttl


def canonical_address(value: str, rtype: RecordType) -> str:
    """Return the canonical text of one address of the record's family, or raise."""
    if not isinstance(value, str):
        raise GandiInputError("an address must be a string")
    text = value.strip()
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = (
            ipaddress.IPv4Address(text) if rtype is RecordType.A else ipaddress.IPv6Address(text)
        )
    except ValueError:
        raise GandiInputError(
            f"{value!r} is not an IPv{4 if rtype is RecordType.A else 6} address"
        ) from None
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id is not None:
        raise GandiInputError("an IPv6 address in DNS cannot carry a scope (%zone)")
    return str(address)


def validate_values(values: Iterable[str], rtype: RecordType | str) -> tuple[str, ...]:
    """Return the addresses in canonical form, first occurrence kept, duplicates dropped."""
    kind = normalize_type(rtype)
    if isinstance(values, str | bytes):
        # A lone string is iterable too; taking it character by character is never meant.
        raise GandiInputError("the values must be a list of addresses, not one string")
    try:
        items = list(values)
    except TypeError:
        raise GandiInputError("the values must be a list of addresses") from None
    out: dict[str, None] = {}
    for item in items:
        out.setdefault(canonical_address(item, kind), None)
    if not out:
        raise GandiInputError("at least one address is needed")
    return tuple(out)
