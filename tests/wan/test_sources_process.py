"""The fakes as one separate process (`python -m devtools.fakes.sources`), driven over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
import json
import subprocess
import sys
from typing import Any

import aiohttp
import pytest

from custom_components.esddns.wan import (
    DetectionMode,
    Family,
    OutcomeStatus,
    Scoreboard,
    detect,
    doh_source,
    parse_stun_server,
    sources_for,
)


@pytest.fixture
async def sources_process(socket_enabled: None) -> AsyncIterator[dict[str, Any]]:
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, read line by line below
        [
            sys.executable,
            "-m",
            "devtools.fakes.sources",
            "--address",
            "81.2.69.142",
            "--stun",
            "2",
            "--http",
            "2",
            "--dns",
            "1",
            "--doh",
            "1",
            "--control-port",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = await _readline(process)
        yield json.loads(line)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


async def _readline(process: subprocess.Popen[str]) -> str:
    import asyncio

    assert process.stdout is not None
    return await asyncio.get_running_loop().run_in_executor(None, process.stdout.readline)


async def test_sources_process(
    sources_process: dict[str, Any], wan_session: aiohttp.ClientSession
) -> None:
    endpoints = sources_process
    sources = sources_for(
        DetectionMode.STUN_HTTPS,
        Family.IPV4,
        stun_servers=endpoints["stun"] + endpoints["stun_tcp"],
        https_urls=endpoints["http"],
    )
    assert len(sources) == 6
    assert all(s.host == "127.0.0.1" or "127.0.0.1" in s.url for s in sources)
    first = await detect(sources, Family.IPV4, session=wan_session, quorum=4, timeout=3)
    assert str(first.address) == "81.2.69.142"

    control = endpoints["control"]
    async with wan_session.post(f"{control}/address", data="81.2.69.143") as response:
        assert response.status == 200
    async with wan_session.post(
        f"{control}/behaviour", json={"stun": [{"mode": "silent"}, None]}
    ) as response:
        assert response.status == 200
    second = await detect(sources, Family.IPV4, session=wan_session, quorum=3, timeout=1)
    assert str(second.address) == "81.2.69.143"
    silent = [
        o
        for o in second.outcomes
        if o.source.port == parse_stun_server(endpoints["stun"][0])[0].port
    ]
    assert silent
    assert all(o.status is not OutcomeStatus.ADDRESS for o in silent)

    async with wan_session.get(f"{control}/requests") as response:
        counts = await response.json()
    assert counts["http"] == [2, 2]  # every HTTP source was needed for both quorums
    assert counts["stun"][1] >= 2
    assert counts["doh"] == [0]

    # The DoH server answers in wire format, and obeys its controls like the others.
    doh = doh_source(endpoints["doh"][0], query_name="whoami.example", query_type="A")
    board = Scoreboard()
    async with wan_session.post(
        f"{control}/behaviour", json={"stun": [{"mode": "answer"}]}
    ) as response:
        assert response.status == 200
    third = await detect((*sources, doh), Family.IPV4, session=wan_session, quorum=5, timeout=3)
    assert doh in [o.source for o in third.agreeing]
    async with wan_session.post(
        f"{control}/behaviour", json={"doh": [{"mode": "wrong_id"}]}
    ) as response:
        assert response.status == 200
    fourth = await detect((doh,), Family.IPV4, session=wan_session, scoreboard=board, quorum=1)
    assert fourth.outcomes[0].status is OutcomeStatus.MALFORMED
    async with wan_session.get(f"{control}/requests") as response:
        assert (await response.json())["doh"] == [2]
    async with wan_session.post(f"{control}/address", data="not an address") as response:
        assert response.status == 400
    async with wan_session.post(f"{control}/behaviour", json={"http": [{"port": 1}]}) as response:
        assert response.status == 400
