"""DNS-over-HTTPS "who am I" sources (RFC 8484): one POST of a wire-format query.

No redirects, no compression (the body is refused if the server encodes it anyway), a small
body cap, and the strict codec of dns_wire; the values then follow the rules of plain DNS.
"""

from __future__ import annotations

import asyncio
import secrets

import aiohttp

from .address import IPAddress
from .dns import parse_dns_answer
from .dns_wire import build_query, parse_response
from .source import MalformedAnswer, Source, SourceFailure, SourceRefused, SourceTimeout

BODY_CAP = 2048  # a who-am-I answer is ~100 bytes; padded ones (RFC 8467) stay under 512
MEDIA_TYPE = "application/dns-message"
_HEADERS = {
    "Content-Type": MEDIA_TYPE,
    "Accept": MEDIA_TYPE,
    "Accept-Encoding": "identity",
    "Cache-Control": "no-cache",
}
_NO_AIOHTTP_TIMEOUT = aiohttp.ClientTimeout(
    total=None, connect=None, sock_read=None, sock_connect=None
)


async def _read_capped(response: aiohttp.ClientResponse) -> bytes:
    if response.content_length is not None and response.content_length > BODY_CAP:
        raise MalformedAnswer("DNS message over the cap")
    body = b""
    while len(body) <= BODY_CAP:
        chunk = await response.content.read(BODY_CAP + 1 - len(body))
        if not chunk:
            break
        body += chunk
    if len(body) > BODY_CAP:
        raise MalformedAnswer("DNS message over the cap")
    return body


async def query_doh(source: Source, session: aiohttp.ClientSession, limit: float) -> IPAddress:
    """POST the source's question to its URL and parse the address in the answer."""
    qid = secrets.randbits(16)
    query = build_query(qid, source.query_name, source.query_type, source.query_class)
    try:
        async with (
            asyncio.timeout(limit),
            session.post(
                source.url,
                data=query,
                headers=_HEADERS,
                allow_redirects=False,
                auto_decompress=False,
                timeout=_NO_AIOHTTP_TIMEOUT,
            ) as response,
        ):
            if response.status != 200:
                raise SourceRefused(f"HTTP {response.status}")
            encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
            if encoding != "identity":
                raise MalformedAnswer(f"encoded body ({encoding[:16]}) refused")
            if response.content_type != MEDIA_TYPE:
                raise MalformedAnswer(f"not a DNS message: {response.content_type[:40]}")
            body = await _read_capped(response)
    except TimeoutError:
        raise SourceTimeout("no answer") from None
    except aiohttp.ClientConnectorError as err:
        if isinstance(err.os_error, ConnectionRefusedError):
            raise SourceRefused("connection refused") from None
        raise SourceFailure(f"cannot connect: {err.os_error}") from None
    except (aiohttp.ClientError, OSError, ValueError) as err:
        raise SourceFailure(f"{type(err).__name__}: {err}") from None
    values = parse_response(body, qid, source.query_name, source.query_type, source.query_class)
    return parse_dns_answer(values)
