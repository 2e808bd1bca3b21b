"""HTTP(S) "what is my IP" sources: one GET, a capped body, a strict parse.

Bodies are never inflated: aiohttp would inflate a gzip or deflate answer whole as it arrives,
before the 1 KiB cap applies (1 MB of compressed zeros is hundreds of MB and a long stall of the
event loop), so the request asks for identity, turns automatic decompression off, and a
compressed answer is malformed.
"""

from __future__ import annotations

import asyncio

import aiohttp

from .address import IPAddress
from .source import (
    MalformedAnswer,
    Source,
    SourceFailure,
    SourceRefused,
    SourceTimeout,
    parse_address,
)

BODY_CAP = 1024  # a bare address or a Cloudflare trace fits easily; anything bigger is wrong
_HEADERS = {"Accept": "text/plain", "Accept-Encoding": "identity", "Cache-Control": "no-cache"}
# The caller's limit (asyncio.timeout around the whole request, body included) is the deadline;
# the session's own (aiohttp's default: 5 min) would only add two timers to every request.
_NO_AIOHTTP_TIMEOUT = aiohttp.ClientTimeout(
    total=None, connect=None, sock_read=None, sock_connect=None
)


def parse_body(body: bytes) -> IPAddress:
    """The address in a body: one bare address, or the `ip=` line of a /cdn-cgi/trace page.

    Raises MalformedAnswer for anything else (HTML, several addresses, non-ASCII, over the cap).
    """
    if len(body) > BODY_CAP:
        raise MalformedAnswer("body over 1 KiB")
    try:
        text = body.decode("ascii").strip()
    except UnicodeDecodeError:
        raise MalformedAnswer("body is not ASCII text") from None
    if text.startswith("<"):
        raise MalformedAnswer("HTML page, not an address")
    if "\n" not in text and "=" not in text:
        return parse_address(text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not all("=" in line for line in lines):
        raise MalformedAnswer("neither an address nor a key=value trace")
    ips = [line[3:] for line in lines if line.startswith("ip=")]
    if len(ips) != 1:
        raise MalformedAnswer("trace without exactly one ip= line")
    return parse_address(ips[0])


def _refuse_compressed(response: aiohttp.ClientResponse) -> None:
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ("", "identity"):
        shown = "".join(char for char in encoding[:16] if char.isprintable())
        raise MalformedAnswer(f"compressed body ({shown}) refused")


async def _read_capped(response: aiohttp.ClientResponse) -> bytes:
    """At most BODY_CAP + 1 bytes: enough to know the body is too big, never the whole of it."""
    if response.content_length is not None and response.content_length > BODY_CAP:
        raise MalformedAnswer("body over 1 KiB")
    body = b""
    while len(body) <= BODY_CAP:
        chunk = await response.content.read(BODY_CAP + 1 - len(body))
        if not chunk:
            break
        body += chunk
    return body


async def query_https(source: Source, session: aiohttp.ClientSession, limit: float) -> IPAddress:
    """GET the source's URL and parse the address in the body."""
    try:
        async with (
            asyncio.timeout(limit),
            session.get(
                source.url,
                headers=_HEADERS,
                allow_redirects=False,
                timeout=_NO_AIOHTTP_TIMEOUT,
                auto_decompress=False,
            ) as response,
        ):
            if response.status != 200:
                raise SourceRefused(f"HTTP {response.status}")
            if response.content_type == "text/html":
                raise MalformedAnswer("HTML page, not an address")
            _refuse_compressed(response)
            body = await _read_capped(response)
    except TimeoutError:
        raise SourceTimeout("no answer") from None
    except aiohttp.ClientConnectorError as err:
        if isinstance(err.os_error, ConnectionRefusedError):
            raise SourceRefused("connection refused") from None
        raise SourceFailure(f"cannot connect: {err.os_error}") from None
    except (aiohttp.ClientError, OSError, ValueError) as err:
        raise SourceFailure(f"{type(err).__name__}: {err}") from None
    return parse_body(body)
