"""DNS "who am I" sources: a special name asked directly of its provider's server.

Works with aiodns 3 (pycares 4: `query()` returns per-type result lists) and aiodns 4
(pycares 5: `query_dns()` returns a DNSResult; `query()` is deprecated). The code path is picked
by feature detection, never by version strings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import aiodns
import pycares

from .address import IPAddress
from .errors import MalformedAnswer, SourceFailure, SourceRefused, SourceTimeout
from .models import Source
from .sources import parse_address

# Google adds this informational TXT record when the query carries an EDNS client subnet.
_INFO_PREFIXES = ("edns0-client-subnet",)

_REFUSED = frozenset(
    {pycares.errno.ARES_EREFUSED, pycares.errno.ARES_ECONNREFUSED, pycares.errno.ARES_ESERVFAIL}
)
_NO_ADDRESS = frozenset(
    {
        pycares.errno.ARES_ENOTFOUND,
        pycares.errno.ARES_ENODATA,
        pycares.errno.ARES_EBADRESP,
        pycares.errno.ARES_EFORMERR,
    }
)


def parse_dns_answer(values: Sequence[str | bytes]) -> IPAddress:
    """The one address in the answer's A/AAAA/TXT values; MalformedAnswer otherwise.

    Every value must be an address (informational TXT records aside) and all must agree.
    """
    found: set[IPAddress] = set()
    for value in values:
        if isinstance(value, bytes):
            try:
                value = value.decode("ascii")
            except UnicodeDecodeError:
                raise MalformedAnswer("TXT record is not ASCII") from None
        text = value.strip().strip('"')
        if text.startswith(_INFO_PREFIXES):
            continue
        found.add(parse_address(text))
    if len(found) != 1:
        raise MalformedAnswer("no address in the answer" if not found else "several addresses")
    return found.pop()


def _values_of_dns_result(result: Any, query_type: str) -> list[str | bytes]:
    """A/AAAA addresses or TXT strings from a pycares 5 DNSResult (other records skipped)."""
    wanted = getattr(pycares, f"QUERY_TYPE_{query_type}")
    values: list[str | bytes] = []
    for record in result.answer:
        if record.type != wanted:
            continue
        value = getattr(record.data, "data" if query_type == "TXT" else "addr", None)
        if isinstance(value, (str, bytes)):
            values.append(value)
    return values


def _values_of_results(results: Any, query_type: str) -> list[str | bytes]:
    """A/AAAA addresses or TXT strings from pycares 4 result objects."""
    attr = "text" if query_type == "TXT" else "host"
    values: list[str | bytes] = []
    for record in results:
        value = getattr(record, attr, None)
        if isinstance(value, (str, bytes)):
            values.append(value)
    return values


async def _close(resolver: aiodns.DNSResolver) -> None:
    """Release the resolver's sockets (and, with pycares 5, its event thread) now."""
    close = getattr(resolver, "close", None)
    if close is not None:  # aiodns >= 3.3
        await close()
        return
    resolver.cancel()  # aiodns 3.2: ending the query makes c-ares close its sockets
    # aiodns 3.2 can re-arm its poll timer after c-ares gave up on its own; don't leave it behind.
    timer = getattr(resolver, "_timer", None)
    if isinstance(timer, asyncio.TimerHandle):
        timer.cancel()


async def query_dns(source: Source, limit: float) -> IPAddress:
    """Ask the source's server for its "who am I" name and parse the answer."""
    loop = asyncio.get_running_loop()
    # c-ares gets more time than we wait, so our timeout, not c-ares's, always ends the query.
    resolver = aiodns.DNSResolver(
        nameservers=[source.host],
        loop=loop,
        udp_port=source.port,
        tcp_port=source.port,
        timeout=max(limit * 0.6, 0.1),
        tries=2,
    )
    try:
        async with asyncio.timeout(limit):
            query_dns_native = getattr(resolver, "query_dns", None)
            if query_dns_native is not None:  # aiodns >= 4
                result = await query_dns_native(
                    source.query_name, source.query_type, source.query_class
                )
                values = _values_of_dns_result(result, source.query_type)
            else:
                results = await resolver.query(
                    source.query_name, source.query_type, source.query_class
                )
                values = _values_of_results(results, source.query_type)
    except TimeoutError:
        raise SourceTimeout("no answer") from None
    except aiodns.error.DNSError as err:
        code = err.args[0] if err.args else None
        detail = str(err.args[1]) if len(err.args) > 1 else "DNS error"
        if code == pycares.errno.ARES_ETIMEOUT:
            raise SourceTimeout(detail) from None
        if code in _REFUSED:
            raise SourceRefused(detail) from None
        if code in _NO_ADDRESS:
            raise MalformedAnswer(detail) from None
        raise SourceFailure(detail) from None
    finally:
        await _close(resolver)
    return parse_dns_answer(values)
