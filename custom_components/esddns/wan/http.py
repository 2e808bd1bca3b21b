"""HTTP(S) "what is my IP" sources: one GET, a capped body, a strict parse.

Bodies are never inflated: aiohttp would inflate a gzip or deflate answer whole as it arrives,
before the 1 KiB cap applies (1 MB of compressed zeros is hundreds of MB and a long stall of the
event loop), so the request asks for identity, turns automatic decompression off, and a
compressed answer is malformed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import aiohttp

from .address import IPAddress
from .errors import MalformedAnswer, SourceFailure, SourceRefused, SourceTimeout
from .models import Source
from .sources import parse_address

BODY_CAP = 1024  # a bare address or a Cloudflare trace fits easily; anything bigger is wrong
_HEADERS = {"Accept": "text/plain", "Cache-Control": "no-cache"}
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


async def _read_capped(response: aiohttp.ClientResponse, cap: int, too_big: str) -> bytes:
    """At most ``cap`` bytes: one more is enough to know the body is too big."""
    if response.content_length is not None and response.content_length > cap:
        raise MalformedAnswer(too_big)
    body = b""
    while len(body) <= cap:
        chunk = await response.content.read(cap + 1 - len(body))
        if not chunk:
            break
        body += chunk
    if len(body) > cap:
        raise MalformedAnswer(too_big)
    return body


async def fetch(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    limit: float,
    headers: Mapping[str, str],
    cap: int,
    too_big: str,
    check: Callable[[aiohttp.ClientResponse], None] = lambda response: None,
    data: bytes | None = None,
) -> bytes:
    """One request to a source, the way every HTTPS-borne source is asked.

    No redirects, nothing inflated, 200 only, ``check`` on the headers, a body of at most
    ``cap`` bytes, all within ``limit`` seconds; every failure is a SourceFailure.
    """
    try:
        async with (
            asyncio.timeout(limit),
            session.request(
                method,
                url,
                data=data,
                headers={**headers, "Accept-Encoding": "identity"},
                allow_redirects=False,
                auto_decompress=False,
                timeout=_NO_AIOHTTP_TIMEOUT,
            ) as response,
        ):
            if response.status != 200:
                raise SourceRefused(f"HTTP {response.status}")
            check(response)
            _refuse_compressed(response)
            return await _read_capped(response, cap, too_big)
    except TimeoutError:
        raise SourceTimeout("no answer") from None
    except aiohttp.ClientConnectorError as err:
        if isinstance(err.os_error, ConnectionRefusedError):
            raise SourceRefused("connection refused") from None
        raise SourceFailure(f"cannot connect: {err.os_error}") from None
    except (aiohttp.ClientError, OSError, ValueError) as err:
        raise SourceFailure(f"{type(err).__name__}: {err}") from None


def _not_html(response: aiohttp.ClientResponse) -> None:
    if response.content_type == "text/html":
        raise MalformedAnswer("HTML page, not an address")


async def query_https(source: Source, session: aiohttp.ClientSession, limit: float) -> IPAddress:
    """GET the source's URL and parse the address in the body."""
    body = await fetch(
        session,
        "GET",
        source.url,
        limit=limit,
        headers=_HEADERS,
        cap=BODY_CAP,
        too_big="body over 1 KiB",
        check=_not_html,
    )
    return parse_body(body)
