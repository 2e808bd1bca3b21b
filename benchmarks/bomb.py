"""What a decompression bomb costs the HTTPS sources and the Gandi client: figures, not assertions.

    .venv/bin/python -m benchmarks.bomb

A separate process (this module with --serve) runs the fakes, so only the client's cost is
measured here: four fake HTTP sources (gzip and deflate, with and without Content-Length) and a
fake LiveDNS answering its bomb-* faults, each ~1 MB of compressed zeros (~220 MB inflated).

For each target, "fixed" is the code as it is (Accept-Encoding: identity, no automatic
decompression, a compressed answer refused) and "baseline" is the code before the fix, kept
here: the same request and body caps (1 KiB, 1 MiB), but aiohttp inflates as it reads. Each
call is measured twice, apart: the peak of Python allocations during it (tracemalloc) and, without
tracemalloc, the longest event-loop stall (a ticker task asks for 5 ms sleeps; the stall is how
much later than asked it woke) and the peak RSS growth (VmHWM, reset before each call); each
target and variant runs in a fresh process. The last line is one JSON object; targets: peak
< 50 MB and stall < 100 ms for the fixed code.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import contextlib
import json
import subprocess
import sys
import time
import tracemalloc
from typing import Any

import aiohttp

from benchmarks.process import serving, status_kb
from custom_components.esddns.gandi import Credential, CredentialKind, GandiClient, GandiError
from custom_components.esddns.wan import Family, OutcomeStatus, ask_source, https_source
from custom_components.esddns.wan.errors import MalformedAnswer
from devtools.fakes.gandi import CONTROL_PREFIX, FakeGandi, compressed_zeros
from devtools.fakes.http_source import FakeHttpSource

MODES = ("bomb-gzip", "bomb-deflate", "bomb-gzip-chunked", "bomb-deflate-chunked")
REPEATS = 3
TICK = 0.005
TOKEN = "token-bomb"
SOURCE_CAP = 1024
GANDI_CAP = 1024 * 1024
TARGET_PEAK_MB = 50
TARGET_STALL_MS = 100

type Call = Callable[[], Awaitable[None]]


# ----- the fakes, in their own process ---------------------------------------------------------


async def _serve() -> None:
    for encoding in ("gzip", "deflate"):
        compressed_zeros(encoding)
    sources = []
    for mode in MODES:
        fake = FakeHttpSource()
        fake.mode = mode  # type: ignore[assignment]
        sources.append(await fake.start())
    gandi = FakeGandi()
    gandi.add_token(TOKEN, ["example.com"])
    await gandi.start()
    line = {
        "sources": {fake.mode: fake.url for fake in sources},
        "gandi": gandi.url,
        "control": gandi.root_url + CONTROL_PREFIX,
    }
    print(json.dumps(line), flush=True)
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.Event().wait()  # until terminated


# ----- the code before the fix, for the baseline -----------------------------------------------


async def _baseline_source(session: aiohttp.ClientSession, url: str) -> None:
    async with session.get(
        url,
        headers={"Accept": "text/plain", "Cache-Control": "no-cache"},
        allow_redirects=False,
        timeout=aiohttp.ClientTimeout(total=None),
    ) as response:
        if response.content_length is not None and response.content_length > SOURCE_CAP:
            raise MalformedAnswer("body over 1 KiB")
        body = b""
        while len(body) <= SOURCE_CAP:
            chunk = await response.content.read(SOURCE_CAP + 1 - len(body))
            if not chunk:
                break
            body += chunk


async def _baseline_gandi(session: aiohttp.ClientSession, url: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    async with session.request(
        "GET", url, headers=headers, allow_redirects=False, timeout=aiohttp.ClientTimeout(total=30)
    ) as response:
        if response.content_length is not None and response.content_length > GANDI_CAP:
            return
        body = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            body += chunk
            if len(body) > GANDI_CAP:
                return


# ----- measuring -------------------------------------------------------------------------------


def _reset_rss_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")  # resets VmHWM to the current RSS
    except OSError:
        return False
    return True


async def _stall_and_rss(call: Call) -> tuple[float, float | None]:
    worst = 0.0
    stop = False

    async def ticker() -> None:
        nonlocal worst
        loop = asyncio.get_running_loop()
        while not stop:
            asked = loop.time()
            await asyncio.sleep(TICK)
            worst = max(worst, loop.time() - asked - TICK)

    reset = _reset_rss_peak()
    before = status_kb("VmRSS")
    task = asyncio.create_task(ticker())
    await asyncio.sleep(TICK * 2)
    await call()
    stop = True
    await task
    rss = (status_kb("VmHWM") - before) / 1024 if reset else None
    return worst * 1000, rss


async def _peak(call: Call) -> float:
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        await call()
        return (tracemalloc.get_traced_memory()[1] - before) / 2**20
    finally:
        tracemalloc.stop()


async def _measure(calls: list[Call]) -> dict[str, Any]:
    stalls: list[float] = []
    rss: list[float] = []
    peaks: list[float] = []
    walls: list[float] = []
    for call in calls:
        for _ in range(REPEATS):
            wall = time.perf_counter()
            stall, grown = await _stall_and_rss(call)
            walls.append((time.perf_counter() - wall) * 1000)
            stalls.append(stall)
            if grown is not None:
                rss.append(grown)
            peaks.append(await _peak(call))
    return {
        "peak_mb": round(max(peaks), 2),
        "rss_growth_mb": round(max(rss), 1) if rss else None,
        "max_stall_ms": round(max(stalls), 1),
        "max_call_ms": round(max(walls), 1),
        "calls": len(walls),
    }


async def measure(endpoints: dict[str, Any], target: str, variant: str) -> dict[str, Any]:
    """Measure one target's fixed or baseline code (in a process of its own: see main)."""
    async with aiohttp.ClientSession() as session, aiohttp.ClientSession() as control:

        async def queue_bomb(mode: str) -> None:
            payload = {"kind": mode}
            async with control.post(endpoints["control"] + "/fail", json=payload) as response:
                response.raise_for_status()

        def fixed_source(url: str) -> Call:
            async def call() -> None:
                source = https_source(url, provider="bomb")
                outcome = await ask_source(source, Family.IPV4, session=session, limit=30)
                assert outcome.status is OutcomeStatus.MALFORMED, outcome
                assert "compressed" in outcome.detail, outcome

            return call

        def baseline_source(url: str) -> Call:
            async def call() -> None:
                with contextlib.suppress(MalformedAnswer):
                    await _baseline_source(session, url)

            return call

        client = GandiClient(session, Credential(CredentialKind.TOKEN, TOKEN), endpoints["gandi"])

        def fixed_gandi(mode: str) -> Call:
            async def call() -> None:
                await queue_bomb(mode)
                try:
                    await client.list_domains()
                except GandiError as err:
                    message = err.message
                else:
                    raise AssertionError("the bomb was accepted")
                assert "compressed" in message, message

            return call

        def baseline_gandi(mode: str) -> Call:
            async def call() -> None:
                await queue_bomb(mode)
                await _baseline_gandi(session, endpoints["gandi"] + "/domains")

            return call

        make: Callable[[str], Call]
        if target == "sources":
            make = fixed_source if variant == "fixed" else baseline_source
            calls = [make(endpoints["sources"][mode]) for mode in MODES]
        else:
            make = fixed_gandi if variant == "fixed" else baseline_gandi
            calls = [make(mode) for mode in MODES]
        return await _measure(calls)


def _child(endpoints: dict[str, Any], target: str, variant: str) -> dict[str, Any]:
    # A fresh process each: memory freed by one measurement is kept by the allocator and would
    # hide the next one's RSS growth.
    output = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "benchmarks.bomb", "--measure", target, variant],
        input=json.dumps(endpoints),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, Any] = json.loads(output.splitlines()[-1])
    return result


def run(endpoints: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for target in ("sources", "gandi"):
        fixed = _child(endpoints, target, "fixed")
        baseline = _child(endpoints, target, "baseline")
        result[target] = {
            "fixed": fixed,
            "baseline": baseline,
            "peak_ratio": round(baseline["peak_mb"] / max(fixed["peak_mb"], 0.01), 1),
            "stall_ratio": round(baseline["max_stall_ms"] / max(fixed["max_stall_ms"], 0.1), 1),
            "meets_targets": fixed["peak_mb"] < TARGET_PEAK_MB
            and fixed["max_stall_ms"] < TARGET_STALL_MS,
        }
        for variant, figures in (("fixed", fixed), ("baseline", baseline)):
            print(
                f"{target:8} {variant:8} peak {figures['peak_mb']:7.2f} MB  "
                f"rss {figures['rss_growth_mb']} MB  stall {figures['max_stall_ms']:6.1f} ms"
            )
    result["compressed_bytes"] = len(compressed_zeros("gzip"))
    result["targets"] = {"peak_mb": TARGET_PEAK_MB, "stall_ms": TARGET_STALL_MS}
    result["repeats"] = REPEATS
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bomb")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve())
        return
    if args.measure:
        endpoints = json.loads(sys.stdin.read())
        print(json.dumps(asyncio.run(measure(endpoints, *args.measure))))
        return
    with serving("benchmarks.bomb", "--serve") as endpoints:
        result = run(endpoints)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
