"""An aiohttp "what is my IP" source on 127.0.0.1 that answers what a test wants.

`address` is what it reports; `mode` picks a plain body, a Cloudflare-style trace, an HTML page,
an endless (oversized) body, garbage, a hang, or a decompression bomb (~1 MB of gzip or deflate
compressed zeros, sent whatever Accept-Encoding said; "-chunked" without Content-Length);
`status` and `delay` apply to every mode. Everything may be changed while it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Literal

from aiohttp import web

from custom_components.esddns.wan import Family, Source, https_source
from devtools.fakes.gandi import send_bomb

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


class FakeHttpSource:
    """A controllable HTTP address source for tests, the demo and the benchmark."""

    def __init__(self, address: str = "81.2.69.142", *, provider: str | None = None) -> None:
        self.address = address
        self.provider = provider
        self.mode: HttpMode = "plain"
        self.status = 200
        self.delay = 0.0
        self.requests = 0
        self.accept_encoding: str | None = None  # of the last request
        self.oversized_sent = 0  # bytes of the endless body sent before the client hung up
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()

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

    async def start(self, host: str = "127.0.0.1") -> FakeHttpSource:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        # handler_cancellation: a client that gives up ends its hanging handler (and socket).
        self._runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, 0)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        self.accept_encoding = request.headers.get("Accept-Encoding")
        if self.delay > 0 or self.mode == "hang":
            # Wait out the delay (forever for "hang"), but never past stop().
            timeout = None if self.mode == "hang" else self.delay
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout)
        if self.mode == "oversized":
            return await self._endless(request)
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

    async def _endless(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=self.status)
        response.content_type = "text/plain"
        await response.prepare(request)
        chunk = (self.address + " ").encode() * 100
        try:
            while not self._stopping.is_set():
                await response.write(chunk)
                self.oversized_sent += len(chunk)
                await asyncio.sleep(0)
        except ConnectionError:
            pass  # the client stopped reading: what we want it to do
        return response
