"""HTTP(S) sources: the strict body parser and the client against a loopback fake."""

from __future__ import annotations

import asyncio
from ipaddress import ip_address
import tracemalloc

import aiohttp
import pytest

from custom_components.esddns.wan import Family, OutcomeStatus, ask_source, https_source
from custom_components.esddns.wan.errors import MalformedAnswer
from custom_components.esddns.wan.http import BODY_CAP, parse_body
from devtools.fakes.gandi import compressed_zeros
from tests.fixtures_wan import WanFakes

PUBLIC = ip_address("81.2.69.142")


@pytest.mark.parametrize(
    ("body", "address"),
    [
        (b"81.2.69.142", "81.2.69.142"),
        (b"  81.2.69.142\r\n", "81.2.69.142"),
        (b"2a00:1450:4007:80e::200e\n", "2a00:1450:4007:80e::200e"),
        (b"fl=1f1\nh=1.1.1.1\nip=81.2.69.142\nts=1.2\n", "81.2.69.142"),
        (b"ip=2a00:1450::1\nloc=FR", "2a00:1450::1"),
    ],
)
def test_parse_body(body: bytes, address: str) -> None:
    assert parse_body(body) == ip_address(address)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n",
        b"<html><body>81.2.69.142</body></html>",
        b"81.2.69.142 93.184.216.34",
        b"81.2.69.142\n93.184.216.34",
        b"ip=81.2.69.142\nip=93.184.216.34",
        b"fl=1\nh=x\n",
        b"081.002.069.142",
        b"fe80::1%eth0",
        b"81.2.69.142\xff",
        b"\xef\xbb\xbf81.2.69.142",
        b"81.2.69.142/24",
        b"1" * (BODY_CAP + 1),
        b"Your IP: 81.2.69.142",
    ],
)
def test_parse_body_rejects(body: bytes) -> None:
    with pytest.raises(MalformedAnswer):
        parse_body(body)


@pytest.mark.parametrize("mode", ["plain", "trace"])
async def test_answer(wan_fakes: WanFakes, wan_session: aiohttp.ClientSession, mode: str) -> None:
    fake = await wan_fakes.http_source()
    fake.mode = mode  # type: ignore[assignment]
    outcome = await ask_source(fake.source(), Family.IPV4, session=wan_session, limit=2)
    assert (outcome.status, outcome.address) == (OutcomeStatus.ADDRESS, PUBLIC)
    fake.address = "2a00:1450:4007:80e::200e"
    outcome = await ask_source(fake.source(), Family.IPV6, session=wan_session, limit=2)
    assert str(outcome.address) == "2a00:1450:4007:80e::200e"


@pytest.mark.parametrize(
    ("mode", "status_code", "address", "status"),
    [
        ("html", 200, "81.2.69.142", OutcomeStatus.MALFORMED),
        ("garbage", 200, "81.2.69.142", OutcomeStatus.MALFORMED),
        ("plain", 503, "81.2.69.142", OutcomeStatus.REFUSED),
        ("plain", 302, "81.2.69.142", OutcomeStatus.REFUSED),
        ("hang", 200, "81.2.69.142", OutcomeStatus.TIMEOUT),
        ("plain", 200, "2a00:1450::1", OutcomeStatus.MALFORMED),  # wrong family
        ("plain", 200, "10.0.0.138", OutcomeStatus.NOT_PUBLIC),
        ("trace", 200, "203.0.113.7", OutcomeStatus.NOT_PUBLIC),
    ],
)
async def test_failures(
    wan_fakes: WanFakes,
    wan_session: aiohttp.ClientSession,
    mode: str,
    status_code: int,
    address: str,
    status: OutcomeStatus,
) -> None:
    fake = await wan_fakes.http_source(address)
    fake.mode, fake.status = mode, status_code  # type: ignore[assignment]
    outcome = await ask_source(fake.source(), Family.IPV4, session=wan_session, limit=0.5)
    assert outcome.status is status, outcome
    assert len(outcome.detail) <= 120
    if status_code != 200:
        assert str(status_code) in outcome.detail


async def test_oversized_body_is_not_read_to_the_end(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    """An endless body is malformed at once (reading it whole would time out instead)."""
    fake = await wan_fakes.http_source()
    fake.mode = "oversized"
    outcome = await ask_source(fake.source(), Family.IPV4, session=wan_session, limit=3)
    assert outcome.status is OutcomeStatus.MALFORMED
    assert "1 KiB" in outcome.detail


async def test_declared_oversized_body(
    socket_enabled: None, wan_session: aiohttp.ClientSession
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nContent-Type: text/plain\r\n\r\n")
        writer.write(b"81.2.69.142")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        source = https_source(f"http://127.0.0.1:{port}/", provider="p")
        outcome = await ask_source(source, Family.IPV4, session=wan_session, limit=2)
    finally:
        server.close()
        await server.wait_closed()
    assert outcome.status is OutcomeStatus.MALFORMED


async def test_refused_and_protocol_errors(
    socket_enabled: None, wan_session: aiohttp.ClientSession
) -> None:
    async def nonsense(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SSH-2.0-not-http\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(nonsense, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        source = https_source(f"http://127.0.0.1:{port}/", provider="p")
        outcome = await ask_source(source, Family.IPV4, session=wan_session, limit=2)
        assert outcome.status is OutcomeStatus.ERROR
    finally:
        server.close()
        await server.wait_closed()
    outcome = await ask_source(source, Family.IPV4, session=wan_session, limit=2)
    assert outcome.status is OutcomeStatus.REFUSED
    tls = https_source(f"https://127.0.0.1:{port}/", provider="p")
    assert (
        await ask_source(tls, Family.IPV4, session=wan_session, limit=2)
    ).status is OutcomeStatus.REFUSED


@pytest.mark.parametrize(
    "mode", ["bomb-gzip", "bomb-deflate", "bomb-gzip-chunked", "bomb-deflate-chunked"]
)
async def test_a_decompression_bomb_is_malformed_and_never_inflated(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession, mode: str
) -> None:
    """~1 MB of compressed zeros (~220 MB inflated) is refused before a byte of it is read."""
    fake = await wan_fakes.http_source()
    fake.mode = mode  # type: ignore[assignment]
    compressed_zeros("gzip" if "gzip" in mode else "deflate")  # made before measuring
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        outcome = await ask_source(fake.source(), Family.IPV4, session=wan_session, limit=5)
        growth = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    # Refused unread it costs well under 1 MiB; inflated by aiohttp, tens of MiB or more.
    assert growth < 10 * 1024 * 1024, f"{growth / 2**20:.0f} MiB"
    assert outcome.status is OutcomeStatus.MALFORMED, outcome
    assert "compressed" in outcome.detail
    assert fake.accept_encoding == "identity"
    fake.mode = "plain"
    outcome = await ask_source(fake.source(), Family.IPV4, session=wan_session, limit=5)
    assert (outcome.status, outcome.address) == (OutcomeStatus.ADDRESS, PUBLIC)


@pytest.mark.parametrize("encoding", ["identity", "Identity", ""])
async def test_an_identity_content_encoding_is_read(
    socket_enabled: None, wan_session: aiohttp.ClientSession, encoding: str
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        header = f"Content-Encoding: {encoding}\r\n".encode() if encoding else b""
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n"
            + header
            + b"Connection: close\r\n\r\n81.2.69.142\n"
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        source = https_source(f"http://127.0.0.1:{port}/", provider="p")
        outcome = await ask_source(source, Family.IPV4, session=wan_session, limit=2)
    finally:
        server.close()
        await server.wait_closed()
    assert (outcome.status, outcome.address) == (OutcomeStatus.ADDRESS, PUBLIC)
