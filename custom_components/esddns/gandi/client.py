"""Gandi LiveDNS v5 client: one request per operation, typed results, typed errors.

No retries and no scheduling here: the caller owns both. A caller that hands the client a
RateLimitGate gets Gandi's 429 honoured: until the wait it asked for (or DEFAULT_RATE_LIMIT_WAIT)
is over, every request through that gate raises GandiRateLimitError with the seconds left,
without being sent.

Answers are never inflated: aiohttp would inflate a gzip or deflate body whole as it arrives
(a 1 MB answer of zeros is hundreds of MB and a long event-loop stall, before any cap applies),
so the client asks for identity, turns automatic decompression off, and refuses a compressed
answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
import contextlib
import json
import logging
import math
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL

from .const import DEFAULT_RATE_LIMIT_WAIT, PRODUCTION_URL, RecordType
from .errors import (
    GandiConnectionError,
    GandiInputError,
    GandiRateLimitError,
    GandiResponseError,
    GandiTimeoutError,
)
from .models import Credential, Rrset
from .parse import (
    MAX_BODY_BYTES,
    RawResponse,
    interpret_domain_page,
    interpret_domain_probe,
    interpret_get_rrset,
    interpret_put_rrset,
    is_livedns_not_found,
)
from .redact import scrub
from .validate import (
    check_record_length,
    normalize_api_url,
    normalize_domain,
    normalize_name,
    normalize_type,
    validate_ttl,
    validate_values,
)

_LOGGER = logging.getLogger(__name__)
_CHUNK = 64 * 1024


_MAX_ENCODING_SHOWN = 20
# GET /domains pages: LiveDNS takes ?page=N&per_page=M and tells the total in Total-Count.
DOMAINS_PER_PAGE = 100
MAX_DOMAIN_PAGES = 100  # a bound against an endpoint that never stops paging


class RateLimitGate:
    """When Gandi wants to hear from a caller again, after a 429 (one per account: its reads
    and writes go through the same gate)."""

    def __init__(self) -> None:
        """Open."""
        self._not_before = 0.0  # the event loop's time before which Gandi wants nothing

    def wait(self) -> float:
        """Seconds left before Gandi wants to hear from us again (0: it doesn't mind)."""
        return max(0.0, self._not_before - asyncio.get_running_loop().time())

    def close_for(self, err: GandiRateLimitError) -> None:
        """Stay quiet as long as ``err`` asked; it then says for how long (never None)."""
        if err.retry_after is None:
            err.retry_after = DEFAULT_RATE_LIMIT_WAIT
        self._not_before = asyncio.get_running_loop().time() + err.retry_after


class GandiClient:
    """Talks to LiveDNS over an injected aiohttp session (never closed here)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        credential: Credential,
        base_url: str = PRODUCTION_URL,
        *,
        timeout: float = 10.0,
        gate: RateLimitGate | None = None,
    ) -> None:
        if not isinstance(credential, Credential):
            raise GandiInputError("the credential must be a Credential", code="invalid_credential")
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not math.isfinite(timeout)
            or timeout <= 0
        ):
            raise GandiInputError(
                "the timeout must be a positive number of seconds",
                code="invalid_timeout",
                value=str(timeout)[:32],
            )
        self._session = session
        self._credential = credential
        self._secrets = (credential.secret,)
        self._base = URL(normalize_api_url(base_url), encoded=True)
        self._timeout = float(timeout)
        self._gate = gate

    @contextlib.contextmanager
    def _rate_limit(self) -> Iterator[None]:
        """A 429 closes the gate, if there is one."""
        try:
            yield
        except GandiRateLimitError as err:
            if self._gate is not None:
                self._gate.close_for(err)
            raise

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
        """Return the sorted fqdns of the domains this credential can manage in LiveDNS.

        Every page is read, up to MAX_DOMAIN_PAGES; reading stops once Total-Count domains
        came (or, without that header, at a short page), or at a page that adds nothing new.
        """
        domains: set[str] = set()
        received = 0
        for page in range(1, MAX_DOMAIN_PAGES + 1):
            url = self._url("domains").with_query(page=page, per_page=DOMAINS_PER_PAGE)
            with self._rate_limit():
                names, total = interpret_domain_page(
                    await self._request("GET", url), secrets=self._secrets
                )
            received += len(names)
            before = len(domains)
            domains.update(names)
            if len(domains) == before:
                break  # empty, or the same page again: an endpoint that ignores ?page
            if (total is not None and received >= total) or (
                total is None and len(names) < DOMAINS_PER_PAGE
            ):
                break
        else:
            _LOGGER.warning(
                "LiveDNS listed more than %d pages of domains; only the first %d are offered",
                MAX_DOMAIN_PAGES,
                len(domains),
            )
        return sorted(domains)

    async def get_rrset(self, domain: str, name: str, rtype: RecordType | str) -> Rrset | None:
        """Return the rrset ``name``/``rtype`` of ``domain``, or None when it does not exist.

        LiveDNS answers the same 404 for an absent rrset and an unknown domain (only the prose
        may differ), so on a 404 the domain itself is asked for: an unknown domain raises
        GandiDomainNotFoundError.
        """
        fqdn, rname, kind = normalize_domain(domain), normalize_name(name), normalize_type(rtype)
        check_record_length(fqdn, rname)
        with self._rate_limit():
            url = self._url("domains", fqdn, "records", rname, kind)
            response = await self._request("GET", url)
            if is_livedns_not_found(response):
                await self._probe_domain(fqdn)
            return interpret_get_rrset(response, rname, kind, secrets=self._secrets)

    async def put_rrset(
        self,
        domain: str,
        name: str,
        rtype: RecordType | str,
        values: Sequence[str],
        ttl: int,
    ) -> None:
        """Create or replace the rrset ``name``/``rtype`` of ``domain`` with exactly ``values``.

        A 404 is told apart as in get_rrset: an unknown domain raises GandiDomainNotFoundError.
        """
        fqdn, rname, kind = normalize_domain(domain), normalize_name(name), normalize_type(rtype)
        check_record_length(fqdn, rname)
        body = {"rrset_values": list(validate_values(values, kind)), "rrset_ttl": validate_ttl(ttl)}
        url = self._url("domains", fqdn, "records", rname, kind)
        with self._rate_limit():
            response = await self._request("PUT", url, body)
            if is_livedns_not_found(response):
                await self._probe_domain(fqdn)
            interpret_put_rrset(response, secrets=self._secrets)

    async def _probe_domain(self, fqdn: str) -> None:
        """Raise GandiDomainNotFoundError unless LiveDNS serves ``fqdn`` (see get_rrset)."""
        response = await self._request("GET", self._url("domains", fqdn))
        interpret_domain_probe(response, fqdn, secrets=self._secrets)

    def _url(self, *segments: str) -> URL:
        # Each segment is percent-encoded whole ("@" → %40, "*" → %2A, "/" → %2F), so a name can
        # never change the path's shape; encoded=True stops yarl from re-encoding or decoding.
        path = "/".join(quote(segment, safe="") for segment in segments)
        return URL(f"{self._base}/{path}", encoded=True)

    async def _request(self, method: str, url: URL, body: Any = None) -> RawResponse:
        if self._gate is not None and (wait := self._gate.wait()) > 0:
            raise GandiRateLimitError(
                f"rate limited, retry in {round(wait)} s", status=None, retry_after=wait
            )
        headers = {
            "Authorization": self._credential.authorization(),
            "Accept": "application/json",
            "Accept-Encoding": "identity",
        }
        data: bytes | None = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        path = scrub(url.path, self._secrets)
        _LOGGER.debug("LiveDNS %s %s", method, path)
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
                    auto_decompress=False,
                ) as resp:
                    self._refuse_compressed(resp)
                    raw = RawResponse(
                        status=resp.status,
                        body=await _read_capped(resp),
                        retry_after=resp.headers.get("Retry-After"),
                        date=resp.headers.get("Date"),
                        total_count=resp.headers.get("Total-Count"),
                    )
        except TimeoutError:
            raise GandiTimeoutError(f"LiveDNS did not answer within {self._timeout:g} s") from None
        except aiohttp.ClientError as err:
            # The chain is dropped on purpose: aiohttp errors can carry request details.
            raise GandiConnectionError(
                f"connection to LiveDNS failed: {type(err).__name__}"
            ) from None
        _LOGGER.debug("LiveDNS %s %s answered %s", method, path, raw.status)
        return raw

    def _refuse_compressed(self, resp: aiohttp.ClientResponse) -> None:
        encoding = resp.headers.get("Content-Encoding", "").strip().lower()
        if encoding in ("", "identity"):
            return
        shown = scrub(encoding, self._secrets)[:_MAX_ENCODING_SHOWN]
        raise GandiResponseError(
            f"the answer is compressed ({shown}) although identity was asked for; refused",
            status=resp.status,
        )


async def _read_capped(resp: aiohttp.ClientResponse) -> bytes:
    if resp.content_length is not None and resp.content_length > MAX_BODY_BYTES:
        raise GandiResponseError("the answer is larger than 1 MiB", status=resp.status)
    body = bytearray()
    async for chunk in resp.content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise GandiResponseError("the answer is larger than 1 MiB", status=resp.status)
    return bytes(body)
