"""Interpretation of LiveDNS answers, kept free of I/O so it can be tested without a server.

Each ``interpret_*`` function takes one raw answer and returns the operation's result or raises
a GandiError subclass; nothing else escapes, whatever the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
import json
import re

from .errors import (
    GandiAuthError,
    GandiBadRequestError,
    GandiConflictError,
    GandiError,
    GandiInputError,
    GandiNotFoundError,
    GandiPermissionError,
    GandiRateLimitError,
    GandiResponseError,
    GandiServerError,
)
from .models import RecordType, Rrset
from .validate import canonical_address, normalize_domain

# A hostile or broken server must not make us hold more than this in memory.
MAX_BODY_BYTES = 1024 * 1024
# Gandi's messages are one short sentence; anything longer is cut before it reaches a log.
_MAX_MESSAGE = 300
_MAX_TTL_SEEN = 2**31 - 1
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
# LiveDNS says "Unknown domain" when the domain itself is not in LiveDNS; an absent rrset
# gets a generic "not found" message. Older answers said "The domain X does not exist".
_UNKNOWN_DOMAIN = re.compile(
    r"\bunknown\s+(domain|zone)\b|\bdomain\b.*\b(does\s+not|doesn't)\s+exist\b", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class RawResponse:
    """What the client read from one answer: status, the headers that matter, the body."""

    status: int
    body: bytes
    retry_after: str | None = None
    date: str | None = None


def _clean(text: str) -> str:
    """Make server text safe for one log line: no control characters, bounded length."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 1] + "…"
    return text


def decode_json(body: bytes, status: int | None = None) -> object:
    """Decode a JSON body, or raise GandiResponseError."""
    if len(body) > MAX_BODY_BYTES:
        raise GandiResponseError("the answer is larger than 1 MiB", status=status)
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise GandiResponseError("the answer is not JSON", status=status) from None


def _error_details(body: bytes) -> tuple[str | None, tuple[str, ...], bool]:
    """Return (message, blamed fields, looks like Gandi's error body) from an error answer."""
    try:
        data = decode_json(body)
    except GandiResponseError:
        return None, (), False
    if not isinstance(data, dict):
        return None, (), False
    gandi_shaped = any(key in data for key in ("cause", "code", "message", "object", "errors"))
    fields: list[str] = []
    descriptions: list[str] = []
    errors = data.get("errors")
    if isinstance(errors, list):
        for item in errors:
            if not isinstance(item, dict):
                continue
            name = item.get("name")
            description = item.get("description")
            if isinstance(name, str) and name:
                fields.append(_clean(name))
            if isinstance(description, str) and description:
                prefix = f"{_clean(name)}: " if isinstance(name, str) and name else ""
                descriptions.append(prefix + description)
    message: str | None = None
    for candidate in (data.get("message"), "; ".join(descriptions), data.get("cause")):
        if isinstance(candidate, str) and candidate.strip():
            message = _clean(candidate)
            break
    return message, tuple(fields), gandi_shaped


def parse_retry_after(
    value: str | None, *, date: str | None = None, now: datetime | None = None
) -> float | None:
    """Return the wait in seconds a Retry-After header asks for, or None.

    Both forms of RFC 9110 are read: delta-seconds, and an HTTP-date, which is measured from the
    answer's own Date header when it has one (so a skewed local clock does not matter).
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit() and text.isascii():
        return float(int(text))
    when = _http_date(text)
    if when is None:
        return None
    reference = _http_date(date) if date is not None else None
    if reference is None:
        reference = now if now is not None else datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())


def _http_date(text: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        # HTTP dates are always GMT; parsedate returns a naive value for "-0000".
        when = when.replace(tzinfo=UTC)
    return when


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def error_for(response: RawResponse, *, now: datetime | None = None) -> GandiError:
    """Return the typed error for a non-2xx answer."""
    status = response.status
    message, fields, _ = _error_details(response.body)
    text = message or _phrase(status)
    if status in (400, 422):
        return GandiBadRequestError(text, status=status, fields=fields)
    if status == 401:
        return GandiAuthError(text, status=status)
    if status == 403:
        return GandiPermissionError(text, status=status)
    if status == 404:
        return GandiNotFoundError(text, status=status)
    if status == 409:
        return GandiConflictError(text, status=status)
    if status == 429:
        wait = parse_retry_after(response.retry_after, date=response.date, now=now)
        return GandiRateLimitError(text, status=status, retry_after=wait)
    if 500 <= status <= 599:
        return GandiServerError(text, status=status)
    return GandiResponseError(f"unexpected answer: {_phrase(status)}", status=status)


def _ok(status: int) -> bool:
    return 200 <= status <= 299


def interpret_list_domains(response: RawResponse, *, now: datetime | None = None) -> list[str]:
    """GET /domains → the sorted fqdns, each validated like an input domain."""
    if not _ok(response.status):
        raise error_for(response, now=now)
    data = decode_json(response.body, response.status)
    if not isinstance(data, list):
        raise GandiResponseError("the domain list is not a list", status=response.status)
    domains: set[str] = set()
    for item in data:
        fqdn = item.get("fqdn") if isinstance(item, dict) else None
        if not isinstance(fqdn, str):
            raise GandiResponseError("a domain in the list has no fqdn", status=response.status)
        try:
            domains.add(normalize_domain(fqdn))
        except GandiInputError:
            raise GandiResponseError(
                "the domain list holds an invalid name", status=response.status
            ) from None
    return sorted(domains)


def interpret_has_domain(
    response: RawResponse, domain: str, *, now: datetime | None = None
) -> bool:
    """GET /domains/{fqdn} → True when LiveDNS serves the domain, False on 404."""
    if response.status == 404:
        return False
    if not _ok(response.status):
        raise error_for(response, now=now)
    data = decode_json(response.body, response.status)
    fqdn = data.get("fqdn") if isinstance(data, dict) else None
    if not isinstance(fqdn, str) or fqdn.lower().rstrip(".") != domain:
        raise GandiResponseError("the domain answer is not about that domain", status=200)
    return True


def interpret_get_rrset(
    response: RawResponse, name: str, rtype: RecordType, *, now: datetime | None = None
) -> Rrset | None:
    """GET /domains/{fqdn}/records/{name}/{type} → the rrset, or None when it is absent.

    A 404 means "no such rrset" only when Gandi's error body says so; when the body says the
    domain is unknown the 404 is a GandiNotFoundError, and a 404 without Gandi's error body (a
    wrong base URL, a proxy) is one too, so a misconfiguration never looks like a missing record.
    """
    if response.status == 404:
        message, _, gandi_shaped = _error_details(response.body)
        if not gandi_shaped:
            raise GandiNotFoundError(
                "not found, and the answer is not from LiveDNS (is the API URL right?)", status=404
            )
        if message is not None and _UNKNOWN_DOMAIN.search(message):
            raise GandiNotFoundError(message, status=404)
        return None
    if not _ok(response.status):
        raise error_for(response, now=now)
    return parse_rrset(
        decode_json(response.body, response.status), name, rtype, status=response.status
    )


def parse_rrset(data: object, name: str, rtype: RecordType, *, status: int = 200) -> Rrset:
    """Validate one rrset object as LiveDNS returns it, for the name and type asked."""
    if not isinstance(data, dict):
        raise GandiResponseError("the rrset is not an object", status=status)
    got_type = data.get("rrset_type")
    if not isinstance(got_type, str) or got_type.upper() != rtype.value:
        raise GandiResponseError("the rrset has another type than asked", status=status)
    got_name = data.get("rrset_name")
    if not isinstance(got_name, str) or got_name.lower() != name:
        raise GandiResponseError("the rrset has another name than asked", status=status)
    ttl = data.get("rrset_ttl")
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 < ttl <= _MAX_TTL_SEEN:
        raise GandiResponseError("the rrset has no valid TTL", status=status)
    values = data.get("rrset_values")
    if not isinstance(values, list) or not values:
        raise GandiResponseError("the rrset has no values", status=status)
    canonical: dict[str, None] = {}
    for value in values:
        try:
            canonical.setdefault(canonical_address(value, rtype), None)
        except GandiInputError:
            raise GandiResponseError(
                f"the rrset holds a value that is not an {rtype.value} address", status=status
            ) from None
    return Rrset(name=name, type=rtype, ttl=ttl, values=tuple(canonical))


def interpret_put_rrset(response: RawResponse, *, now: datetime | None = None) -> None:
    """PUT /domains/{fqdn}/records/{name}/{type} → None once Gandi accepted the rrset.

    LiveDNS answers 201 with {"message": "DNS Record Created"}; an empty body or any JSON object
    is accepted, anything else is reported (the write may still have happened).
    """
    if not _ok(response.status):
        raise error_for(response, now=now)
    if not response.body.strip():
        return
    if not isinstance(decode_json(response.body, response.status), dict):
        raise GandiResponseError(
            "the write was answered with an unexpected body", status=response.status
        )
