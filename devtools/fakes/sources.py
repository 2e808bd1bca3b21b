"""Run loopback STUN (UDP+TCP), HTTP, DNS and DoH sources in one process, for the demo and e2e.

    python -m devtools.fakes.sources --address 81.2.69.142 --stun 2 --http 2 --doh 1 \
        [--address6 2a01:4f8:c17:1::1] --control-port 8765

prints one JSON line with the endpoints, then serves a control API on 127.0.0.1:
    POST /address     body "81.2.69.143" (or {"address": ...}): every source reports it (with
                      --address6, only the sources of the address's family)
    POST /behaviour   {"stun": [{"mode": "silent", "delay": 0.05}, ...], "http": [...]}
                      (entries in source order, also "dns" and "doh"; keys are the fakes'
                      attributes; null = leave as is)
    GET  /requests    {"stun": [n, ...], "http": [...], "dns": [...], "doh": [...]}
The JSON line's "doh" lists each DoH server's URL (POST or GET /dns-query, any name: TXT answers
the address in any class, A/AAAA when the family fits).
With --address6, as many STUN and HTTP sources again listen on ::1 and report that IPv6 address
(kinds "stun6" and "http6"; the JSON line lists them as "[::1]:PORT" and "http://[::1]:PORT/").
It stops on SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from ipaddress import ip_address
import json
import signal
from typing import Any

from aiohttp import web

from .dns import FakeDnsServer
from .doh import FakeDohServer
from .http_source import FakeHttpSource
from .stun import FakeStunServer

_SETTABLE = {"mode", "delay", "status", "drop_first", "error_code", "spoof", "late_duplicate"}
_SETTABLE |= {"address", "txt"}

type Fake = FakeStunServer | FakeHttpSource | FakeDnsServer | FakeDohServer


class Sources:
    """The running fakes and their control API."""

    def __init__(self, fakes: dict[str, list[Fake]]) -> None:
        self.fakes = fakes

    def endpoints(self, control_port: int) -> dict[str, Any]:
        stun = self.fakes["stun"]
        return {
            "control": f"http://127.0.0.1:{control_port}",
            "stun": [f"127.0.0.1:{s.port}" for s in stun],
            "stun_tcp": [f"tcp://127.0.0.1:{s.port}" for s in stun],
            "http": [f"http://127.0.0.1:{h.port}/" for h in self.fakes["http"]],
            "dns": [f"127.0.0.1:{d.port}" for d in self.fakes["dns"]],
            "doh": [d.url for d in self.fakes["doh"] if isinstance(d, FakeDohServer)],
            "stun6": [f"[::1]:{s.port}" for s in self.fakes.get("stun6", [])],
            "http6": [f"http://[::1]:{h.port}/" for h in self.fakes.get("http6", [])],
        }

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/address", self._address)
        app.router.add_post("/behaviour", self._behaviour)
        app.router.add_get("/requests", self._requests)
        return app

    async def _address(self, request: web.Request) -> web.Response:
        text = (await request.text()).strip()
        if text.startswith("{"):
            text = str(json.loads(text).get("address", ""))
        try:
            address = str(ip_address(text))
        except ValueError:
            return web.json_response({"error": f"not an address: {text[:64]!r}"}, status=400)
        dual = any(kind.endswith("6") and fakes for kind, fakes in self.fakes.items())
        for kind, fakes in self.fakes.items():
            if dual and kind.endswith("6") != (":" in address):
                continue
            for fake in fakes:
                fake.address = address
        return web.json_response({"address": address})

    async def _behaviour(self, request: web.Request) -> web.Response:
        changes = await request.json()
        for kind, entries in changes.items():
            for fake, entry in zip(self.fakes.get(kind, []), entries, strict=False):
                for key, value in (entry or {}).items():
                    if key not in _SETTABLE or not hasattr(fake, key):
                        return web.json_response({"error": f"cannot set {key}"}, status=400)
                    if value is not None:
                        setattr(fake, key, value)
        return web.json_response({"ok": True})

    async def _requests(self, request: web.Request) -> web.Response:
        counts = {kind: [f.requests for f in fakes] for kind, fakes in self.fakes.items()}
        return web.json_response(counts)


async def run(args: argparse.Namespace) -> None:
    fakes: dict[str, list[Fake]] = {
        "stun": [await FakeStunServer(args.address).start() for _ in range(args.stun)],
        "http": [await FakeHttpSource(args.address).start() for _ in range(args.http)],
        "dns": [await FakeDnsServer(args.address).start() for _ in range(args.dns)],
        "doh": [await FakeDohServer(args.address).start() for _ in range(args.doh)],
    }
    if args.address6:
        six = args.address6
        fakes["stun6"] = [await FakeStunServer(six).start("::1") for _ in range(args.stun)]
        fakes["http6"] = [await FakeHttpSource(six).start("::1") for _ in range(args.http)]
    sources = Sources(fakes)
    runner = web.AppRunner(sources.app(), access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.control_port)
    await site.start()
    server = site._server
    assert isinstance(server, asyncio.Server)
    port = server.sockets[0].getsockname()[1]
    print(json.dumps(sources.endpoints(port)), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        for kind in fakes.values():
            for fake in kind:
                with contextlib.suppress(Exception):
                    await fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="81.2.69.142", help="the public address to report")
    parser.add_argument("--stun", type=int, default=2, help="STUN servers (UDP and TCP each)")
    parser.add_argument("--http", type=int, default=2, help="HTTP sources")
    parser.add_argument("--dns", type=int, default=0, help="DNS servers")
    parser.add_argument("--doh", type=int, default=0, help="DNS-over-HTTPS servers (plain HTTP)")
    parser.add_argument(
        "--address6", default=None, help="also run IPv6 STUN and HTTP sources on ::1 reporting it"
    )
    parser.add_argument("--control-port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args()
    str(ip_address(args.address))  # fail early on a bad address
    if args.address6 is not None and ip_address(args.address6).version != 6:
        parser.error("--address6 must be an IPv6 address")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
