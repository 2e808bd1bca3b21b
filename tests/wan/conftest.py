"""Fixtures of the wan tests that the shared fixtures do not have: loopback DoH servers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from devtools.fakes.doh import FakeDohServer

type DohFactory = Callable[..., Awaitable[FakeDohServer]]


@pytest.fixture
async def doh_server(socket_enabled: None) -> AsyncIterator[DohFactory]:
    """Starts loopback DoH fakes on demand (`await doh_server(address=...)`); all are stopped."""
    running: list[FakeDohServer] = []

    async def start(address: str = "81.2.69.142") -> FakeDohServer:
        server = await FakeDohServer(address).start()
        running.append(server)
        return server

    yield start
    for server in reversed(running):
        await server.stop()
