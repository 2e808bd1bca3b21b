"""DNS-over-HTTPS "who am I" sources (RFC 8484): one POST of a wire-format query.

No redirects, no compression (the body is refused if the server encodes it anyway), a small
body cap, and the strict codec of dns_wire; the values then follow the rules of plain DNS.
"""

from __future__ import annotations

import secrets

import aiohttp

from .address import IPAddress
from .dns import parse_dns_answer
from .dns_wire import build_query, parse_response
from .errors import MalformedAnswer
from .http import fetch
from .models import Source

BODY_CAP = 2048  # a who-am-I answer is ~100 bytes; padded ones (RFC 8467) stay under 512
MEDIA_TYPE = "application/dns-message"
_HEADERS = {"Content-Type": MEDIA_TYPE, "Accept": MEDIA_TYPE, "Cache-Control": "no-cache"}


def _dns_message(response: aiohttp.ClientResponse) -> None:
    if response.content_type != MEDIA_TYPE:
        raise MalformedAnswer(f"not a DNS message: {response.content_type[:40]}")


async def query_doh(source: Source, session: aiohttp.ClientSession, limit: float) -> IPAddress:
    """POST the source's question to its URL and parse the address in the answer."""
    qid = secrets.randbits(16)
    query = build_query(qid, source.query_name, source.query_type, source.query_class)
    body = await fetch(
        session,
        "POST",
        source.url,
        limit=limit,
        headers=_HEADERS,
        cap=BODY_CAP,
        too_big="DNS message over the cap",
        check=_dns_message,
        data=query,
    )
    values = parse_response(body, qid, source.query_name, source.query_type, source.query_class)
    return parse_dns_answer(values)
