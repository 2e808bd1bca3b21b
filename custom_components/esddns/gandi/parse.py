"""Interpretation of LiveDNS answers, kept free of I/O so it can be tested without a server.

Each ``interpret_*`` function takes one raw answer and returns the operation's result or raises
a GandiError subclass; nothing else escapes, whatever the bytes. Every text taken from an answer
is scrubbed of ``secrets`` (the caller's credential) before it is put in an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
import json
import re

from .const import RecordType
from .errors import (
    GandiAuthError,
    GandiBadRequestError,
    GandiConflictError,
    GandiDomainNotFoundError,
    GandiError,
    GandiInputError,
    GandiNotFoundError,
    GandiPermissionError,
    GandiRateLimitError,
    GandiResponseError,
    GandiServerError,
)
from .models import Rrset
from .redact import scrub
from .validate import canonical_address, normalize_domain

# A hostile or broken server must not make us hold more than this in memory.
MAX_BODY_BYTES = 1024 * 1024
# Gandi's messages are one short sentence; anything longer is cut before it reaches a log.
_MAX_MESSAGE = 300
_MAX_TTL_SEEN = 2**31 - 1
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


@dataclass(frozen=True, slots=True)
class RawResponse:
    """What the client read from one answer: status, the headers that matter, the body."""

    status: int
    body: bytes
    retry_after: str | None = None
    date: str | None = None
    total_count: str | None = None


def _clean(text: str, secrets: Iterable[str] = ()) -> str:
    """Make server text safe for one log line: no secret, no control characters, bounded length.

    Scrubbed before the cut (a secret cut in half would no longer be recognised) and after the
    whitespace is folded (which may join what control characters split).
    """
    secrets = tuple(secrets)
    text = " ".join(_CONTROL.sub(" ", scrub(text, secrets)).split())
    text = scrub(text, secrets)
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


def _error_details(
    body: bytes, secrets: Iterable[str] = ()
) -> tuple[str | None, tuple[str, ...], bool]:
    """Return (message, blamed fields, looks like Gandi's error body) from an error answer."""
    secrets = tuple(secrets)
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
                fields.append(_clean(name, secrets))
            if isinstance(description, str) and description:
                prefix = f"{_clean(name, secrets)}: " if isinstance(name, str) and name else ""
                descriptions.append(prefix + description)
    message: str | None = None
    for candidate in (data.get("message"), "; ".join(descriptions), data.get("cause")):
        if isinstance(candidate, str) and candidate.strip():
            message = _clean(candidate, secrets)
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


def error_for(
    response: RawResponse, *, now: datetime | None = None, secrets: Iterable[str] = ()
) -> GandiError:
    """Return the typed error for a non-2xx answer."""
    status = response.status
    message, fields, _ = _error_details(response.body, secrets)
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


def interpret_domain_page(
    response: RawResponse, *, now: datetime | None = None, secrets: Iterable[str] = ()
) -> tuple[list[str], int | None]:
    """One page of GET /domains → its fqdns in order, each validated like an input domain, and
    the Total-Count header (None when absent or not a number)."""
    if not _ok(response.status):
        raise error_for(response, now=now, secrets=secrets)
    data = decode_json(response.body, response.status)
    if not isinstance(data, list):
        raise GandiResponseError("the domain list is not a list", status=response.status)
    domains: list[str] = []
    for item in data:
        fqdn = item.get("fqdn") if isinstance(item, dict) else None
        if not isinstance(fqdn, str):
            raise GandiResponseError("a domain in the list has no fqdn", status=response.status)
        try:
            domains.append(normalize_domain(fqdn))
        except GandiInputError:
            raise GandiResponseError(
                "the domain list holds an invalid name", status=response.status
            ) from None
    total = (response.total_count or "").strip()
    return domains, int(total) if total.isdigit() and total.isascii() else None


def _foreign_not_found() -> GandiNotFoundError:
    # A 404 without Gandi's error body: a wrong base URL or a proxy, never a missing record.
    return GandiNotFoundError(
        "not found, and the answer is not from LiveDNS (is the API URL right?)", status=404
    )


def is_livedns_not_found(response: RawResponse) -> bool:
    """Whether the answer is a 404 in LiveDNS's own error shape.

    Such a 404 on an rrset means either "no such rrset" or "no such domain", whatever its prose
    says: only asking for the domain itself (interpret_domain_probe) tells which.
    """
    return response.status == 404 and _error_details(response.body)[2]


def interpret_domain_probe(
    response: RawResponse,
    domain: str,
    *,
    now: datetime | None = None,
    secrets: Iterable[str] = (),
) -> None:
    """GET /domains/{fqdn} asked after a 404 on one of its rrsets → None when the domain exists.

    LiveDNS's 404 → GandiDomainNotFoundError; a 404 from something else → GandiNotFoundError;
    any other failure maps as usual.
    """
    if response.status == 404:
        if not _error_details(response.body)[2]:
            raise _foreign_not_found()
        raise GandiDomainNotFoundError(
            f"LiveDNS does not serve the domain {domain} for this credential", status=404
        )
    if not _ok(response.status):
        raise error_for(response, now=now, secrets=secrets)
    data = decode_json(response.body, response.status)
    fqdn = data.get("fqdn") if isinstance(data, dict) else None
    if not isinstance(fqdn, str) or fqdn.lower().rstrip(".") != domain:
        raise GandiResponseError("the domain answer is not about that domain", status=200)


def interpret_get_rrset(
    response: RawResponse,
    name: str,
    rtype: RecordType,
    *,
    now: datetime | None = None,
    secrets: Iterable[str] = (),
) -> Rrset | None:
    """GET /domains/{fqdn}/records/{name}/{type} → the rrset, or None when it is absent.

    LiveDNS's own 404 gives None: the client has already asked for the domain itself
    (interpret_domain_probe), so it is known to exist. A 404 without Gandi's error body (a wrong
    base URL, a proxy) is a GandiNotFoundError, so a misconfiguration never looks like a missing
    record.
    """
    if response.status == 404:
        if not _error_details(response.body)[2]:
            raise _foreign_not_found()
        return None
    if not _ok(response.status):
        raise error_for(response, now=now, secrets=secrets)
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


def interpret_put_rrset(
    response: RawResponse, *, now: datetime | None = None, secrets: Iterable[str] = ()
) -> None:
    """PUT /domains/{fqdn}/records/{name}/{type} → None once Gandi accepted the rrset.

    LiveDNS answers 201 with {"message": "DNS Record Created"}; an empty body or any JSON object
    is accepted, anything else is reported (the write may still have happened).
    """
    if not _ok(response.status):
        raise error_for(response, now=now, secrets=secrets)
    if not response.body.strip():
        return
    if not isinstance(decode_json(response.body, response.status), dict):
        raise GandiResponseError(
            "the write was answered with an unexpected body", status=response.status
        )
