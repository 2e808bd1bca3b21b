"""A DNS-over-HTTPS "who am I" server on 127.0.0.1 (plain HTTP, RFC 8484 wire format).

POST /dns-query (application/dns-message) or GET /dns-query?dns=<base64url>. It answers A/AAAA
with `address` (when the family fits; otherwise an empty NOERROR answer) and TXT in any class
with `txt` (default: the address). `mode` picks a hostile answer instead: wrong_id, truncated,
pointer_loop, html, oversized, gzip, redirect, refused, servfail, nxdomain, garbage,
disconnect or hang;
`status` and `delay` apply to every mode. Everything may be changed while it runs.
"""

from __future__ import annotations

import base64
import binascii
import gzip
from typing import Literal

from aiohttp import web

from custom_components.esddns.wan import Family, Source, doh_source

from .dns import _parse_query, build_reply
from .web import LoopbackWebServer

type DohMode = Literal[
    "answer",
    "wrong_id",
    "truncated",
    "pointer_loop",
    "html",
    "oversized",
    "gzip",
    "redirect",
    "refused",
    "servfail",
    "nxdomain",
    "garbage",
    "disconnect",
    "hang",
]

MEDIA_TYPE = "application/dns-message"


class FakeDohServer(LoopbackWebServer):
    """A controllable DoH source for tests, the demo and the benchmark."""

    def __init__(self, address: str = "81.2.69.142", *, provider: str | None = None) -> None:
        super().__init__()
        self.address = address
        self.txt: list[str | bytes] | None = None
        self.provider = provider
        self.mode: DohMode = "answer"
        self.status = 200
        self.delay = 0.0
        self.requests = 0
        self.last_headers: dict[str, str] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/dns-query"

    def source(
        self,
        *,
        query_type: str = "TXT",
        query_class: str = "IN",
        provider: str | None = None,
        families: frozenset[Family] | None = None,
    ) -> Source:
        """A Source asking this server (TXT: either family; A/AAAA: their own)."""
        if families is None and query_type == "TXT":
            families = frozenset(Family)
        return doh_source(
            self.url,
            query_name="whoami.example",
            query_type=query_type,
            query_class=query_class,
            provider=provider or self.provider or f"fake-doh-{self.port}",
            families=families,
        )

    def _routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._handle)

    async def _query(self, request: web.Request) -> bytes | None:
        if request.method == "POST":
            return await request.read()
        text = request.query.get("dns", "")
        try:
            return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        self.last_headers = dict(request.headers)
        data = await self._query(request)
        query = _parse_query(data) if data is not None else None
        if query is None:
            return web.Response(status=400, text="not a DNS query")
        if self.delay > 0 or self.mode == "hang":
            await self._hold(None if self.mode == "hang" else self.delay)
        qid, flags, qname, qtype, qclass = query
        if self.mode == "redirect":
            raise web.HTTPFound("http://127.0.0.1:1/dns-query")
        if self.mode == "html":
            body = f"<html><body>Your IP is {self.address}</body></html>"
            return web.Response(status=self.status, text=body, content_type="text/html")
        if self.mode == "garbage":
            return self._message(b"\x00garbage")
        if self.mode == "disconnect":
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        if self.mode == "oversized":
            return await self._endless(
                request, status=self.status, content_type=MEDIA_TYPE, chunk=bytes(4096)
            )
        rcode_mode = self.mode if self.mode in ("refused", "servfail", "nxdomain") else "answer"
        message = build_reply(self.address, self.txt, rcode_mode, qid, flags, qname, qtype, qclass)
        if self.mode == "wrong_id":
            message = bytes([message[0] ^ 0xFF]) + message[1:]
        elif self.mode == "truncated":
            message = message[: len(message) - 3]
        elif self.mode == "pointer_loop":
            # The answer's owner name points at itself.
            start = 12 + len(qname) + 4
            loop = bytes([0xC0 | (start >> 8), start & 0xFF])
            message = message[:start] + loop + message[start + 2 :]
        if self.mode == "gzip":
            response = self._message(gzip.compress(message))
            response.headers["Content-Encoding"] = "gzip"
            return response
        return self._message(message)

    def _message(self, body: bytes) -> web.Response:
        return web.Response(status=self.status, body=body, content_type=MEDIA_TYPE)
