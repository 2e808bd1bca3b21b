"""Detection latency and cost against loopback sources: figures, not assertions.

    .venv/bin/python -m benchmarks.detect

8 STUN (4 UDP, 4 TCP) and 5 HTTP sources run in a separate process (devtools.fakes.sources), so
the CPU time measured here is the engine's alone. Each round draws every source's delay from a
fixed seed (5-150 ms); 30% of the sources are dead (UDP silent, TCP accepting and hanging, HTTP
hanging). Compared: the engine (quorum 2, early exit) against the quorum-th fastest live source
(the limit no strategy can beat) and against waiting for every source (the original ESDDNS
strategy) with the same per-source timeout. The last line is one JSON object.

The HTTP session does not keep connections alive: in Home Assistant, rounds are minutes apart,
longer than the keep-alive, so each round opens fresh connections there too.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from typing import Any

import aiohttp

from custom_components.esddns.wan import (
    Family,
    OutcomeStatus,
    Source,
    SourceKind,
    ask_source,
    detect,
    https_source,
    stun_source,
)

SEED = 8489
STUN, HTTP = 8, 5
DEAD_SHARE = 0.3
QUORUM = 2
PER_SOURCE_TIMEOUT = 1.0
ENGINE_ROUNDS = 1000  # latency over all of them; fds before and after them
BASELINE_ROUNDS = 50
WARMUP_ROUNDS = 20
ADDRESS = "81.2.69.142"


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Bench:
    def __init__(
        self,
        endpoints: dict[str, Any],
        session: aiohttp.ClientSession,
        control: aiohttp.ClientSession,
    ) -> None:
        self.control = endpoints["control"]
        self.session = session
        self.control_session = control  # kept alive, so its upkeep stays out of the rounds
        self.rng = random.Random(SEED)
        self.sources: list[Source] = []
        for i, hostport in enumerate(endpoints["stun"]):
            host, port = hostport.rsplit(":", 1)
            kind = SourceKind.STUN_UDP if i % 2 == 0 else SourceKind.STUN_TCP
            self.sources.append(stun_source(host, int(port), provider=f"stun{i}", kind=kind))
        for i, url in enumerate(endpoints["http"]):
            self.sources.append(https_source(url, provider=f"http{i}"))
        count = len(self.sources)
        self.dead = set(self.rng.sample(range(count), round(count * DEAD_SHARE)))

    async def new_round(self) -> float:
        """Draw this round's delays, send them to the fakes; return the limit in ms."""
        delays = [self.rng.uniform(0.005, 0.150) for _ in self.sources]
        behaviour: dict[str, list[dict[str, Any]]] = {"stun": [], "http": []}
        for i, source in enumerate(self.sources):
            dead = i in self.dead
            if source.kind is SourceKind.HTTPS:
                behaviour["http"].append({"delay": delays[i], "mode": "hang" if dead else "plain"})
            else:
                behaviour["stun"].append(
                    {"delay": delays[i], "mode": "silent" if dead else "answer"}
                )
        url = f"{self.control}/behaviour"
        async with self.control_session.post(url, json=behaviour) as response:
            response.raise_for_status()
            await response.read()  # a body left unread sometimes costs the kept-alive connection
        live = sorted(d for i, d in enumerate(delays) if i not in self.dead)
        return live[QUORUM - 1] * 1000

    async def engine_round(self) -> tuple[float, float]:
        cpu, wall = time.process_time(), time.perf_counter()
        detection = await detect(
            self.sources,
            Family.IPV4,
            session=self.session,
            quorum=QUORUM,
            timeout=PER_SOURCE_TIMEOUT,
        )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert str(detection.address) == ADDRESS, detection
        return wall * 1000, cpu * 1000

    async def baseline_round(self) -> float:
        """Ask every source, wait for each to answer or time out, then compare."""
        wall = time.perf_counter()
        outcomes = await asyncio.gather(
            *(
                ask_source(s, Family.IPV4, session=self.session, limit=PER_SOURCE_TIMEOUT)
                for s in self.sources
            )
        )
        votes: dict[object, set[str]] = {}
        for o in outcomes:
            if o.status is OutcomeStatus.ADDRESS:
                votes.setdefault(o.address, set()).add(o.source.provider)
        assert any(len(v) >= QUORUM for v in votes.values())
        return (time.perf_counter() - wall) * 1000


async def run(endpoints: dict[str, Any]) -> dict[str, float]:
    connector = aiohttp.TCPConnector(force_close=True)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        aiohttp.ClientSession() as control,
    ):
        bench = Bench(endpoints, session, control)
        for _ in range(WARMUP_ROUNDS):
            await bench.new_round()
            await bench.engine_round()
        fds_before = _fds()
        engine, limits, cpus = [], [], []
        for _ in range(ENGINE_ROUNDS):
            limits.append(await bench.new_round())
            wall, cpu = await bench.engine_round()
            engine.append(wall)
            cpus.append(cpu)
        await asyncio.sleep(0.1)  # closed sockets leave the table
        fds_after = _fds()
        baseline = []
        for _ in range(BASELINE_ROUNDS):
            await bench.new_round()
            baseline.append(await bench.baseline_round())
    engine_p50 = statistics.median(engine)
    print(f"sources: {len(bench.sources)}, dead: {sorted(bench.dead)}, quorum {QUORUM}")
    print(f"engine   p50 {engine_p50:7.1f} ms  p95 {_percentile(engine, 0.95):7.1f} ms")
    print(f"limit    p50 {statistics.median(limits):7.1f} ms  (quorum-th fastest live source)")
    print(f"baseline p50 {statistics.median(baseline):7.1f} ms  (wait for all)")
    print(
        f"ratios: engine/limit {engine_p50 / statistics.median(limits):.2f}, "
        f"baseline/engine {statistics.median(baseline) / engine_p50:.1f}"
    )
    return {
        "engine_p50_ms": round(engine_p50, 2),
        "engine_p95_ms": round(_percentile(engine, 0.95), 2),
        "limit_p50_ms": round(statistics.median(limits), 2),
        "baseline_p50_ms": round(statistics.median(baseline), 2),
        "cpu_ms_per_round": round(statistics.mean(cpus), 3),
        "fd_delta": fds_after - fds_before,
        "engine_rounds": ENGINE_ROUNDS,
        "baseline_rounds": BASELINE_ROUNDS,
    }


def main() -> None:
    process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [
            sys.executable,
            "-m",
            "devtools.fakes.sources",
            "--address",
            ADDRESS,
            "--stun",
            str(STUN),
            "--http",
            str(HTTP),
            "--control-port",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        endpoints = json.loads(process.stdout.readline())
        result = asyncio.run(run(endpoints))
    finally:
        process.terminate()
        process.wait(timeout=10)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
