"""An aiohttp "what is my IP" source on 127.0.0.1 that answers what a test wants.

`address` is what it reports; `mode` picks a plain body, a Cloudflare-style trace, an HTML page,
an endless (oversized) body, garbage, a hang, or a decompression bomb (~1 MB of gzip or deflate
compressed zeros, sent whatever Accept-Encoding said; "-chunked" without Content-Length);
`status` and `delay` apply to every mode. Everything may be changed while it runs.
"""

from __future__ import annotations

from typing import Literal

from aiohttp import web

from custom_components.esddns.wan import Family, Source, https_source
from devtools.fakes.gandi import send_bomb

from .web import LoopbackWebServer

type HttpMode = Literal[
    "plain",
    "trace",
    "html",
    "oversized",
    "garbage",
    "hang",
    "bomb-gzip",
    "bomb-deflate",
    "bomb-gzip-chunked",
    "bomb-deflate-chunked",
]


class FakeHttpSource(LoopbackWebServer):
    """A controllable HTTP address source for tests, the demo and the benchmark."""

    def __init__(self, address: str = "81.2.69.142", *, provider: str | None = None) -> None:
        super().__init__()
        self.address = address
        self.provider = provider
        self.mode: HttpMode = "plain"
        self.status = 200
        self.delay = 0.0
        self.requests = 0
        self.accept_encoding: str | None = None  # of the last request

    @property
    def url(self) -> str:
        path = "/cdn-cgi/trace" if self.mode == "trace" else "/"
        return f"http://127.0.0.1:{self.port}{path}"

    def source(
        self, *, provider: str | None = None, families: frozenset[Family] = frozenset(Family)
    ) -> Source:
        """A Source that asks this server (both families: the fake may report either)."""
        return https_source(
            self.url,
            provider=provider or self.provider or f"fake-http-{self.port}",
            families=families,
        )

    def _routes(self, app: web.Application) -> None:
        app.router.add_get("/{tail:.*}", self._handle)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        self.accept_encoding = request.headers.get("Accept-Encoding")
        if self.delay > 0 or self.mode == "hang":
            await self._hold(None if self.mode == "hang" else self.delay)
        if self.mode == "oversized":
            return await self._endless(
                request,
                status=self.status,
                content_type="text/plain",
                chunk=(self.address + " ").encode() * 100,
            )
        if self.mode.startswith("bomb-"):
            return await self._bomb(request)
        if self.mode == "html":
            body = f"<html><body>Your IP is {self.address}</body></html>"
            return web.Response(status=self.status, text=body, content_type="text/html")
        if self.mode == "trace":
            body = f"fl=1f1\nh=1.1.1.1\nip={self.address}\nts=1.2\nvisit_scheme=https\n"
        elif self.mode == "garbage":
            body = "\x00garbage \ufffd"
        else:
            body = f"{self.address}\n"
        return web.Response(status=self.status, text=body, content_type="text/plain")

    async def _bomb(self, request: web.Request) -> web.StreamResponse:
        return await send_bomb(request, self.mode, status=self.status, content_type="text/plain")
