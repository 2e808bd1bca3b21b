"""Soak: 10,000 detection and sync cycles under random faults, in one process.

    .venv/bin/python -m benchmarks.soak

What runs here: the real engine (`wan.detect`, quorum 2, early exit), the real syncer of one
account (`plan.plan` and `plan.apply` over two `records.ManagedRecord`s: home.example.com and
home.example.org, A) and the real `gandi.GandiClient`, driven by a small loop that mirrors the
record coordinator: read the records every READ_EVERY cycles (and after a failed read, and right
after a write), write only with a consensus and only on drift, send nothing for the cycles a 429
asks. Home Assistant's coordinators are not used (their scheduling is covered by
tests/test_faults.py).
The fakes run in two subprocesses (devtools.fakes.sources, devtools.fakes.gandi), so the fds, memory
and CPU measured here are the updater's alone.

The public address changes every PERIOD cycles. Faults come from a fixed seed:
- sources: now and then every source draws a new state: healthy, dead (UDP silent, TCP and HTTP
  hanging) or lying, each liar with its own lie (quorum 2 of 6 providers: two liars agreeing
  would be the "colluding providers" case SECURITY.md says is not defended);
- Gandi: the next request fails with 429 (with and without Retry-After), 409, 500, 502, 503, a
  hang, a cut connection, HTML, an empty or wrong-shaped 200.

`expected_writes`, what a correct updater must send, is counted from the fake's own log:
one write per record and address period (the records start absent, and each period's address
differs from the last), plus one retry for each PUT a fault answered. The fake never applies a
write it answered with a fault (even a 200 "empty" or "wrong-shape" one), so each of them leaves
the record drifted and must be retried, once. `writes` is every PUT the fake received.
`wrong_writes` counts PUTs whose value is not the public address of their period (lies, stale
or non-consensus values). `periods_synced` counts periods that ended with every record holding
their address.

The last line is one JSON object.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from ipaddress import IPv4Address
import json
import math
import random
import time
from typing import Any

import aiohttp

from benchmarks.process import open_fds, serving, status_kb
from custom_components.esddns.gandi import (
    Credential,
    CredentialKind,
    GandiClient,
    GandiError,
    GandiRateLimitError,
    Rrset,
)
from custom_components.esddns.plan import Action, Step, apply, plan
from custom_components.esddns.records import ManagedRecord, RecordKey
from custom_components.esddns.wan import (
    Family,
    Source,
    SourceKind,
    detect,
    https_source,
    stun_source,
)

SEED = 20261124
CYCLES = 10_000
PERIOD = 500  # cycles between two changes of the public address
WARMUP = 200  # cycles before fds and memory are first measured
READ_EVERY = 12  # a record check every 12 detections (60 min / 5 min, as in Home Assistant)
QUORUM = 2
DETECT_TIMEOUT = 0.15  # scaled down from 5 s: a round without quorum costs this much
GANDI_TIMEOUT = 0.5  # scaled down from 10 s: a hanging request costs this much
DEFAULT_RATE_WAIT = 60.0  # a 429 without Retry-After, as in Home Assistant
CYCLE_SECONDS = 300  # what one cycle stands for: the default 5-minute detection interval
SOURCE_CHANGE_P = 0.05  # chance per cycle that the sources draw new states
DEAD_P, LIAR_P = 0.2, 0.2  # per source, at each draw
GANDI_FAULT_P = 0.01  # chance per cycle of a Gandi fault on the next request
GANDI_FAULT_AT_CHANGE_P = 0.7  # and at an address change, where it likely hits the write
GANDI_FAULTS = (
    *("429", "429-bare", "409", "500", "502", "503"),
    *("hang", "cut", "garbage", "empty", "wrong-shape"),
)
TOKEN = "soak-token"
DOMAINS, NAME, TTL = ("example.com", "example.org"), "home", 300
# One account with a record in each of its two domains, as their subentries store them.
RECORDS = tuple(
    ManagedRecord.from_data(
        f"record-{domain}",
        {"domain": domain, "name": NAME, "record_types": ["A"], "ttl": TTL, "auto_sync": True},
    )
    for domain in DOMAINS
)
KEYS = tuple(key for record in RECORDS for key in record.keys)


def _rss_mb() -> float:
    return status_kb("VmRSS") / 1024


def _address(period: int) -> str:
    return str(IPv4Address("81.2.69.10") + period)  # public (81.2.69.0/24), a new one each period


@dataclass
class Updater:
    """The records coordinator's decisions, without Home Assistant."""

    client: GandiClient
    rrsets: dict[RecordKey, Rrset | None] = field(default_factory=dict)
    known: bool = False  # whether `rrsets` is what the last read said
    not_before: int = 0  # the first cycle Gandi lets us call again
    number: int = 0  # the current cycle

    async def _read(self) -> None:
        self.known = False
        self.rrsets = {
            key: await self.client.get_rrset(key.domain, key.name, key.type) for key in KEYS
        }
        self.known = True

    async def _write(self, step: Step) -> None:
        """One PUT, as the coordinator's writer: none while Gandi asked us to wait."""
        if self.number < self.not_before:
            raise GandiRateLimitError("still rate limited", retry_after=None)
        try:
            await self.client.put_rrset(
                step.key.domain, step.key.name, step.key.type, list(step.after), step.ttl
            )
        except GandiRateLimitError as err:
            # The wait is in Gandi's seconds, counted in the cycles it spans (each stands for a
            # detection interval): a run on a faster machine must not skip more cycles.
            wait = err.retry_after if err.retry_after is not None else DEFAULT_RATE_WAIT
            self.not_before = self.number + 1 + math.ceil(wait / CYCLE_SECONDS)
            raise

    async def cycle(self, number: int, sources: list[Source], session: Any) -> bool:
        """One detection and what follows; True when there was a consensus."""
        self.number = number
        detection = await detect(
            sources, Family.IPV4, session=session, quorum=QUORUM, timeout=DETECT_TIMEOUT
        )
        address = detection.address
        if number < self.not_before:
            return address is not None  # Gandi asked us to wait
        try:
            if not self.known or number % READ_EVERY == 0:
                await self._read()
            if address is None:
                return False
            steps = plan(RECORDS, self.rrsets, {Family.IPV4: address})
            if not any(step.write for step in steps):
                return True
            self.known = False  # whatever happens next, read before deciding again
            results, _ = await apply(steps, self._write)
            if any(r.action is Action.UPDATED for r in results) and number >= self.not_before:
                await self._read()  # read back
        except GandiRateLimitError as err:
            wait = err.retry_after if err.retry_after is not None else DEFAULT_RATE_WAIT
            self.not_before = number + 1 + math.ceil(wait / CYCLE_SECONDS)
        except GandiError:
            pass  # the next cycle reads again, then writes if a record still drifts
        return address is not None


@dataclass
class Soak:
    sources_control: str
    gandi_control: str
    control: aiohttp.ClientSession
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))
    states: list[str] = field(default_factory=list)  # per source: ok, dead, liar
    faults: int = 0

    async def _post(self, url: str, payload: Any) -> None:
        async with self.control.post(url, json=payload) as response:
            response.raise_for_status()

    async def set_sources(self, truth: str, count: int, stun: int) -> None:
        """Send every fake its mode and address for the current states and truth."""
        behaviour: dict[str, list[dict[str, Any]]] = {"stun": [], "http": []}
        for index, state in enumerate(self.states):
            address = _address(1000 + index) if state == "liar" else truth
            if index < stun:
                mode = "silent" if state == "dead" else "answer"
                behaviour["stun"].append({"mode": mode, "address": address})
            else:
                mode = "hang" if state == "dead" else "plain"
                behaviour["http"].append({"mode": mode, "address": address})
        await self._post(f"{self.sources_control}/behaviour", behaviour)

    def draw_states(self, count: int) -> None:
        self.states = [
            "dead" if r < DEAD_P else "liar" if r < DEAD_P + LIAR_P else "ok"
            for r in (self.rng.random() for _ in range(count))
        ]

    async def gandi_fault(self) -> None:
        kind = self.rng.choice(GANDI_FAULTS)
        payload: dict[str, Any] = {"kind": kind.removesuffix("-bare"), "count": 1}
        if kind.startswith("429"):
            payload["retry_after"] = None if kind == "429-bare" else "1"
        await self._post(f"{self.gandi_control}/fail", payload)
        self.faults += 1

    async def gandi_log(self) -> list[dict[str, Any]]:
        async with self.control.get(f"{self.gandi_control}/requests") as response:
            log: list[dict[str, Any]] = await response.json()
            return log

    async def gandi_records(self) -> list[list[str] | None]:
        """What Gandi holds for each record."""
        found: list[list[str] | None] = []
        for domain in DOMAINS:
            query = {"domain": domain, "name": NAME, "type": "A"}
            async with self.control.get(f"{self.gandi_control}/rrset", params=query) as response:
                if response.status == 404:
                    found.append(None)
                    continue
                values: list[str] = (await response.json())["values"]
                found.append(values)
        return found


async def run(sources_info: dict[str, Any], gandi_info: dict[str, Any]) -> dict[str, Any]:
    stun_endpoints: list[str] = sources_info["stun"]
    sources: list[Source] = []
    for index, endpoint in enumerate(stun_endpoints):
        host, port = endpoint.rsplit(":", 1)
        kind = SourceKind.STUN_UDP if index % 2 == 0 else SourceKind.STUN_TCP
        sources.append(stun_source(host, int(port), provider=f"stun{index}", kind=kind))
    for index, url in enumerate(sources_info["http"]):
        sources.append(https_source(url, provider=f"http{index}"))

    # No keep-alive: in Home Assistant, detections are minutes apart and record checks an hour,
    # longer than any keep-alive, so every request opens its own connection there too.
    connector = aiohttp.TCPConnector(force_close=True)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        # The harness's own connections must not linger into the fd counts either.
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as control,
    ):
        soak = Soak(sources_info["control"], gandi_info["control_url"], control)
        client = GandiClient(
            session,
            Credential(CredentialKind.TOKEN, TOKEN),
            gandi_info["url"],
            timeout=GANDI_TIMEOUT,
        )
        updater = Updater(client)
        soak.draw_states(len(sources))
        marks: list[tuple[int, str]] = []  # (index in Gandi's log, the period's address)
        synced_periods = 0
        no_consensus = 0
        fds_before = rss_before = cpu_before = 0.0
        started = time.perf_counter()
        for number in range(CYCLES):
            if number == WARMUP:
                fds_before, rss_before, cpu_before = open_fds(), _rss_mb(), time.process_time()
            change = number % PERIOD == 0
            if change:
                if number:
                    synced_periods += await soak.gandi_records() == [[marks[-1][1]]] * len(KEYS)
                marks.append((len(await soak.gandi_log()), _address(number // PERIOD)))
            redraw = soak.rng.random() < SOURCE_CHANGE_P
            if redraw:
                soak.draw_states(len(sources))
            if change or redraw:
                await soak.set_sources(marks[-1][1], len(sources), len(stun_endpoints))
            if soak.rng.random() < (GANDI_FAULT_AT_CHANGE_P if change else GANDI_FAULT_P):
                await soak.gandi_fault()
            no_consensus += not await updater.cycle(number, sources, session)
        synced_periods += await soak.gandi_records() == [[marks[-1][1]]] * len(KEYS)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
        await asyncio.sleep(0.2)  # closed transports leave the fd table
        fds_after, rss_after = open_fds(), _rss_mb()
        log = await soak.gandi_log()

    puts = [(index, r) for index, r in enumerate(log) if r["method"] == "PUT"]
    wrong = 0
    for index, request in puts:
        truth = [address for at, address in marks if at <= index][-1]
        wrong += request["body"]["rrset_values"] != [truth]
    faulted_puts = sum(1 for _, r in puts if r["fault"] is not None)
    periods = len(marks)
    print(
        f"{CYCLES} cycles in {elapsed:.0f} s; {periods} address periods, {synced_periods} ended "
        f"in sync; {no_consensus} cycles without consensus; {soak.faults} Gandi faults injected, "
        f"{faulted_puts} of them on a write; {len(log)} Gandi requests"
    )
    return {
        "cycles": CYCLES,
        "writes": len(puts),
        "expected_writes": periods * len(KEYS) + faulted_puts,
        "wrong_writes": wrong,
        "fd_delta": fds_after - fds_before,
        "rss_growth_mb": round(rss_after - rss_before, 2),
        "cpu_ms_per_cycle": round(cpu * 1000 / (CYCLES - WARMUP), 3),
        "periods_synced": synced_periods,
        "periods": periods,
        "no_consensus_cycles": no_consensus,
        "gandi_faults": soak.faults,
        "elapsed_s": round(elapsed, 1),
    }


def main() -> None:
    with (
        serving(
            "devtools.fakes.sources", "--stun", "4", "--http", "2", "--control-port", "0"
        ) as sources_info,
        serving("devtools.fakes.gandi", "--token", f"{TOKEN}={','.join(DOMAINS)}") as gandi_info,
    ):
        result = asyncio.run(run(sources_info, gandi_info))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
