"""A faithful fake of Gandi's LiveDNS v5 API, served over HTTP on loopback.

It answers the endpoints ESDDNS uses the way LiveDNS does (status codes, JSON bodies, the error
body shapes), keeps zones in memory, logs every API request, and injects faults on demand.
It is written independently of the client in ``custom_components/esddns/gandi`` so that it
checks the client instead of mirroring it.

Behaviour (from Gandi's public docs and observed answers):
- ``Authorization: Bearer <token>`` (personal access token) or ``Apikey <key>`` (deprecated API
  key); a token is only valid in its own scheme. Missing/unknown → 401.
- An unknown domain → 404 "Unknown domain" (or, with ``generic_unknown_domain``, the same
  generic 404 an absent rrset gets, as some answers do); a known domain the credential may not
  manage → 403; an absent rrset → 404 with the generic "The resource could not be found.".
- Error bodies are ``{"code", "message", "object", "cause"}``; validation errors (400) are
  ``{"status": "error", "errors": [{"location", "name", "description"}]}``.
- PUT on an rrset creates or replaces it and answers 201 {"message": "DNS Record Created"}.
- ``GET /domains`` pages: ``?page=N&per_page=M`` (defaults 1 and ``default_page_size``; M is
  cut to ``max_page_size`` when set), with a ``Total-Count`` header (unless
  ``send_total_count`` is False); a page or per_page that is not a positive integer → 400.

Run alone (end-to-end tests, the demo)::

    python -m devtools.fakes.gandi --port 8053 --token TOKEN=example.com,example.org \
        [--api-key KEY=example.com] [--record example.com/home/A=81.2.69.142] [--ttl 300] \
        [--generic-unknown-domain] [--max-page-size N]

prints one JSON line ``{"url": ..., "control_url": ..., "port": ..., "pid": ...}`` once it listens,
and stops cleanly on SIGTERM or SIGINT. The control API (never logged, no auth) lives outside
``/v5/livedns``:

- ``GET /_fake/requests`` — the request log; ``DELETE /_fake/requests`` — clear it
- ``GET /_fake/rrset?domain=&name=&type=`` — read an rrset (404 when absent)
- ``POST /_fake/rrset`` ``{"domain", "name", "type", "values", "ttl"?}`` — set one behind our back
- ``DELETE /_fake/rrset?domain=&name=&type=`` — remove one
- ``DELETE /_fake/fail`` — drop the faults still queued
- ``POST /_fake/fail`` ``{"kind", "count"?, "retry_after"?, "status"?}`` — queue faults (see
  FAULTS)
- ``POST /_fake/rate_limit`` ``{"max_requests", "per_seconds"?, "retry_after"?}``;
  ``DELETE /_fake/rate_limit``
- ``POST /_fake/token`` ``{"secret", "domains", "kind"?: "token"|"api_key", "name"?}``
- ``POST /_fake/options`` ``{"generic_unknown_domain"?, "max_page_size"?, "send_total_count"?}``
"""

from __future__ import annotations

import argparse
import asyncio
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
import functools
import ipaddress
import json
import math
import os
import re
import signal
import sys
from typing import Any
from urllib.parse import unquote
import zlib

from aiohttp import web

API_PREFIX = "/v5/livedns"
CONTROL_PREFIX = "/_fake"
DEFAULT_TTL = 10800  # what LiveDNS gives an rrset written without rrset_ttl
MIN_TTL = 300
MAX_TTL = 2_592_000
RECORD_TYPES = frozenset(
    {"A", "AAAA", "ALIAS", "CAA", "CDS", "CNAME", "DNAME", "DS", "KEY", "LOC", "MX", "NAPTR",
     "NS", "OPENPGPKEY", "PTR", "RP", "SPF", "SRV", "SSHFP", "TLSA", "TXT", "WKS"}
)  # fmt: skip

# What fail_next() can inject; each is consumed by one API request, in order.
FAULTS = (
    "400",  # Gandi's validation error naming rrset_values
    "404",  # Gandi's generic JSON 404 (what an absent rrset gets)
    "409",  # Gandi's JSON 409 conflict
    "500",  # Gandi's own JSON 500
    "502",  # a proxy's HTML 502
    "503",  # a proxy's HTML 503
    "504",  # a proxy's HTML 504
    "429",  # rate limited, with Retry-After = retry_after (omitted when retry_after is None)
    "hang",  # never answers (until close())
    "cut",  # 200, Content-Length says more than is sent, then the connection closes
    "garbage",  # 200 with an HTML body
    "wrong-shape",  # 200 with JSON of another shape
    "empty",  # 200 with an empty body
    "oversize",  # 200, 2 MiB of JSON, chunked (no Content-Length)
    "oversize-declared",  # 200, 2 MiB of JSON with its Content-Length
    "redirect",  # 302 to another host (a client must not follow it with its credential)
    # The request's Authorization header echoed back, with the fault's status (400 by default),
    # as a proxy or a broken endpoint may do:
    "echo-message",  # in Gandi's error body's "message"
    "echo-errors",  # in a validation body's errors[].name and errors[].description
    "echo-text",  # as a plain-text body
    # 200 with ~1 MB of gzip/deflate-compressed zeros (about 220 MB once inflated), whatever
    # Accept-Encoding said; "-chunked" sends it without Content-Length:
    "bomb-gzip",
    "bomb-deflate",
    "bomb-gzip-chunked",
    "bomb-deflate-chunked",
)
ECHO_STATUSES = (400, 401, 403, 404, 409, 429, 500)
BOMB_BYTES = 1_000_000

_LABEL = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _gandi_error(status: int, message: str, obj: str, cause: str) -> web.Response:
    return web.json_response(
        {"code": status, "message": message, "object": obj, "cause": cause}, status=status
    )


def _unauthorized() -> web.Response:
    return _gandi_error(
        401,
        "The server could not verify that you authorized to access the document you requested. "
        "Either you supplied the wrong credentials (e.g., bad api key), or your access token "
        "has expired",
        "HTTPUnauthorized",
        "Unauthorized",
    )


def _forbidden() -> web.Response:
    return _gandi_error(403, "Access was denied to this resource.", "HTTPForbidden", "Forbidden")


def _not_found() -> web.Response:
    return _gandi_error(404, "The resource could not be found.", "HTTPNotFound", "Not Found")


def _unknown_domain() -> web.Response:
    return _gandi_error(404, "Unknown domain", "LocalizedHTTPNotFound", "Not Found")


def _bad_request(errors: Sequence[tuple[str, str, str]]) -> web.Response:
    return web.json_response(
        {
            "status": "error",
            "errors": [
                {"location": location, "name": name, "description": description}
                for location, name, description in errors
            ],
        },
        status=400,
    )


def _valid_name(name: str) -> bool:
    if name == "@":
        return True
    labels = name.split(".")
    return all(
        (label == "*" and index == 0) or bool(_LABEL.match(label))
        for index, label in enumerate(labels)
    )


def _valid_domain(domain: str) -> bool:
    labels = domain.split(".")
    return len(labels) >= 2 and all(_DOMAIN_LABEL.match(label) for label in labels)


def _value_error(rtype: str, value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return "each value must be a non-empty string"
    if rtype in ("A", "AAAA"):
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return f"{value!r} is not a valid {rtype} value"
        if address.version != (4 if rtype == "A" else 6) or str(address) != value.lower():
            return f"{value!r} is not a valid {rtype} value"
    return None


async def send_bomb(
    request: web.Request, kind: str, *, status: int, content_type: str
) -> web.StreamResponse:
    """Answer with compressed_zeros whatever Accept-Encoding said: ``kind`` names gzip or
    deflate, and ends in "-chunked" for no Content-Length."""
    encoding = "gzip" if "gzip" in kind else "deflate"
    body = compressed_zeros(encoding)
    headers = {"Content-Type": content_type, "Content-Encoding": encoding}
    stream = web.StreamResponse(status=status, headers=headers)
    if kind.endswith("-chunked"):
        stream.enable_chunked_encoding()
    else:
        stream.content_length = len(body)
    await stream.prepare(request)
    try:
        for start in range(0, len(body), 64 * 1024):
            await stream.write(body[start : start + 64 * 1024])
        await stream.write_eof()
    except ConnectionError:
        pass  # the client refused the body and hung up, as it should
    return stream


@functools.cache
def compressed_zeros(encoding: str, size: int = BOMB_BYTES) -> bytes:
    """About ``size`` bytes of zeros compressed as Content-Encoding ``encoding`` (gzip, deflate).

    Level 1 is quick to make (~0.5 s for 1 MB) and still inflates over 200 times.
    """
    wbits = {"gzip": 31, "deflate": 15}[encoding]
    compressor = zlib.compressobj(1, zlib.DEFLATED, wbits)
    zeros = bytes(1 << 20)
    parts: list[bytes] = []
    total = 0
    while total < size:
        part = compressor.compress(zeros)
        parts.append(part)
        total += len(part)
    parts.append(compressor.flush())
    return b"".join(parts)


@dataclass
class FakeRrset:
    """One rrset as the fake stores it."""

    name: str
    type: str
    ttl: int
    values: list[str]

    def to_gandi(self, base: str, domain: str) -> dict[str, Any]:
        """The rrset as LiveDNS returns it."""
        return {
            "rrset_name": self.name,
            "rrset_type": self.type,
            "rrset_ttl": self.ttl,
            "rrset_values": list(self.values),
            "rrset_href": f"{base}/domains/{domain}/records/"
            f"{self.name.replace('@', '%40')}/{self.type}",
        }


@dataclass
class RecordedRequest:
    """One API request as the fake saw it. The credential's secret is never kept."""

    method: str
    path: str  # decoded, e.g. /v5/livedns/domains/example.com/records/@/A
    raw_path: str  # as sent on the wire, e.g. /v5/livedns/domains/example.com/records/%40/A
    query: dict[str, str]
    body: Any  # the parsed JSON body; the text when it is not JSON; None when empty
    content_type: str | None
    auth_scheme: str | None  # "Bearer", "Apikey", something else, or None when absent
    principal: str | None  # the name of the credential that matched, None when none did
    status: int | None = None  # the status answered; None when no answer was completed
    fault: str | None = None  # the injected fault or "rate-limit" that answered it
    accept_encoding: str | None = None  # the Accept-Encoding header, None when absent

    def to_json(self) -> dict[str, Any]:
        """A JSON-able copy, for the control API."""
        return asdict(self)


@dataclass
class _Credential:
    name: str
    scheme: str
    domains: set[str] = field(default_factory=set)


@dataclass
class _Fault:
    kind: str
    retry_after: str | None
    status: int = 400
    method: str | None = None  # only requests of this method; any when None


class FakeGandi:
    """The fake LiveDNS server: ``await start()``, use ``url``, ``await close()`` at the end."""

    def __init__(self, *, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port: int | None = None
        self.replace_status = 201  # LiveDNS answers 201 to a PUT that replaces, too
        # An unknown domain gets the generic 404 body instead of "Unknown domain".
        self.generic_unknown_domain = False
        self.default_page_size = 100  # GET /domains without ?per_page
        self.max_page_size: int | None = None  # a server that pages smaller than asked
        self.send_total_count = True
        self._credentials: dict[tuple[str, str], _Credential] = {}
        self._zones: dict[str, dict[tuple[str, str], FakeRrset]] = {}
        self._requests: list[RecordedRequest] = []
        self._faults: deque[_Fault] = deque()
        self._rate: tuple[int, float, bool] | None = None
        self._hits: deque[float] = deque()
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._counter = 0

    # ----- lifecycle -------------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        """Listen on ``host:port`` (0 picks a free port)."""
        app = web.Application()
        app.router.add_route("*", API_PREFIX + "{tail:(/.*)?}", self._api)
        app.router.add_route("*", CONTROL_PREFIX + "/{what}", self._control)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])  # the port the OS picked for port=0

    async def close(self) -> None:
        """Release hanging answers and stop listening."""
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` (the control API is under it)."""
        if self.port is None:
            raise RuntimeError("the fake is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The LiveDNS base URL, ending in /v5/livedns."""
        return self.root_url + API_PREFIX

    # ----- programmatic state ----------------------------------------------------------------

    def add_token(
        self, secret: str, domains: Iterable[str] = (), *, name: str | None = None
    ) -> None:
        """Add a personal access token (Bearer) that may manage ``domains``."""
        self._add_credential("Bearer", secret, domains, name)

    def add_api_key(
        self, secret: str, domains: Iterable[str] = (), *, name: str | None = None
    ) -> None:
        """Add a legacy API key (Apikey) that may manage ``domains``."""
        self._add_credential("Apikey", secret, domains, name)

    def revoke(self, secret: str) -> None:
        """Forget a token or key (it now gets 401, as an expired token does)."""
        for key in [key for key in self._credentials if key[1] == secret]:
            del self._credentials[key]

    def add_domain(self, domain: str) -> None:
        """Make ``domain`` exist in LiveDNS (with no rrsets yet)."""
        self._zones.setdefault(domain.lower().rstrip("."), {})

    def remove_domain(self, domain: str) -> None:
        """Take ``domain`` out of LiveDNS with its rrsets (it now answers 404 Unknown domain)."""
        self._zones.pop(domain.lower().rstrip("."), None)

    @property
    def domains(self) -> list[str]:
        """Every domain the fake serves."""
        return sorted(self._zones)

    def set_rrset(
        self,
        domain: str,
        name: str,
        rtype: str,
        values: Sequence[str],
        ttl: int = MIN_TTL,
    ) -> None:
        """Write an rrset directly, as someone else editing the zone would (no request logged).

        The TTL defaults to the one a DDNS record usually has (and ESDDNS's default), not to
        LiveDNS's 10800 for a write without rrset_ttl.
        """
        domain = domain.lower().rstrip(".")
        self.add_domain(domain)
        key = (name.lower(), rtype.upper())
        self._zones[domain][key] = FakeRrset(key[0], key[1], ttl, list(values))

    def get_rrset(self, domain: str, name: str, rtype: str) -> FakeRrset | None:
        """Read an rrset back, or None."""
        zone = self._zones.get(domain.lower().rstrip("."), {})
        return zone.get((name.lower(), rtype.upper()))

    def delete_rrset(self, domain: str, name: str, rtype: str) -> None:
        """Remove an rrset directly (no request logged)."""
        self._zones.get(domain.lower().rstrip("."), {}).pop((name.lower(), rtype.upper()), None)

    # ----- request log -----------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every API request received, oldest first (control requests are not logged)."""
        return list(self._requests)

    def writes(self) -> list[RecordedRequest]:
        """The PUT requests, oldest first."""
        return [request for request in self._requests if request.method == "PUT"]

    def clear_requests(self) -> None:
        """Forget the request log."""
        self._requests.clear()

    # ----- faults and rate limit -------------------------------------------------------------

    def fail_next(
        self,
        kind: str,
        count: int = 1,
        *,
        retry_after: str | None = "30",
        status: int = 400,
        method: str | None = None,
    ) -> None:
        """Answer the next ``count`` API requests with fault ``kind`` (one of FAULTS).

        ``status`` is the status of the echo-* faults (one of ECHO_STATUSES); with ``method``
        ("PUT"), only requests of that method are failed, the others answered as usual.
        """
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULTS)}")
        if kind.startswith("echo-") and status not in ECHO_STATUSES:
            raise ValueError(f"echo faults answer one of {ECHO_STATUSES}, not {status}")
        self._faults.extend(_Fault(kind, retry_after, status, method) for _ in range(count))

    def clear_faults(self) -> None:
        """Answer every request as usual again (faults still queued are dropped)."""
        self._faults.clear()

    def set_rate_limit(
        self, max_requests: int, per_seconds: float = 60.0, *, retry_after: bool = True
    ) -> None:
        """Answer 429 once ``max_requests`` API requests came within ``per_seconds``.

        Gandi allows 1000 requests a minute per IP; with ``retry_after`` the 429 carries the
        seconds until the window frees, else no Retry-After header at all.
        """
        self._rate = (max_requests, per_seconds, retry_after)
        self._hits.clear()

    def clear_rate_limit(self) -> None:
        """Lift the rate limit."""
        self._rate = None
        self._hits.clear()

    # ----- internals -------------------------------------------------------------------------

    def _add_credential(
        self, scheme: str, secret: str, domains: Iterable[str], name: str | None
    ) -> None:
        self._counter += 1
        wanted = {domain.lower().rstrip(".") for domain in domains}
        for domain in wanted:
            self.add_domain(domain)
        label = name or f"{scheme.lower()}-{self._counter}"
        self._credentials[(scheme, secret)] = _Credential(label, scheme, wanted)

    async def _api(self, request: web.Request) -> web.StreamResponse:
        raw_body = await request.read()
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        credential = self._credentials.get((scheme, secret.strip())) if scheme else None
        body: Any = None
        if raw_body:
            text = raw_body.decode("utf-8", "replace")
            try:
                body = json.loads(text)
            except ValueError:
                body = text
        raw_path = request.raw_path.split("?", 1)[0]
        record = RecordedRequest(
            method=request.method,
            path=unquote(raw_path),
            raw_path=raw_path,
            query=dict(request.query),
            body=body,
            content_type=request.headers.get("Content-Type"),
            auth_scheme=scheme or None,
            principal=credential.name if credential else None,
            accept_encoding=request.headers.get("Accept-Encoding"),
        )
        self._requests.append(record)
        # Explicit None checks: a web.Response is an (empty) mapping, so it is falsy.
        response = await self._limited(record)
        if response is None:
            response = await self._fault(request, record)
        if response is None:
            response = self._route(request, raw_path, raw_body, credential)
        if response is not None:
            if record.fault != "hang":  # a hung request was never answered
                record.status = response.status
            return response
        raise web.HTTPInternalServerError  # pragma: no cover - every path answers

    async def _limited(self, record: RecordedRequest) -> web.StreamResponse | None:
        if self._rate is None:
            return None
        max_requests, per_seconds, with_header = self._rate
        now = asyncio.get_running_loop().time()
        while self._hits and self._hits[0] <= now - per_seconds:
            self._hits.popleft()
        if len(self._hits) < max_requests:
            self._hits.append(now)
            return None
        record.fault = "rate-limit"
        response = _gandi_error(
            429, "Too Many Requests", "HTTPTooManyRequests", "Too Many Requests"
        )
        if with_header:
            oldest = self._hits[0] if self._hits else now
            wait = max(1, math.ceil(oldest + per_seconds - now))
            response.headers["Retry-After"] = str(wait)
        return response

    async def _fault(
        self, request: web.Request, record: RecordedRequest
    ) -> web.StreamResponse | None:
        if not self._faults or self._faults[0].method not in (None, request.method):
            return None
        fault = self._faults.popleft()
        record.fault = fault.kind
        kind = fault.kind
        if kind == "400":
            return _bad_request([("body", "rrset_values", "Gandi refused these values")])
        if kind == "404":
            return _not_found()
        if kind.startswith("echo-"):
            return self._echo(request, fault)
        if kind.startswith("bomb-"):
            return await self._bomb(request, kind)
        if kind == "409":
            return _gandi_error(409, "Conflict with the zone", "HTTPConflict", "Conflict")
        if kind == "redirect":
            return web.Response(status=302, headers={"Location": "http://192.0.2.1/v5/livedns"})
        if kind == "500":
            return _gandi_error(
                500, "Internal Server Error", "HTTPInternalServerError", "Internal Server Error"
            )
        if kind in ("502", "503", "504"):
            phrase = {"502": "Bad Gateway", "503": "Service Unavailable", "504": "Gateway Timeout"}
            html = f"<html><body><h1>{kind} {phrase[kind]}</h1></body></html>"
            return web.Response(status=int(kind), text=html, content_type="text/html")
        if kind == "429":
            response = _gandi_error(
                429, "Too Many Requests", "HTTPTooManyRequests", "Too Many Requests"
            )
            if fault.retry_after is not None:
                response.headers["Retry-After"] = fault.retry_after
            return response
        if kind == "hang":
            await self._release.wait()
            return web.Response(status=503, text="released")
        if kind == "cut":
            stream = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
            stream.content_length = 4096
            await stream.prepare(request)
            await stream.write(b'[{"fqdn": "example.com", "domain_hr')
            assert request.transport is not None
            request.transport.abort()
            record.status = None
            raise asyncio.CancelledError  # the connection is gone: nothing more to send
        if kind == "garbage":
            return web.Response(
                status=200, text="<html>Gandi is having a bad day</html>", content_type="text/html"
            )
        if kind == "wrong-shape":
            return web.json_response({"unexpected": ["shape"], "rrset_values": 42})
        if kind == "empty":
            return web.Response(status=200, body=b"", content_type="application/json")
        big = b'"' + b"x" * (2 * 1024 * 1024) + b'"'
        if kind == "oversize":
            stream = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
            stream.enable_chunked_encoding()
            await stream.prepare(request)
            for start in range(0, len(big), 256 * 1024):
                try:
                    await stream.write(big[start : start + 256 * 1024])
                except ConnectionError:
                    break  # the client gave up reading, as it should
            return stream
        return web.Response(status=200, body=big, content_type="application/json")

    @staticmethod
    def _echo(request: web.Request, fault: _Fault) -> web.Response:
        auth = request.headers.get("Authorization", "")
        status = fault.status
        if fault.kind == "echo-text":
            text = f"{status} refused: Authorization: {auth}\n"
            response = web.Response(status=status, text=text, content_type="text/plain")
        elif fault.kind == "echo-errors":
            response = web.json_response(
                {
                    "status": "error",
                    "errors": [
                        {
                            "location": "header",
                            "name": f"Authorization={auth}",
                            "description": f"invalid Authorization header {auth!r}",
                        }
                    ],
                },
                status=status,
            )
        else:
            message = f"Request with Authorization: {auth} refused"
            response = _gandi_error(status, message, "HTTPError", "Refused")
        if status == 429 and fault.retry_after is not None:
            response.headers["Retry-After"] = fault.retry_after
        return response

    @staticmethod
    async def _bomb(request: web.Request, kind: str) -> web.StreamResponse:
        return await send_bomb(request, kind, status=200, content_type="application/json")

    def _route(
        self,
        request: web.Request,
        raw_path: str,
        raw_body: bytes,
        credential: _Credential | None,
    ) -> web.Response:
        if credential is None:
            return _unauthorized()
        # Split the raw path before decoding, so an encoded "/" stays inside its segment.
        segments = [unquote(part) for part in raw_path[len(API_PREFIX) :].split("/")[1:]]
        if segments and segments[-1] == "":
            segments.pop()
        method = request.method
        if segments == ["domains"]:
            if method != "GET":
                return _gandi_error(
                    405, "Method Not Allowed", "HTTPMethodNotAllowed", "Method Not Allowed"
                )
            return self._domain_page(request, sorted(credential.domains & set(self._zones)))
        if len(segments) < 2 or segments[0] != "domains":
            return _not_found()
        domain = segments[1].lower()
        if domain not in self._zones:
            return _not_found() if self.generic_unknown_domain else _unknown_domain()
        if domain not in credential.domains:
            return _forbidden()
        rest = segments[2:]
        zone = self._zones[domain]
        if not rest:
            return web.json_response(self._domain_json(domain)) if method == "GET" else _not_found()
        if rest[0] != "records" or len(rest) > 3:
            return _not_found()
        if len(rest) < 3:
            if method != "GET":
                return _not_found()
            wanted = rest[1].lower() if len(rest) == 2 else None
            return web.json_response(
                [
                    rrset.to_gandi(self.url, domain)
                    for key, rrset in sorted(zone.items())
                    if wanted is None or key[0] == wanted
                ]
            )
        name, rtype = rest[1], rest[2]
        problems: list[tuple[str, str, str]] = []
        if not _valid_name(name):
            problems.append(("path", "rrset_name", f"{name!r} is not a valid record name"))
        if rtype not in RECORD_TYPES:
            problems.append(("path", "rrset_type", f"{rtype!r} is not a supported type"))
        if problems:
            return _bad_request(problems)
        key = (name.lower(), rtype)
        if method == "GET":
            rrset = zone.get(key)
            return (
                _not_found()
                if rrset is None
                else web.json_response(rrset.to_gandi(self.url, domain))
            )
        if method == "DELETE":
            return _not_found() if zone.pop(key, None) is None else web.Response(status=204)
        if method == "PUT":
            return self._put(request, zone, key, raw_body)
        return _gandi_error(405, "Method Not Allowed", "HTTPMethodNotAllowed", "Method Not Allowed")

    def _domain_page(self, request: web.Request, domains: list[str]) -> web.Response:
        try:
            page = int(request.query.get("page", "1"))
            per_page = int(request.query.get("per_page", str(self.default_page_size)))
        except ValueError:
            page = per_page = 0
        if page < 1 or per_page < 1:
            return _bad_request([("querystring", "page", "page and per_page must be >= 1")])
        if self.max_page_size is not None:
            per_page = min(per_page, self.max_page_size)
        start = (page - 1) * per_page
        response = web.json_response(
            [self._domain_json(domain) for domain in domains[start : start + per_page]]
        )
        if self.send_total_count:
            response.headers["Total-Count"] = str(len(domains))
        return response

    def _put(
        self,
        request: web.Request,
        zone: dict[tuple[str, str], FakeRrset],
        key: tuple[str, str],
        raw_body: bytes,
    ) -> web.Response:
        if request.content_type != "application/json":
            return _bad_request([("header", "Content-Type", "must be application/json")])
        try:
            body = json.loads(raw_body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _bad_request([("body", "body", "Invalid JSON")])
        if not isinstance(body, dict):
            return _bad_request([("body", "body", "must be an object")])
        problems = [
            ("body", extra, "Unrecognized field")
            for extra in sorted(set(body) - {"rrset_values", "rrset_ttl"})
        ]
        values = body.get("rrset_values")
        if not isinstance(values, list) or not values:
            problems.append(("body", "rrset_values", "must be a non-empty list"))
        else:
            problems.extend(
                ("body", "rrset_values", error)
                for error in (_value_error(key[1], value) for value in values)
                if error is not None
            )
        ttl = body.get("rrset_ttl", DEFAULT_TTL)
        if isinstance(ttl, bool) or not isinstance(ttl, int) or not MIN_TTL <= ttl <= MAX_TTL:
            problems.append(
                ("body", "rrset_ttl", f"must be an integer from {MIN_TTL} to {MAX_TTL}")
            )
        if problems:
            return _bad_request(problems)
        assert isinstance(values, list)
        existed = key in zone
        zone[key] = FakeRrset(key[0], key[1], ttl, [str(value) for value in values])
        status = self.replace_status if existed else 201
        return web.json_response({"message": "DNS Record Created"}, status=status)

    def _domain_json(self, domain: str) -> dict[str, Any]:
        href = f"{self.url}/domains/{domain}"
        return {
            "fqdn": domain,
            "domain_href": href,
            "domain_keys_href": f"{href}/keys",
            "domain_records_href": f"{href}/records",
            "automatic_snapshots": True,
        }

    async def _control(self, request: web.Request) -> web.Response:
        what = request.match_info["what"]
        method = request.method
        try:
            if what == "requests" and method == "GET":
                return web.json_response([record.to_json() for record in self._requests])
            if what == "requests" and method == "DELETE":
                self.clear_requests()
                return web.Response(status=204)
            if what == "rrset" and method in ("GET", "DELETE"):
                query = request.query
                args = (query["domain"], query["name"], query["type"])
                if method == "DELETE":
                    self.delete_rrset(*args)
                    return web.Response(status=204)
                rrset = self.get_rrset(*args)
                if rrset is None:
                    return web.json_response({"error": "no such rrset"}, status=404)
                return web.json_response(asdict(rrset))
            data = await request.json() if method == "POST" else None
            if what == "rrset" and isinstance(data, dict):
                self.set_rrset(
                    data["domain"], data["name"], data["type"], list(data["values"]),
                    int(data.get("ttl", DEFAULT_TTL)),
                )  # fmt: skip
                return web.Response(status=204)
            if what == "fail" and method == "DELETE":
                self.clear_faults()
                return web.Response(status=204)
            if what == "fail" and isinstance(data, dict):
                self.fail_next(
                    data["kind"],
                    int(data.get("count", 1)),
                    retry_after=data.get("retry_after", "30"),
                    status=int(data.get("status", 400)),
                )
                return web.Response(status=204)
            if what == "rate_limit" and method == "DELETE":
                self.clear_rate_limit()
                return web.Response(status=204)
            if what == "rate_limit" and isinstance(data, dict):
                self.set_rate_limit(
                    int(data["max_requests"]),
                    float(data.get("per_seconds", 60.0)),
                    retry_after=bool(data.get("retry_after", True)),
                )
                return web.Response(status=204)
            if what == "token" and isinstance(data, dict):
                add = self.add_api_key if data.get("kind") == "api_key" else self.add_token
                add(data["secret"], list(data.get("domains", [])), name=data.get("name"))
                return web.Response(status=204)
            if what == "options" and isinstance(data, dict):
                self._set_options(data)
                return web.Response(status=204)
        except (KeyError, TypeError, ValueError) as err:
            return web.json_response({"error": f"bad control request: {err}"}, status=400)
        return web.json_response({"error": "unknown control request"}, status=404)

    def _set_options(self, data: dict[str, Any]) -> None:
        unknown = set(data) - {"generic_unknown_domain", "max_page_size", "send_total_count"}
        if unknown:
            raise ValueError(f"unknown options {sorted(unknown)}")
        if "generic_unknown_domain" in data:
            self.generic_unknown_domain = bool(data["generic_unknown_domain"])
        if "max_page_size" in data:
            size = data["max_page_size"]
            self.max_page_size = None if size is None else int(size)
        if "send_total_count" in data:
            self.send_total_count = bool(data["send_total_count"])


# ----- command line ----------------------------------------------------------------------------


def _credential_arg(text: str) -> tuple[str, list[str]]:
    secret, sep, domains = text.partition("=")
    if not sep or not secret:
        raise argparse.ArgumentTypeError("expected SECRET=domain[,domain...]")
    return secret, [domain for domain in domains.split(",") if domain]


def _record_arg(text: str) -> tuple[str, str, str, list[str]]:
    where, sep, values = text.partition("=")
    parts = where.split("/")
    if not sep or len(parts) != 3 or not all(parts) or not values:
        raise argparse.ArgumentTypeError("expected DOMAIN/NAME/TYPE=value[,value...]")
    return parts[0], parts[1], parts[2], values.split(",")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m devtools.fakes.gandi", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", type=_credential_arg, action="append", default=[])
    parser.add_argument("--api-key", type=_credential_arg, action="append", default=[])
    parser.add_argument("--record", type=_record_arg, action="append", default=[])
    parser.add_argument("--ttl", type=int, default=DEFAULT_TTL, help="TTL of --record rrsets")
    parser.add_argument(
        "--generic-unknown-domain",
        action="store_true",
        help='answer unknown domains with the generic 404, not "Unknown domain"',
    )
    parser.add_argument("--max-page-size", type=int, default=None, help="cut GET /domains pages")
    return parser


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeGandi(host=args.host)
    fake.generic_unknown_domain = args.generic_unknown_domain
    fake.max_page_size = args.max_page_size
    for secret, domains in args.token:
        fake.add_token(secret, domains)
    for secret, domains in args.api_key:
        fake.add_api_key(secret, domains)
    for domain, name, rtype, values in args.record:
        fake.set_rrset(domain, name, rtype, values, args.ttl)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await fake.start(args.port)
    line = {"url": fake.url, "control_url": fake.root_url + CONTROL_PREFIX, "port": fake.port}
    print(json.dumps({**line, "pid": os.getpid()}), flush=True)
    try:
        await stop.wait()
    finally:
        await fake.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fake until SIGTERM or SIGINT."""
    asyncio.run(_serve(_parser().parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
