"""What the loopback HTTP fakes share: an aiohttp app on a port the OS picks, and answers that
wait or stream until the test stops the server."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Self

from aiohttp import web


class LoopbackWebServer:
    """An aiohttp server on loopback; subclasses add their routes in ``_routes``."""

    def __init__(self) -> None:
        self.port = 0
        self.streamed = 0  # bytes of endless bodies sent before the clients hung up
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()

    def _routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self, host: str = "127.0.0.1") -> Self:
        app = web.Application()
        self._routes(app)
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

    async def _hold(self, seconds: float | None) -> None:
        """Wait ``seconds`` (forever with None), but never past stop()."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _endless(
        self, request: web.Request, *, status: int, content_type: str, chunk: bytes
    ) -> web.StreamResponse:
        """A body that never ends, until the client stops reading or the server stops."""
        response = web.StreamResponse(status=status)
        response.content_type = content_type
        await response.prepare(request)
        try:
            while not self._stopping.is_set():
                await response.write(chunk)
                self.streamed += len(chunk)
                await asyncio.sleep(0)
        except ConnectionError:
            pass  # the client stopped reading: what we want it to do
        return response
