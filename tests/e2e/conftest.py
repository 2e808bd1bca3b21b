"""One real Home Assistant, the fake Gandi LiveDNS, the loopback sources and coturn, as
processes shared by the e2e tests of a module. Every process is stopped by its pid at teardown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import select
import signal
import socket
import subprocess
import sys
import time
from typing import IO, Any

import aiohttp
import pytest
import pytest_socket  # type: ignore[import-untyped]

from devtools import harness
from tests.fixtures_wan import coturn_command, free_port

START_TIMEOUT = 90.0  # hass on 2 busy cores; it usually answers within 5 s
FAKE_TIMEOUT = 20.0
# The loopback sources answer this late, so coturn (instant) is never cancelled by the quorum
# and always shows its own outcome.
SOURCE_DELAY = 0.3

# One account, two domains, four records: A only, AAAA only, both, and AAAA with an interface
# identifier (the host's own address in the delegated /64).
V6 = harness.Record(harness.DOMAIN, "v6", ("AAAA",))
DUAL = harness.Record(harness.OTHER_DOMAIN, "dual", ("A", "AAAA"))
NAS = harness.Record(harness.OTHER_DOMAIN, "nas", ("AAAA",), "::10")
RECORDS = (harness.HOME, V6, DUAL, NAS)


@dataclass
class Stack:
    """The running processes and what the tests need to reach them."""

    tmp: Path
    config: Path
    port: int
    gandi: dict[str, Any]
    sources: dict[str, Any]
    coturn: str  # 127.0.0.1:PORT
    entry_id: str = ""
    token: str = ""  # the demo user's access token (valid 30 minutes, across restarts)
    configured_log_size: int = 0  # size of home-assistant.log once ESDDNS used the fakes
    hass_process: subprocess.Popen[bytes] | None = None
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _logs: list[IO[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Home Assistant's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        """Start a process from the repository root; stderr goes to a file in tmp."""
        log = (self.tmp / f"{name}.log").open("ab")
        self._logs.append(log)
        process = subprocess.Popen(  # noqa: S603 - our own commands, no shell
            command, cwd=harness.REPO, stdout=subprocess.PIPE, stderr=log
        )
        self.processes.append(process)
        return process

    def start_hass(self) -> None:
        """Start hass on the config folder; its console output goes to a file in tmp."""
        log = (self.tmp / "hass.out").open("ab")
        self._logs.append(log)
        self.hass_process = subprocess.Popen(  # noqa: S603 - our own command, no shell
            harness.hass_command(self.config),
            cwd=harness.REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(self.hass_process)

    def stop_hass(self) -> int:
        """SIGTERM hass and wait for it; its exit code."""
        assert self.hass_process is not None
        code = stop(self.hass_process)
        self.processes.remove(self.hass_process)
        self.hass_process = None
        return code

    def close(self) -> None:
        """Stop every process still running (hass first), then close the log files."""
        for process in reversed(self.processes):
            stop(process)
        self.processes.clear()
        for log in self._logs:
            log.close()


def stop(process: subprocess.Popen[bytes], timeout: float = 30.0) -> int:
    """SIGTERM, wait, SIGKILL if it must; the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    if process.stdout is not None:
        process.stdout.close()
    return process.returncode


def read_json_line(process: subprocess.Popen[bytes], timeout: float) -> dict[str, Any]:
    """The JSON line a fake prints once it listens."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    line = process.stdout.readline() if ready else b""
    if not line:
        raise RuntimeError(
            f"{process.args!r} printed nothing in {timeout} s (exit {process.poll()})"
        )
    found: dict[str, Any] = json.loads(line)
    return found


def wait_for_stun(port: int, timeout: float) -> None:
    """Until a STUN Binding request over UDP gets an answer."""
    request = bytes.fromhex("000100002112a442") + os.urandom(12)
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        while True:
            sock.sendto(request, ("127.0.0.1", port))
            try:
                if sock.recv(2048)[8:20] == request[8:20]:
                    return
            except TimeoutError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"coturn on port {port} did not answer in {timeout} s")


def start_coturn(stack: Stack) -> str:
    """Debian's coturn as a STUN-only server on loopback; its endpoint. ESDDNS_COTURN=HOST:PORT
    names a running one instead (scripts/test --latest: the host's, for tests in its chroot)."""
    if external := os.environ.get("ESDDNS_COTURN"):
        wait_for_stun(int(external.rpartition(":")[2]), FAKE_TIMEOUT)
        return external
    port = free_port()
    stack.spawn("coturn", coturn_command(port, stack.tmp))
    wait_for_stun(port, FAKE_TIMEOUT)
    return f"127.0.0.1:{port}"


async def _prepare(stack: Stack) -> None:
    """Make the sources slow enough for coturn, onboard, add ESDDNS, wait until it is loaded."""
    async with aiohttp.ClientSession() as session:
        async with session.post(
            stack.sources["control"] + "/behaviour",
            json={kind: [{"delay": SOURCE_DELAY}] * 2 for kind in ("stun", "http")},
        ) as response:
            response.raise_for_status()
        hass = harness.Hass(session, stack.url)
        await hass.wait_until_up(time.monotonic() + START_TIMEOUT)
        await hass.onboard()
        options = harness.esddns_options(stack.sources, [stack.coturn])
        stack.entry_id = await harness.add_esddns(hass, stack.gandi["url"], options, RECORDS)
        await hass.wait_for_state(harness.PUBLIC_IPV4, harness.PUBLIC, within=30)
        await hass.wait_for_state(harness.PUBLIC_IPV6, harness.PUBLIC6, within=30)
        stack.token = hass.token or ""
    stack.configured_log_size = (stack.config / "home-assistant.log").stat().st_size


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Everything started, onboarded and configured; stopped at the end of the module."""
    # Module-scoped setup runs before the first test's socket_enabled; loopback only.
    pytest_socket.enable_socket()
    tmp = tmp_path_factory.mktemp("e2e")
    stack = Stack(tmp=tmp, config=tmp / "config", port=free_port(), gandi={}, sources={}, coturn="")
    try:
        # Gandi already holds what the records need: setting up writes nothing.
        seeded = [
            f"--record={r.domain}/{r.name}/{t}="
            + ",".join(r.values(t, harness.PUBLIC, harness.PUBLIC6))
            for r in RECORDS
            for t in r.types
        ]
        gandi = stack.spawn(
            "gandi",
            [
                sys.executable, "-m", "devtools.fakes.gandi", "--token",
                f"{harness.TOKEN}={harness.DOMAIN},{harness.OTHER_DOMAIN}", *seeded,
                "--ttl", str(harness.TTL),
            ],
        )  # fmt: skip
        stack.gandi = read_json_line(gandi, FAKE_TIMEOUT)
        sources = stack.spawn(
            "sources",
            [
                sys.executable, "-m", "devtools.fakes.sources", "--address", harness.PUBLIC,
                "--address6", harness.PUBLIC6, "--stun", "2", "--http", "2",
            ],
        )  # fmt: skip
        stack.sources = read_json_line(sources, FAKE_TIMEOUT)
        stack.coturn = start_coturn(stack)
        harness.write_config(stack.config, stack.port)
        stack.start_hass()
        asyncio.run(_prepare(stack))
        yield stack
    finally:
        stack.close()
