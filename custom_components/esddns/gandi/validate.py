"""Validation of everything the client sends; each function raises GandiInputError.

The config flow uses these directly, so a user sees the same verdict before and after setup.
Each GandiInputError carries a ``code`` for the UI and, except for secrets, the ``value`` that
was refused (shortened).
"""

from __future__ import annotations

from collections.abc import Iterable
import ipaddress
import re
from urllib.parse import urlsplit

import idna
from yarl import URL

from .const import MAX_TTL, MIN_TTL, RecordType
from .errors import GandiInputError

# One DNS label as LiveDNS takes it in a record name: letters, digits, hyphen, underscore
# (underscore so that service-style names such as "_vpn" stay possible), no edge hyphen.
_NAME_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
# A label of a registered domain: letters, digits, hyphen only.
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# The host of an API URL, once yarl made it ASCII and lower-case (IP literals are checked apart).
_URL_HOST = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*\.?$")
_MAX_FQDN = 253
_MAX_SHOWN = 64


def _shown(value: object) -> str:
    """The refused value as a UI may show it: one line, at most _MAX_SHOWN characters."""
    text = value if isinstance(value, str) else repr(value)
    text = "".join(char if char.isprintable() else "\ufffd" for char in text)
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 1] + "\u2026"
    return text


def normalize_secret(secret: str) -> str:
    """Return the token or API key as it is sent: surrounding whitespace (a copy from a web page
    brings newlines and tabs) stripped; what is left must be non-empty printable ASCII without
    inner whitespace, since anything else could split or inject HTTP headers.

    The error never holds the secret, not even in part.
    """
    if not isinstance(secret, str):
        raise GandiInputError("the credential must be a string", code="invalid_secret")
    text = secret.strip()
    if not text:
        raise GandiInputError("the credential is empty", code="invalid_secret")
    if not text.isascii() or not text.isprintable() or any(char.isspace() for char in text):
        raise GandiInputError(
            "the credential must be printable ASCII without spaces", code="invalid_secret"
        )
    return text


def normalize_api_url(url: str) -> str:
    """Return the LiveDNS API root in canonical form (no trailing slash), or raise.

    Only http(s), with a host, and without query, fragment or user:password@ (the credential
    goes in a header, never in the URL).
    """
    if not isinstance(url, str):
        raise GandiInputError("the API URL must be a string", code="invalid_api_url")
    text = url.strip().rstrip("/")
    try:
        split = urlsplit(text)
        parsed = URL(text)
        _ = parsed.port  # yarl checks the port's range only when asked
    except (TypeError, ValueError):
        raise GandiInputError(
            "the API URL is not a URL", code="invalid_api_url", value=_shown(text)
        ) from None
    if "@" in split.netloc:
        # The user:password part is left out of the shown value: it may be a secret.
        raise GandiInputError(
            "the API URL must not hold credentials (user:password@)", code="invalid_api_url"
        )
    if parsed.scheme not in ("http", "https"):
        raise GandiInputError(
            "the API URL must start with https:// (or http://)",
            code="invalid_api_url",
            value=_shown(text),
        )
    if "?" in text or "#" in text:
        raise GandiInputError(
            "the API URL must not have a query (?) or a fragment (#)",
            code="invalid_api_url",
            value=_shown(text),
        )
    host = parsed.raw_host or ""
    if not host or (not _is_ip(host) and not _URL_HOST.match(host)):
        raise GandiInputError(
            "the API URL has no valid host", code="invalid_api_url", value=_shown(text)
        )
    return str(parsed)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_record_length(domain: str, name: str) -> None:
    """Refuse a record whose full name (name.domain) is longer than DNS allows (253).

    ``domain`` and ``name`` are the normalised forms (normalize_domain, normalize_name).
    """
    if name != "@" and len(name) + 1 + len(domain) > _MAX_FQDN:
        raise GandiInputError(
            f"the record's full name is longer than {_MAX_FQDN} characters",
            code="name_too_long",
            value=_shown(f"{name}.{domain}"),
        )


def _to_ascii_label(label: str, code: str) -> str:
    """Lower-case one label, turning an internationalised one into its xn-- form."""
    if label.isascii():
        label = label.lower()
        if label.startswith("xn--"):
            try:
                idna.decode(label)  # a malformed punycode label is not a name
            except (idna.IDNAError, UnicodeError):
                raise GandiInputError(
                    f"invalid internationalised label {label!r}", code=code, value=_shown(label)
                ) from None
        return label
    try:
        return idna.encode(label, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise GandiInputError(
            "invalid internationalised label", code=code, value=_shown(label)
        ) from None


def normalize_domain(domain: str) -> str:
    """Return the domain as LiveDNS names it: ASCII (IDNA), lower-case, no trailing dot."""
    code = "invalid_domain"
    if not isinstance(domain, str):
        raise GandiInputError("the domain must be a string", code=code, value=_shown(domain))
    text = domain.strip()
    if text.endswith("."):
        text = text[:-1]
    if not text:
        raise GandiInputError("the domain is empty", code=code, value="")
    labels = [_to_ascii_label(label, code) for label in text.split(".")]
    if len(labels) < 2:
        raise GandiInputError(
            f"{text!r} is not a registered domain (it has no dot)", code=code, value=_shown(text)
        )
    for label in labels:
        if not _DOMAIN_LABEL.match(label):
            raise GandiInputError(
                f"invalid label {label!r} in domain", code=code, value=_shown(text)
            )
    if labels[-1].isdigit():
        raise GandiInputError(
            "a domain cannot end in a numeric label", code=code, value=_shown(text)
        )
    result = ".".join(labels)
    if len(result) > _MAX_FQDN:
        raise GandiInputError(
            "the domain is longer than 253 characters", code=code, value=_shown(text)
        )
    return result


def normalize_name(name: str, domain: str | None = None) -> str:
    """Return a record name relative to its domain: "@" for the apex, else lower-case labels.

    A leading "*" label makes a wildcard ("*" or "*.home"). With ``domain`` (as normalize_domain
    returns it), a full name inside it, in any case and with or without the final dot, is the
    relative name it means: ``home.example.com`` is ``home``, ``example.com.`` is ``@``. Pasting
    the whole name is the most common slip, and taken as typed it would write
    ``home.example.com.example.com``. A final dot otherwise makes the name absolute, which a
    relative LiveDNS name can't be: it is refused.
    """
    code = "invalid_name"
    if not isinstance(name, str):
        raise GandiInputError("the record name must be a string", code=code, value=_shown(name))
    text = name.strip()
    if text == "@":
        return "@"
    if not text:
        raise GandiInputError(
            "the record name is empty (use @ for the domain itself)", code=code, value=""
        )
    absolute = text.endswith(".")
    labels = (text[:-1] if absolute else text).split(".")
    out: list[str] = []
    for index, label in enumerate(labels):
        if label == "*" and index == 0:
            out.append("*")
            continue
        ascii_label = _to_ascii_label(label, code)
        if not _NAME_LABEL.match(ascii_label):
            raise GandiInputError(
                f"invalid label {label!r} in record name", code=code, value=_shown(text)
            )
        out.append(ascii_label)
    result = ".".join(out)
    if domain is not None and result == domain:
        return "@"
    if domain is not None and result.endswith(f".{domain}"):
        result = result.removesuffix(f".{domain}")
    elif absolute:
        raise GandiInputError(
            "the record name must be relative to the domain, without a final dot",
            code="name_outside_domain" if domain is not None else code,
            value=_shown(text),
        )
    if len(result) > _MAX_FQDN:
        raise GandiInputError(
            "the record name is longer than 253 characters",
            code="name_too_long",
            value=_shown(text),
        )
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
    raise GandiInputError(
        f"unsupported record type {rtype!r} (A or AAAA)", code="invalid_type", value=_shown(rtype)
    )


def validate_ttl(ttl: int) -> int:
    """Return the TTL if LiveDNS accepts it (an integer from MIN_TTL to MAX_TTL seconds)."""
    if isinstance(ttl, bool) or not isinstance(ttl, int):
        raise GandiInputError(
            "the TTL must be a whole number of seconds", code="invalid_ttl", value=_shown(ttl)
        )
    if not MIN_TTL <= ttl <= MAX_TTL:
        raise GandiInputError(
            f"the TTL must be between {MIN_TTL} and {MAX_TTL} seconds",
            code="invalid_ttl",
            value=str(ttl),
        )
    return ttl


def canonical_address(value: str, rtype: RecordType) -> str:
    """Return the canonical text of one address of the record's family, or raise."""
    if not isinstance(value, str):
        raise GandiInputError(
            "an address must be a string", code="invalid_value", value=_shown(value)
        )
    text = value.strip()
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = (
            ipaddress.IPv4Address(text) if rtype is RecordType.A else ipaddress.IPv6Address(text)
        )
    except ValueError:
        raise GandiInputError(
            f"{value!r} is not an IPv{4 if rtype is RecordType.A else 6} address",
            code="invalid_value",
            value=_shown(text),
        ) from None
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id is not None:
        raise GandiInputError(
            "an IPv6 address in DNS cannot carry a scope (%zone)",
            code="invalid_value",
            value=_shown(text),
        )
    return str(address)


def validate_values(values: Iterable[str], rtype: RecordType | str) -> tuple[str, ...]:
    """Return the addresses in canonical form, first occurrence kept, duplicates dropped."""
    kind = normalize_type(rtype)
    if isinstance(values, str | bytes):
        # A lone string is iterable too; taking it character by character is never meant.
        raise GandiInputError(
            "the values must be a list of addresses, not one string",
            code="invalid_value",
            value=_shown(values),
        )
    try:
        items = list(values)
    except TypeError:
        raise GandiInputError(
            "the values must be a list of addresses", code="invalid_value", value=_shown(values)
        ) from None
    out: dict[str, None] = {}
    for item in items:
        out.setdefault(canonical_address(item, kind), None)
    if not out:
        raise GandiInputError("at least one address is needed", code="invalid_value", value="")
    return tuple(out)
