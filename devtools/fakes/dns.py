"""A tiny UDP DNS server on 127.0.0.1 for "who am I" sources.

It answers A/AAAA with `address` (when the family fits; otherwise an empty NOERROR answer), and
TXT in any class with `txt` (default: the address as text). `mode` switches to garbage, NXDOMAIN,
REFUSED, SERVFAIL or silence. Every attribute may be changed while it runs.
"""

from __future__ import annotations

import asyncio
from ipaddress import IPv4Address, ip_address
import struct
from typing import Any, Literal

type DnsMode = Literal[
    "answer", "silent", "garbage", "truncated", "nxdomain", "refused", "servfail"
]

TYPE_A, TYPE_AAAA, TYPE_TXT = 1, 28, 16
_RCODES = {"nxdomain": 3, "refused": 5, "servfail": 2}


def _parse_query(data: bytes) -> tuple[int, int, bytes, int, int] | None:
    """(id, flags, raw question name, qtype, qclass) of a query, or None if it is not one."""
    if len(data) < 12:
        return None
    qid, flags, qdcount = struct.unpack_from("!HHH", data)
    if flags & 0x8000 or qdcount != 1:
        return None
    offset = 12
    while offset < len(data) and data[offset]:
        offset += 1 + data[offset]
    if offset + 5 > len(data):
        return None
    qname = data[12 : offset + 1]
    qtype, qclass = struct.unpack_from("!HH", data, offset + 1)
    return qid, flags, qname, qtype, qclass


def _txt_rdata(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    chunks = [raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""]
    return b"".join(bytes([len(c)]) + c for c in chunks)


class FakeDnsServer(asyncio.DatagramProtocol):
    """Answer "who am I" queries with a chosen address or behaviour."""

    def __init__(self, address: str = "81.2.69.142") -> None:
        self.address = address
        self.txt: list[str | bytes] | None = None  # None: [address]
        self.mode: DnsMode = "answer"
        self.delay = 0.0
        self.requests = 0
        self.port = 0
        self._transport: asyncio.DatagramTransport | None = None
        self._pending: set[asyncio.TimerHandle] = set()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeDnsServer:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(host, port))
        self.port = transport.get_extra_info("sockname")[1]
        return self

    async def stop(self) -> None:
        for handle in self._pending:
            handle.cancel()
        self._pending.clear()
        if self._transport is not None:
            self._transport.close()
            self._transport = None
            await asyncio.sleep(0)  # let the transport close its socket

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self._transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        query = _parse_query(data)
        if query is None or self.mode == "silent":
            return
        self.requests += 1
        reply = self._reply(*query)
        if self.delay <= 0:
            self._send(reply, addr)
            return
        loop = asyncio.get_running_loop()
        handle = loop.call_later(self.delay, lambda: self._send(reply, addr, handle))
        self._pending.add(handle)

    def _send(
        self, reply: bytes, addr: tuple[str | Any, int], handle: asyncio.TimerHandle | None = None
    ) -> None:
        self._pending.discard(handle)  # type: ignore[arg-type]
        if self._transport is not None:
            self._transport.sendto(reply, addr)

    def _reply(self, qid: int, flags: int, qname: bytes, qtype: int, qclass: int) -> bytes:
        if self.mode == "garbage":
            return struct.pack("!H", qid) + b"\x81\x80\xff\xff garbage"
        message = build_reply(self.address, self.txt, self.mode, qid, flags, qname, qtype, qclass)
        if self.mode == "truncated":
            return message[: 12 + len(qname) + 4 + 5]  # an answer cut mid-record
        return message


def build_reply(
    address: str,
    txt: list[str | bytes] | None,
    mode: str,
    qid: int,
    flags: int,
    qname: bytes,
    qtype: int,
    qclass: int,
) -> bytes:
    """The answer to a parsed query: `address` for A/AAAA of its family, `txt` (default: the
    address) for TXT in any class; `mode` nxdomain/refused/servfail sets that error code."""
    question = qname + struct.pack("!HH", qtype, qclass)
    rcode = _RCODES.get(mode, 0)
    answers = _answers(address, txt, qtype) if rcode == 0 else []
    header = struct.pack(
        "!HHHHHH", qid, 0x8000 | (flags & 0x0100) | 0x0080 | rcode, 1, len(answers), 0, 0
    )
    records = b"".join(
        b"\xc0\x0c" + struct.pack("!HHIH", qtype, qclass, 60, len(rdata)) + rdata
        for rdata in answers
    )
    return header + question + records


def _answers(address_text: str, txt: list[str | bytes] | None, qtype: int) -> list[bytes]:
    if qtype == TYPE_TXT:
        return [_txt_rdata(t) for t in (txt if txt is not None else [address_text])]
    address = ip_address(address_text)
    want_v4 = qtype == TYPE_A
    if qtype in (TYPE_A, TYPE_AAAA) and want_v4 == isinstance(address, IPv4Address):
        return [address.packed]
    return []
