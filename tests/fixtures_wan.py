"""Pytest fixtures for the wan fakes: loopback STUN, HTTP and DNS sources, and real coturn.

    async def test_x(wan_fakes, wan_session):
        fakes = await wan_fakes.start(stun=2, http=2, dns=1, address="81.2.69.142")
        detection = await detect(fakes.sources, Family.IPV4, session=wan_session)
        fakes.set_address("81.2.69.143")      # the "public address" changes mid-test
        fakes.stun[0].mode = "silent"         # or any other behaviour of one fake

Every fake is stopped at teardown. `coturn` starts Debian's turnserver on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
import os
from pathlib import Path
import shutil
import socket
import subprocess
import time

import aiohttp
import pytest

from custom_components.esddns.wan import Family, Source, SourceKind, dns_source
from devtools.fakes.dns import FakeDnsServer
from devtools.fakes.http_source import FakeHttpSource
from devtools.fakes.stun import FakeStunServer


@dataclass
class FakeSources:
    """A set of running fakes; `sources` asks each once (STUN over UDP, DNS as TXT)."""

    stun: list[FakeStunServer] = field(default_factory=list)
    http: list[FakeHttpSource] = field(default_factory=list)
    dns: list[FakeDnsServer] = field(default_factory=list)

    @property
    def sources(self) -> tuple[Source, ...]:
        return (
            tuple(s.source() for s in self.stun)
            + tuple(h.source() for h in self.http)
            + tuple(fake_dns_source(d) for d in self.dns)
        )

    @property
    def tcp_sources(self) -> tuple[Source, ...]:
        return tuple(s.source(SourceKind.STUN_TCP) for s in self.stun)

    @property
    def requests(self) -> int:
        return sum(f.requests for f in (*self.stun, *self.http, *self.dns))

    def set_address(self, address: str) -> None:
        for fake in (*self.stun, *self.http, *self.dns):
            fake.address = address


def fake_dns_source(
    server: FakeDnsServer,
    *,
    query_type: str = "TXT",
    query_class: str = "IN",
    provider: str | None = None,
) -> Source:
    """A DNS source asking `server` (TXT answers for either family; A/AAAA for their own)."""
    return dns_source(
        "127.0.0.1",
        server.port,
        query_name="whoami.example",
        query_type=query_type,
        query_class=query_class,
        provider=provider or f"fake-dns-{server.port}",
        families=frozenset(Family) if query_type == "TXT" else None,
    )


class WanFakes:
    """Starts fakes on demand and stops them all at teardown."""

    def __init__(self) -> None:
        self._running: list[FakeStunServer | FakeHttpSource | FakeDnsServer] = []

    async def start(
        self, *, stun: int = 0, http: int = 0, dns: int = 0, address: str = "81.2.69.142"
    ) -> FakeSources:
        return FakeSources(
            [await self.stun_server(address) for _ in range(stun)],
            [await self.http_source(address) for _ in range(http)],
            [await self.dns_server(address) for _ in range(dns)],
        )

    async def stun_server(self, address: str = "81.2.69.142") -> FakeStunServer:
        server = await FakeStunServer(address).start()
        self._running.append(server)
        return server

    async def http_source(self, address: str = "81.2.69.142") -> FakeHttpSource:
        server = await FakeHttpSource(address).start()
        self._running.append(server)
        return server

    async def dns_server(self, address: str = "81.2.69.142") -> FakeDnsServer:
        server = await FakeDnsServer(address).start()
        self._running.append(server)
        return server

    async def stop(self) -> None:
        for fake in reversed(self._running):
            await fake.stop()
        self._running.clear()


@pytest.fixture
async def wan_fakes(socket_enabled: None) -> AsyncIterator[WanFakes]:
    """A factory of loopback STUN/HTTP/DNS fakes, all stopped at teardown."""
    fakes = WanFakes()
    yield fakes
    await fakes.stop()


@pytest.fixture
async def wan_session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp session for the HTTP sources (Home Assistant's own in production)."""
    async with aiohttp.ClientSession() as session:
        yield session


def free_port() -> int:
    """A port free for both TCP and UDP on 127.0.0.1 (coturn listens on both)."""
    for _ in range(50):
        with socket.socket() as tcp, socket.socket(type=socket.SOCK_DGRAM) as udp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise OSError("no free port")  # pragma: no cover


def coturn_command(port: int, tmp: Path) -> list[str]:
    """Debian's coturn as a STUN-only server on 127.0.0.1:port, its files in ``tmp``. Without
    turnserver the test is skipped, or fails under CI=true."""
    binary = shutil.which("turnserver")
    if binary is None:
        message = "turnserver (Debian's coturn) is missing; scripts/setup installs it"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return [
        binary, "--listening-ip=127.0.0.1", f"--listening-port={port}", "--stun-only",
        "--no-cli", "--no-tls", "--no-dtls", "--log-file=stdout", "--simple-log",
        f"--pidfile={tmp / 'turnserver.pid'}", f"--userdb={tmp / 'turndb'}",
    ]  # fmt: skip


@pytest.fixture
def coturn(socket_enabled: None, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """Debian's coturn answering STUN on 127.0.0.1 (UDP and TCP). Under CI=true a missing
    turnserver fails the test instead of skipping it. ESDDNS_COTURN=HOST:PORT names a running
    one instead (scripts/test --latest starts the host's for tests inside its chroot)."""
    if external := os.environ.get("ESDDNS_COTURN"):
        host, _, port = external.rpartition(":")
        yield host, int(port)
        return
    port = free_port()
    args = coturn_command(port, tmp_path)
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        deadline = time.monotonic() + 10
        while True:  # ready when it accepts TCP (it binds UDP first)
            if process.poll() is not None:
                pytest.fail(f"turnserver exited with {process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("turnserver did not start listening")
                time.sleep(0.05)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover
            process.kill()
            process.wait()
