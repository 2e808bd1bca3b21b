"""DNS-over-HTTPS sources: the strict wire codec, and the client against a loopback DoH fake."""

from __future__ import annotations

import asyncio
from ipaddress import ip_address
import struct

import aiohttp
import pytest

from custom_components.esddns.wan import (
    Family,
    OutcomeStatus,
    SourceRefused,
    ask_source,
    doh_source,
)
from custom_components.esddns.wan.dns_wire import (
    build_query,
    encode_name,
    parse_response,
    read_name,
)
from custom_components.esddns.wan.errors import DnsWireError, MalformedAnswer
from devtools.fakes.dns import build_reply

from .conftest import DohFactory
from .helpers import sockets_connected_to

PUBLIC = "81.2.69.142"
QNAME = "whoami.example"
WIRE_NAME = encode_name(QNAME)


def _answer(
    rdatas: list[bytes],
    *,
    qid: int = 0x1234,
    qtype: int = 16,
    qclass: int = 1,
    flags: int = 0x8180,
    qname: bytes = WIRE_NAME,
    owner: bytes = b"\xc0\x0c",
    tail: bytes = b"",
) -> bytes:
    header = struct.pack("!HHHHHH", qid, flags, 1, len(rdatas), 0, 0)
    records = b"".join(owner + struct.pack("!HHIH", qtype, qclass, 0, len(r)) + r for r in rdatas)
    return header + qname + struct.pack("!HH", qtype, qclass) + records + tail


def test_build_query_is_one_recursive_question() -> None:
    query = build_query(0xBEEF, "WhoAmI.Cloudflare.", "TXT", "CHAOS")
    assert query[:12] == bytes.fromhex("beef 0100 0001 0000 0000 0000".replace(" ", ""))
    assert query[12:] == b"\x06WhoAmI\x0aCloudflare\x00" + struct.pack("!HH", 16, 3)
    with pytest.raises(ValueError, match="not a DNS name"):
        encode_name("a..b")
    with pytest.raises(ValueError, match="too long"):
        encode_name(".".join(["a" * 60] * 5))


def test_parse_reads_only_the_asked_records() -> None:
    """Records of another name, type or class are skipped; a TXT record's strings join."""
    other_name = encode_name("other.example")
    message = _answer([b"\x0481.2\x05.69.1\x0242"]) + b""
    assert parse_response(message, 0x1234, QNAME, "TXT") == [b"81.2.69.142"]
    # The same answer, plus an A record and a record of another name (sections counted).
    header = struct.pack("!HHHHHH", 0x1234, 0x8180, 1, 3, 0, 1)
    body = WIRE_NAME + struct.pack("!HH", 16, 1)
    body += b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 0, 12) + b"\x0b81.2.69.142"
    body += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 0, 4) + bytes(4)
    body += other_name + struct.pack("!HHIH", 16, 1, 0, 8) + b"\x071.2.3.4"
    body += b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 0)  # EDNS OPT in the additional section
    assert parse_response(header + body, 0x1234, QNAME, "TXT") == [b"81.2.69.142"]
    # Case does not matter in names; A and AAAA become address text.
    upper = encode_name(QNAME.upper())
    a = _answer([bytes([81, 2, 69, 142])], qtype=1, qname=upper)
    assert parse_response(a, 0x1234, QNAME, "A") == ["81.2.69.142"]
    aaaa = _answer([ip_address("2a00:1450::1").packed], qtype=28)
    assert parse_response(aaaa, 0x1234, QNAME, "AAAA") == ["2a00:1450::1"]
    assert parse_response(_answer([], qclass=3), 0x1234, QNAME, "TXT", "CHAOS") == []


@pytest.mark.parametrize(
    ("message", "qtype", "error"),
    [
        (b"\x12\x34\x81", "TXT", "shorter than a header"),
        (_answer([b"\x01x"], qid=0x4321), "TXT", "id mismatch"),
        (_answer([b"\x01x"], flags=0x0100), "TXT", "not a response"),
        (_answer([b"\x01x"], flags=0x8180 | 0x0800), "TXT", "not a response"),  # opcode 1
        (_answer([b"\x01x"], flags=0x8380), "TXT", "truncated"),
        (_answer([b"\x01x"], qtype=1), "TXT", "another question"),
        (_answer([b"\x01x"], qclass=3), "TXT", "another question"),
        (_answer([b"\x01x"], qname=encode_name("evil.example")), "TXT", "another question"),
        (_answer([b"\x01x"])[:-1], "TXT", "runs past"),
        (_answer([b"\x01x"])[: 12 + len(WIRE_NAME) + 2], "TXT", "question runs past"),
        (_answer([b"\x01x"])[: 12 + len(WIRE_NAME) + 8], "TXT", "record runs past"),
        (_answer([b"\x05x"]), "TXT", "TXT string runs past"),
        (_answer([b"\x01x"], tail=b"\x00"), "TXT", "bytes after"),
        (_answer([b"\x01x"], owner=b"\xc0\x30"), "TXT", "bad compression pointer"),  # forward
        (_answer([b"\x01x"], owner=b"\x40"), "TXT", "unknown label type"),
        (_answer([bytes(5)], qtype=1), "A", "A record of 5 bytes"),
        (_answer([bytes(4)], qtype=28), "AAAA", "AAAA record of 4 bytes"),
        (struct.pack("!HHHHHH", 0x1234, 0x8180, 0, 0, 0, 0), "TXT", "question not echoed"),
    ],
)
def test_parse_rejects_malformed(message: bytes, qtype: str, error: str) -> None:
    with pytest.raises(DnsWireError, match=error):
        parse_response(message, 0x1234, QNAME, qtype)


@pytest.mark.parametrize(
    ("name", "error"),
    [
        (b"\xc0", "pointer runs past"),
        (b"\x05abc", "name too long"),
        (b"\x03abc", "name runs past"),
        (
            b"\x3f"
            + b"a" * 63
            + b"\x3f"
            + b"a" * 63
            + b"\x3f"
            + b"a" * 63
            + b"\x3f"
            + b"a" * 63
            + b"\x00",
            "name too long",
        ),
        (b"\x80", "unknown label type"),
    ],
)
def test_read_name_rejects(name: bytes, error: str) -> None:
    with pytest.raises(DnsWireError, match=error):
        read_name(bytes(12) + name, 12)


def test_pointer_loops_end() -> None:
    """A pointer to itself, two pointing at each other, and a long chain: all refused."""
    selfloop = _answer([b"\x01x"])
    start = 12 + len(WIRE_NAME) + 4
    selfloop = selfloop[:start] + bytes([0xC0, start]) + selfloop[start + 2 :]
    with pytest.raises(DnsWireError, match="pointer"):
        parse_response(selfloop, 0x1234, QNAME, "TXT")
    pair = bytes(12) + b"\xc0\x0e\xc0\x0c"
    with pytest.raises(DnsWireError, match="pointer"):
        read_name(pair, 12)
    # 20 pointers each one step back: within bounds but more hops than any real name needs.
    chain = (
        bytes(12)
        + b"\x00"
        + b"".join(bytes([0xC0, 12 + 2 * i - 1 if i else 12]) for i in range(20))
    )
    with pytest.raises(DnsWireError, match="pointer"):
        read_name(chain, len(chain) - 2)
    assert read_name(bytes(12) + b"\x01a\x00\xc0\x0c", 15) == (b"a", 17)


@pytest.mark.parametrize(
    ("rcode", "error"),
    [(2, SourceRefused), (5, SourceRefused), (3, MalformedAnswer), (1, MalformedAnswer)],
)
def test_error_codes(rcode: int, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_response(_answer([], flags=0x8180 | rcode), 0x1234, QNAME, "TXT")
    with pytest.raises(MalformedAnswer, match="rcode 9"):
        parse_response(_answer([], flags=0x8189), 0x1234, QNAME, "TXT")


def test_fake_replies_parse() -> None:
    """The fakes' reply builder and the codec agree (the fakes test the client, not this)."""
    reply = build_reply(PUBLIC, None, "answer", 7, 0x0100, WIRE_NAME, 16, 3)
    assert parse_response(reply, 7, QNAME, "TXT", "CHAOS") == [PUBLIC.encode()]


# --- the client against the fake --------------------------------------------------------


@pytest.mark.parametrize(
    ("query_type", "query_class", "address"),
    [
        ("TXT", "IN", PUBLIC),
        ("TXT", "CHAOS", PUBLIC),
        ("A", "IN", PUBLIC),
        ("AAAA", "IN", "2a00:1450:4001:80b::200e"),
    ],
)
async def test_doh_answers(
    doh_server: DohFactory,
    wan_session: aiohttp.ClientSession,
    query_type: str,
    query_class: str,
    address: str,
) -> None:
    server = await doh_server(address)
    source = server.source(query_type=query_type, query_class=query_class)
    family = Family.IPV6 if ":" in address else Family.IPV4
    outcome = await ask_source(source, family, session=wan_session, limit=2)
    assert (outcome.status, str(outcome.address)) == (OutcomeStatus.ADDRESS, address)
    assert server.last_headers["Content-Type"] == "application/dns-message"
    assert server.last_headers["Accept-Encoding"] == "identity"


@pytest.mark.parametrize(
    ("mode", "status", "detail"),
    [
        ("wrong_id", OutcomeStatus.MALFORMED, "id mismatch"),
        ("truncated", OutcomeStatus.MALFORMED, "runs past"),
        ("pointer_loop", OutcomeStatus.MALFORMED, "pointer"),
        ("html", OutcomeStatus.MALFORMED, "text/html"),
        ("oversized", OutcomeStatus.MALFORMED, "over the cap"),
        ("gzip", OutcomeStatus.MALFORMED, "gzip"),
        ("garbage", OutcomeStatus.MALFORMED, "shorter than a header"),
        ("redirect", OutcomeStatus.REFUSED, "HTTP 302"),
        ("refused", OutcomeStatus.REFUSED, "REFUSED"),
        ("servfail", OutcomeStatus.REFUSED, "SERVFAIL"),
        ("nxdomain", OutcomeStatus.MALFORMED, "NXDOMAIN"),
        ("hang", OutcomeStatus.TIMEOUT, "no answer"),
        ("disconnect", OutcomeStatus.ERROR, "ServerDisconnectedError"),
    ],
)
async def test_doh_hostile_servers(
    doh_server: DohFactory,
    wan_session: aiohttp.ClientSession,
    mode: str,
    status: OutcomeStatus,
    detail: str,
) -> None:
    """Each hostile answer is the failure it is; no address, no redirect followed, no socket
    left open."""
    server = await doh_server()
    server.mode = mode  # type: ignore[assignment]
    outcome = await ask_source(server.source(), Family.IPV4, session=wan_session, limit=0.5)
    assert outcome.status is status
    assert detail in outcome.detail
    assert outcome.address is None
    assert server.requests == 1
    if mode in ("oversized", "hang"):  # the body was not read to its end: never reused
        for _ in range(3):
            await asyncio.sleep(0)  # closing a transport takes a loop turn
        assert sockets_connected_to([server.port]) == 0


async def test_doh_errors(
    doh_server: DohFactory, wan_session: aiohttp.ClientSession, unused_tcp_port: int
) -> None:
    server = await doh_server()
    server.status = 503
    outcome = await ask_source(server.source(), Family.IPV4, session=wan_session, limit=1)
    assert (outcome.status, outcome.detail) == (OutcomeStatus.REFUSED, "HTTP 503")
    server.status, server.address = 200, "2a00:1450::1"
    outcome = await ask_source(server.source(), Family.IPV4, session=wan_session, limit=1)
    assert outcome.status is OutcomeStatus.MALFORMED  # the wrong family
    server.txt = ["81.2.69.142" * 20] * 12  # a well-formed answer, but over the cap
    outcome = await ask_source(server.source(), Family.IPV4, session=wan_session, limit=1)
    assert (outcome.status, outcome.detail) == (OutcomeStatus.MALFORMED, "DNS message over the cap")
    server.txt, server.address = None, "10.0.0.1"
    outcome = await ask_source(server.source(), Family.IPV4, session=wan_session, limit=1)
    assert outcome.status is OutcomeStatus.NOT_PUBLIC
    closed = doh_source(
        f"http://127.0.0.1:{unused_tcp_port}/dns-query", query_name=QNAME, query_type="A"
    )
    outcome = await ask_source(closed, Family.IPV4, session=wan_session, limit=1)
    assert (outcome.status, outcome.detail) == (OutcomeStatus.REFUSED, "connection refused")


async def test_doh_get_is_served_too(
    doh_server: DohFactory, wan_session: aiohttp.ClientSession
) -> None:
    """The fake also speaks RFC 8484 GET (for curl and the demo)."""
    import base64

    server = await doh_server()
    query = base64.urlsafe_b64encode(build_query(9, QNAME, "A")).rstrip(b"=").decode()
    async with wan_session.get(server.url, params={"dns": query}) as response:
        body = await response.read()
    assert parse_response(body, 9, QNAME, "A") == [PUBLIC]
    async with wan_session.get(server.url, params={"dns": "!!"}) as response:
        assert response.status == 400
