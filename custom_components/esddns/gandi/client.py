"""Gandi LiveDNS v5 client: one request per operation, typed results, typed errors.

No retries and no scheduling here: the caller (the record coordinator) owns both, and a
GandiRateLimitError tells it how long Gandi asked it to wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
import json
import logging
import math
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL

from .errors import (
    GandiConnectionError,
    GandiInputError,
    GandiResponseError,
    GandiTimeoutError,
)
from .models import PRODUCTION_URL, Credential, RecordType, Rrset
from .parse import (
    MAX_BODY_BYTES,
    RawResponse,
    interpret_get_rrset,
    interpret_has_domain,
    interpret_list_domains,
    interpret_put_rrset,
)
from .validate import (
    normalize_domain,
    normalize_name,
    normalize_type,
    validate_ttl,
    validate_values,
)

_LOGGER = logging.getLogger(__name__)
_CHUNK = 64 * 1024


def _base_url(base_url: str) -> URL:
    if not isinstance(base_url, str):
        raise GandiInputError("the API URL must be a string")
    try:
        url = URL(base_url.strip().rstrip("/"))
    except (TypeError, ValueError):
        raise GandiInputError("the API URL is not a URL") from None
    if url.scheme not in ("http", "https") or not url.host or url.query_string or url.fragment:
        raise GandiInputError("the API URL must be an http(s) URL without query or fragment")
    if url.user is not None or url.password is not None:
        raise GandiInputError("the API URL must not hold credentials")
    return url


class GandiClient:
    """Talks to LiveDNS over an injected aiohttp session (never closed here)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        credential: Credential,
        base_url: str = PRODUCTION_URL,
        *,
        timeout: float = 10.0,
    ) -> None:
        if not isinstance(credential, Credential):
            raise GandiInputError("the credential must be a Credential")
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not math.isfinite(timeout)
            or timeout <= 0
        ):
            raise GandiInputError("the timeout must be a positive number of seconds")
        self._session = session
        self._credential = credential
        self._base = _base_url(base_url)
        self._timeout = float(timeout)

    @property
    def base_url(self) -> str:
        """The LiveDNS API root this client calls (no trailing slash)."""
        return str(self._base)

    @property
    def credential_kind(self) -> str:
        """Which kind of credential the client sends (never the secret)."""
        return self._credential.kind.value

    def __repr__(self) -> str:
        return f"GandiClient(base_url={self.base_url!r}, credential={self._credential!r})"

    async def list_domains(self) -> list[str]:
        """Return the sorted fqdns of the domains this credential can manage in LiveDNS."""
        response = await self._request("GET", self._url("domains"))
        return interpret_list_domains(response)

    async def has_domain(self, domain: str) -> bool:
        """Return whether LiveDNS serves ``domain`` for this credential (GET /domains/{fqdn})."""
        fqdn = normalize_domain(domain)
        response = await self._request("GET", self._url("domains", fqdn))
        return interpret_has_domain(response, fqdn)

    async def get_rrset(self, domain: str, name: str, rtype: RecordType | str) -> Rrset | None:
        """Return the rrset ``name``/``rtype`` of ``domain``, or None when it does not exist.

        An unknown domain raises GandiNotFoundError (see parse.interpret_get_rrset).
        """
        fqdn, rname, kind = normalize_domain(domain), normalize_name(name), normalize_type(rtype)
        _check_length(fqdn, rname)
        response = await self._request("GET", self._url("domains", fqdn, "records", rname, kind))
        return interpret_get_rrset(response, rname, kind)

    async def put_rrset(
        self,
        domain: str,
        name: str,
        rtype: RecordType | str,
        values: Sequence[str],
        ttl: int,
    ) -> None:
        """Create or replace the rrset ``name``/``rtype`` of ``domain`` with exactly ``values``."""
        fqdn, rname, kind = normalize_domain(domain), normalize_name(name), normalize_type(rtype)
        _check_length(fqdn, rname)
        body = {"rrset_values": list(validate_values(values, kind)), "rrset_ttl": validate_ttl(ttl)}
        url = self._url("domains", fqdn, "records", rname, kind)
        response = await self._request("PUT", url, body)
        interpret_put_rrset(response)

    def _url(self, *segments: str) -> URL:
        # Each segment is percent-encoded whole ("@" → %40, "*" → %2A, "/" → %2F), so a name can
        # never change the path's shape; encoded=True stops yarl from re-encoding or decoding.
        path = "/".join(quote(segment, safe="") for segment in segments)
        return URL(f"{self._base}/{path}", encoded=True)

    async def _request(self, method: str, url: URL, body: Any = None) -> RawResponse:
        headers = {"Authorization": self._credential.authorization(), "Accept": "application/json"}
        data: bytes | None = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        _LOGGER.debug("LiveDNS %s %s", method, url.path)
        try:
            async with asyncio.timeout(self._timeout):
                async with self._session.request(
                    method,
                    url,
                    headers=headers,
                    data=data,
                    # A redirect could carry the Authorization header to another host.
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=self._timeout),
                ) as resp:
                    raw = RawResponse(
                        status=resp.status,
                        body=await _read_capped(resp),
                        retry_after=resp.headers.get("Retry-After"),
                        date=resp.headers.get("Date"),
                    )
        except TimeoutError:
            raise GandiTimeoutError(f"LiveDNS did not answer within {self._timeout:g} s") from None
        except aiohttp.ClientError as err:
            # The chain is dropped on purpose: aiohttp errors can carry request details.
            raise GandiConnectionError(
                f"connection to LiveDNS failed: {type(err).__name__}"
            ) from None
        _LOGGER.debug("LiveDNS %s %s answered %s", method, url.path, raw.status)
        return raw


def _check_length(fqdn: str, name: str) -> None:
    if name != "@" and len(name) + 1 + len(fqdn) > 253:
        raise GandiInputError("the record's full name is longer than 253 characters")


async def _read_capped(resp: aiohttp.ClientResponse) -> bytes:
    if resp.content_length is not None and resp.content_length > MAX_BODY_BYTES:
        raise GandiResponseError("the answer is larger than 1 MiB", status=resp.status)
    body = bytearray()
    async for chunk in resp.content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise GandiResponseError("the answer is larger than 1 MiB", status=resp.status)
    return bytes(body)
