"""The STUN client against loopback fakes and the real coturn, over UDP and TCP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import errno
from ipaddress import ip_address
import os
import socket
import struct
from typing import Any, cast

import aiohttp
import pytest

from custom_components.esddns.wan import (
    AddressClass,
    AddressPolicy,
    Family,
    OutcomeStatus,
    SourceKind,
    ask_source,
    detect,
    stun_source,
)
from custom_components.esddns.wan.errors import (
    SourceFailure,
    StunBindingError,
    StunMalformedError,
)
from custom_components.esddns.wan.stun import RTO, _TcpBinding, _UdpBinding, resolve
from custom_components.esddns.wan.stun_codec import binding_request
from devtools.fakes.stun import CRAFTED_MODES, LIE, CraftedMode, crafted_stream
from devtools.stun_messages import binding_success
from tests.fixtures_wan import WanFakes

PUBLIC = ip_address("81.2.69.142")
KINDS = [SourceKind.STUN_UDP, SourceKind.STUN_TCP]
ANY_ADDRESS = AddressPolicy(frozenset(AddressClass))  # coturn on loopback reports 127.0.0.1


@pytest.mark.parametrize("kind", KINDS)
async def test_answer(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession, kind: SourceKind
) -> None:
    server = await wan_fakes.stun_server()
    outcome = await ask_source(server.source(kind), Family.IPV4, session=wan_session, limit=2)
    assert outcome.status is OutcomeStatus.ADDRESS
    assert outcome.address == PUBLIC
    assert outcome.latency_ms is not None


@pytest.mark.parametrize("kind", KINDS)
async def test_ipv6_answer(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession, kind: SourceKind
) -> None:
    server = await wan_fakes.stun_server("2a00:1450:4007:80e::200e")
    outcome = await ask_source(server.source(kind), Family.IPV6, session=wan_session, limit=2)
    assert (outcome.status, str(outcome.address)) == (
        OutcomeStatus.ADDRESS,
        "2a00:1450:4007:80e::200e",
    )


@pytest.mark.parametrize(
    ("mode", "address", "status"),
    [
        ("silent", "81.2.69.142", OutcomeStatus.TIMEOUT),
        ("garbage", "81.2.69.142", OutcomeStatus.MALFORMED),
        ("error", "81.2.69.142", OutcomeStatus.REFUSED),
        ("wrong_txid", "81.2.69.142", None),  # UDP: waits on (spoofable); TCP: out of sync
        ("answer", "2a00:1450:4007:80e::200e", OutcomeStatus.MALFORMED),  # wrong family
        ("answer", "192.168.1.10", OutcomeStatus.NOT_PUBLIC),
        ("answer", "100.64.3.4", OutcomeStatus.NOT_PUBLIC),
    ],
)
@pytest.mark.parametrize("kind", KINDS)
async def test_failures(
    wan_fakes: WanFakes,
    wan_session: aiohttp.ClientSession,
    kind: SourceKind,
    mode: str,
    address: str,
    status: OutcomeStatus | None,
) -> None:
    if status is None:
        tcp = kind is SourceKind.STUN_TCP
        status = OutcomeStatus.MALFORMED if tcp else OutcomeStatus.TIMEOUT
    server = await wan_fakes.stun_server(address)
    server.mode = mode  # type: ignore[assignment]
    outcome = await ask_source(server.source(kind), Family.IPV4, session=wan_session, limit=0.6)
    assert outcome.status is status, outcome
    if status is OutcomeStatus.NOT_PUBLIC:
        assert outcome.address == ip_address(address)
        assert outcome.detail in ("private", "shared")
    else:
        assert outcome.address is None
    if mode == "error":
        assert "420" in outcome.detail


async def test_binding_error_is_typed(wan_fakes: WanFakes) -> None:
    from custom_components.esddns.wan.stun import query_stun

    server = await wan_fakes.stun_server()
    server.mode, server.error_code = "error", 500
    with pytest.raises(StunBindingError) as caught:
        await query_stun(server.source(), Family.IPV4, 1.0)
    assert caught.value.code == 500


async def test_other_port_answer_is_ignored(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    server = await wan_fakes.stun_server()
    server.mode = "other_port"
    outcome = await ask_source(server.source(), Family.IPV4, session=wan_session, limit=0.6)
    assert outcome.status is OutcomeStatus.TIMEOUT


@pytest.mark.parametrize("kind", KINDS)
async def test_spoofed_answers_are_never_accepted(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession, kind: SourceKind
) -> None:
    """Lies come first (UDP: right id from another port, wrong id from the server's port; TCP:
    a wrong-id message first on the stream), and a late duplicate follows the real answer.
    UDP waits for the real answer; a TCP stream that carries another transaction's message is
    out of sync, and is given up as malformed. A lie is never accepted either way."""
    servers = [await wan_fakes.stun_server() for _ in range(3)]
    for server in servers:
        server.spoof = server.late_duplicate = True
        server.delay = 0.05
    sources = [s.source(kind) for s in servers]
    for _ in range(3):
        detection = await detect(sources, Family.IPV4, session=wan_session, quorum=3)
        assert ip_address(LIE) not in detection.answers
        if kind is SourceKind.STUN_UDP:
            assert detection.address == PUBLIC
            assert all(o.address == PUBLIC for o in detection.outcomes)
        else:
            assert detection.address is None
            assert [(o.status, o.address) for o in detection.outcomes] == [
                (OutcomeStatus.MALFORMED, None)
            ] * 3
            assert all("another transaction" in o.detail for o in detection.outcomes)


async def test_a_late_duplicate_on_the_stream_is_never_read(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    """The answer is taken as soon as it is whole and alone; the connection closes at once."""
    server = await wan_fakes.stun_server()
    server.late_duplicate = True
    source = server.source(SourceKind.STUN_TCP)
    outcome = await ask_source(source, Family.IPV4, session=wan_session, limit=2)
    assert (outcome.status, outcome.address) == (OutcomeStatus.ADDRESS, PUBLIC)


# --- crafted byte streams: a declared length is never trusted across a message boundary -----

# What each crafted stream yields, over TCP then UDP (a datagram is its own frame, and a wrong-id
# one is ignored as a possible spoof, so UDP waits on and gives up).
CRAFTED: dict[str, tuple[tuple[OutcomeStatus, str], tuple[OutcomeStatus, str]]] = {
    "stitched": (
        (OutcomeStatus.MALFORMED, "bytes after the message"),
        (OutcomeStatus.MALFORMED, "declared length does not match"),
    ),
    "lying_mismatch": (
        (OutcomeStatus.MALFORMED, "stream out of sync"),
        (OutcomeStatus.TIMEOUT, "no answer"),
    ),
    "trailing_garbage": (
        (OutcomeStatus.MALFORMED, "bytes after the message"),
        (OutcomeStatus.MALFORMED, "declared length does not match"),
    ),
}


def test_the_crafted_streams_are_what_they_claim() -> None:
    """Read the old, trusting way (frame by declared length, skip other transactions by theirs),
    each stream yields an address that no server sent, or takes an answer the stream's garbage
    puts in doubt: what the client must refuse."""
    from custom_components.esddns.wan.errors import StunMismatchError
    from custom_components.esddns.wan.stun_codec import HEADER, parse_binding_response

    txid = bytes(range(12))

    def trusting_read(stream: bytes) -> tuple[str, int]:
        while True:
            size = HEADER.size + struct.unpack_from("!H", stream, 2)[0]
            try:
                return str(parse_binding_response(stream[:size], txid).address), len(stream) - size
            except StunMismatchError:
                stream = stream[size:]

    assert set(CRAFTED) == set(CRAFTED_MODES)
    read = {
        mode: trusting_read(b"".join(crafted_stream(mode, txid, str(PUBLIC), 5000)))
        for mode in CRAFTED_MODES
    }
    assert read == {
        "stitched": ("32.19.164.86", 36),  # the honest answer's header, XORed with the cookie
        "lying_mismatch": (LIE, 40),
        "trailing_garbage": (str(PUBLIC), 8),
    }


@pytest.mark.parametrize("mode", CRAFTED_MODES)
@pytest.mark.parametrize("kind", KINDS)
async def test_crafted_streams_are_malformed(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession, kind: SourceKind, mode: CraftedMode
) -> None:
    server = await wan_fakes.stun_server()
    server.mode = mode
    outcome = await ask_source(server.source(kind), Family.IPV4, session=wan_session, limit=0.6)
    status, detail = CRAFTED[mode][kind is SourceKind.STUN_UDP]
    assert (outcome.status, outcome.address) == (status, None), outcome
    assert detail in outcome.detail
    assert server.requests == 1 if kind is SourceKind.STUN_TCP else server.requests >= 1


@pytest.mark.parametrize("mode", CRAFTED_MODES)
async def test_detect_never_reports_an_address_no_server_sent(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession, mode: CraftedMode
) -> None:
    """Three providers over TCP, each sending the same crafted stream: a trusting client agrees
    on an address none of them sent as a message (or on one its stream puts in doubt); this one
    finds no address at all, and says why."""
    servers = [await wan_fakes.stun_server() for _ in range(3)]
    for server in servers:
        server.mode = mode
    sources = [s.source(SourceKind.STUN_TCP) for s in servers]
    detection = await detect(sources, Family.IPV4, session=wan_session, quorum=2, timeout=2)
    assert detection.address is None
    assert detection.answers == {}
    assert [(o.status, o.address) for o in detection.outcomes] == [
        (OutcomeStatus.MALFORMED, None)
    ] * 3


def test_udp_filter_checks_address_and_port() -> None:
    """Even if a datagram got past the kernel's filter, the wrong sender is ignored."""

    async def run() -> None:
        txid = bytes(range(12))
        proto = _UdpBinding(b"", txid, ("127.0.0.1", 3478))
        answer = binding_success(txid, PUBLIC, 1)
        proto.datagram_received(answer, ("127.0.0.2", 3478))
        proto.datagram_received(answer, ("127.0.0.1", 3479))
        assert not proto.answer.done()
        proto.datagram_received(binding_success(bytes(12), PUBLIC, 1), ("127.0.0.1", 3478))
        assert not proto.answer.done()
        proto.datagram_received(answer, ("127.0.0.1", 3478))
        assert proto.answer.result().address == PUBLIC
        proto.datagram_received(binding_success(txid, ip_address(LIE), 1), ("127.0.0.1", 3478))
        assert proto.answer.result().address == PUBLIC  # a late duplicate changes nothing

    asyncio.run(run())


async def test_udp_retransmits_on_the_rfc_schedule(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    """The first two requests are lost; the third (sent at 1.5 s: 0, +0.5, +1.0) is answered."""
    server = await wan_fakes.stun_server()
    server.drop_first = 2
    outcome = await ask_source(server.source(), Family.IPV4, session=wan_session, limit=5)
    assert outcome.status is OutcomeStatus.ADDRESS
    assert server.udp_requests == 3


async def test_udp_retransmissions_stop_at_the_timeout(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    """A silent server within 2 s gets the requests of 0, 0.5 and 1.5 s: three, not more."""
    server = await wan_fakes.stun_server()
    server.mode = "silent"
    outcome = await ask_source(server.source(), Family.IPV4, session=wan_session, limit=2.0)
    assert outcome.status is OutcomeStatus.TIMEOUT
    assert "3 requests" in outcome.detail
    assert server.udp_requests == 3


@pytest.mark.parametrize("kind", KINDS)
async def test_refused(
    wan_session: aiohttp.ClientSession, socket_enabled: None, kind: SourceKind
) -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()  # nothing listens on this port now
    outcome = await ask_source(
        stun_source("127.0.0.1", port, provider="p", kind=kind),
        Family.IPV4,
        session=wan_session,
        limit=1,
    )
    assert outcome.status is OutcomeStatus.REFUSED


async def test_host_names_are_resolved(
    wan_fakes: WanFakes, wan_session: aiohttp.ClientSession
) -> None:
    server = await wan_fakes.stun_server()
    named = stun_source("localhost", server.port, provider="p")
    outcome = await ask_source(named, Family.IPV4, session=wan_session, limit=2)
    assert (outcome.status, outcome.address) == (OutcomeStatus.ADDRESS, PUBLIC)


async def test_unresolvable_host_is_an_error(wan_session: aiohttp.ClientSession) -> None:
    source = stun_source("no-such-host.invalid", 3478, provider="p")
    outcome = await ask_source(source, Family.IPV4, session=wan_session, limit=2)
    assert outcome.status is OutcomeStatus.ERROR  # the detail depends on the resolver
    assert outcome.address is None


@pytest.mark.parametrize("kind", KINDS)
async def test_coturn(
    coturn: tuple[str, int], wan_session: aiohttp.ClientSession, kind: SourceKind
) -> None:
    """The real, third-party coturn over UDP and TCP (it reports 127.0.0.1: policy relaxed)."""
    host, port = coturn
    sources = [
        stun_source(host, port, provider="coturn-a", kind=kind),
        stun_source(host, port, provider="coturn-b", kind=kind),
    ]
    detection = await detect(
        sources, Family.IPV4, session=wan_session, quorum=2, timeout=5, policy=ANY_ADDRESS
    )
    assert detection.address == ip_address("127.0.0.1")
    assert [o.status for o in detection.outcomes] == [OutcomeStatus.ADDRESS] * 2
    strict = await detect(sources, Family.IPV4, session=wan_session, quorum=2, timeout=5)
    assert strict.address is None
    assert {o.status for o in strict.outcomes} == {OutcomeStatus.NOT_PUBLIC}


# --- the socket-driven clients' edge cases ---------------------------------------------------


class _StubSocket:
    """Stands in for a client's socket: each call takes the next scripted outcome."""

    def __init__(self, *outcomes: object) -> None:
        self.outcomes = list(outcomes)
        self.closed = False

    def _next(self) -> Any:
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def connect(self, address: object) -> Any:
        return self._next()

    def send(self, data: bytes) -> Any:
        return self._next()

    def recv(self, size: int) -> Any:
        return self._next()

    def recvfrom(self, size: int) -> Any:
        return self._next()

    def getsockopt(self, level: int, option: int) -> Any:
        return self._next()

    def close(self) -> None:
        self.closed = True


def _stubbed[B: (_UdpBinding, _TcpBinding)](proto: B, stub: _StubSocket, fd: int = -1) -> B:
    proto._sock, proto._fd = cast(socket.socket, stub), fd
    return proto


async def test_udp_send_failures() -> None:
    txid = bytes(range(12))
    full = _stubbed(_UdpBinding(b"req", txid, ("127.0.0.1", 3478)), _StubSocket(BlockingIOError()))
    full._send(RTO)  # no room in the buffer: as good as lost, retried on schedule
    assert (full.sent, full.answer.done(), full._timer is not None) == (1, False, True)
    full.close()
    assert full._timer is None
    assert full.answer.cancelled()  # nobody awaits it any more

    broken = _stubbed(
        _UdpBinding(b"req", txid, ("127.0.0.1", 3478)),
        _StubSocket(OSError(errno.ENETUNREACH, "Network is unreachable")),
    )
    broken._send(RTO)
    with pytest.raises(SourceFailure, match="socket error"):
        broken.answer.result()
    broken._send(RTO)  # the answer is settled: nothing more is sent or scheduled
    assert (broken.sent, broken._timer) == (1, None)
    stub = cast(_StubSocket, broken._sock)
    broken.close()
    assert stub.closed


async def test_udp_read_failures() -> None:
    txid = bytes(range(12))
    proto = _stubbed(
        _UdpBinding(b"req", txid, ("127.0.0.1", 3478)),
        _StubSocket(
            BlockingIOError(),  # a wake-up with nothing to read
            (binding_success(txid, PUBLIC, 1), ("::1", 3478)),  # another sender
            OSError(errno.EHOSTUNREACH, "No route to host"),
        ),
    )
    proto._read_ready()
    proto._read_ready()
    assert not proto.answer.done()
    proto._read_ready()
    with pytest.raises(SourceFailure, match="socket error"):
        proto.answer.result()
    proto.close()


async def test_tcp_partial_sends_and_spurious_wakeups() -> None:
    read_end, write_end = os.pipe()
    try:
        txid = bytes(range(12))
        proto = _stubbed(
            _TcpBinding(b"abcdef", txid, ("127.0.0.1", 3478)),
            _StubSocket(
                0,  # getsockopt(SO_ERROR): connected
                BlockingIOError(),  # no room yet
                4,  # "abcd"
                2,  # "ef": all sent, now read
                BlockingIOError(),  # a wake-up with nothing to read
                binding_success(txid, PUBLIC, 1),
            ),
            write_end,
        )
        proto._write(proto._connected)
        proto._connected()
        assert (proto._request, proto._writing, proto._reading) == (b"abcdef", True, False)
        proto._send()
        assert proto._request == b"ef"
        proto._send()
        assert (proto._request, proto._writing, proto._reading) == (b"", False, True)
        proto._read_ready()
        assert not proto.answer.done()
        proto._read_ready()
        assert proto.answer.result().address == PUBLIC
        proto._read_ready()  # a late duplicate is never read (the stub has nothing left)
        proto.close()
        assert not proto._reading
    finally:
        os.close(read_end)
        os.close(write_end)


@pytest.mark.parametrize(
    ("outcomes", "error", "match"),
    [
        ([errno.ETIMEDOUT], TimeoutError, "Connect call failed"),
        ([0, OSError(errno.EPIPE, "Broken pipe")], SourceFailure, "connection lost"),
        ([0, 20, OSError(errno.ECONNRESET, "reset")], SourceFailure, "connection lost"),
        ([0, 20, b""], StunMalformedError, "closed without an answer"),
    ],
)
async def test_tcp_failures_settle_the_answer(
    outcomes: list[object], error: type[Exception], match: str
) -> None:
    read_end, write_end = os.pipe()
    try:
        request = binding_request(bytes(12))
        proto = _stubbed(
            _TcpBinding(request, bytes(12), ("127.0.0.1", 3478)), _StubSocket(*outcomes), write_end
        )
        proto._write(proto._connected)
        proto._connected()
        if proto._reading:
            proto._read_ready()
        with pytest.raises(error, match=match):
            proto.answer.result()
        proto.close()
        assert (proto._reading, proto._writing) == (False, False)
    finally:
        os.close(read_end)
        os.close(write_end)


async def test_tcp_connect_error_is_a_failure(
    wan_session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub = _StubSocket(OSError(errno.ENETUNREACH, "Network is unreachable"))

    def new_socket(self: _TcpBinding) -> socket.socket:
        self._sock = cast(socket.socket, stub)
        return self._sock

    monkeypatch.setattr(_TcpBinding, "_new_socket", new_socket)
    source = stun_source("127.0.0.1", 3478, provider="p", kind=SourceKind.STUN_TCP)
    outcome = await ask_source(source, Family.IPV4, session=wan_session, limit=1)
    assert (outcome.status, outcome.detail) == (
        OutcomeStatus.ERROR,
        "OSError: [Errno 101] Network is unreachable",
    )
    assert stub.closed


async def _serve_once(handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]) -> int:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    _SERVERS.append(server)
    return int(server.sockets[0].getsockname()[1])


_SERVERS: list[asyncio.Server] = []


@pytest.fixture
async def tcp_servers(socket_enabled: None) -> AsyncIterator[None]:
    yield
    while _SERVERS:
        server = _SERVERS.pop()
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    ("behaviour", "status", "detail"),
    [
        ("split", OutcomeStatus.ADDRESS, ""),
        ("close", OutcomeStatus.MALFORMED, "connection closed without an answer"),
        ("reset", OutcomeStatus.ERROR, "connection lost"),
    ],
)
async def test_tcp_framing_and_endings(
    tcp_servers: None,
    wan_session: aiohttp.ClientSession,
    behaviour: str,
    status: OutcomeStatus,
    detail: str,
) -> None:
    """An answer in three pieces is put together; a server that hangs up or resets ends it."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readexactly(20)
        if behaviour == "split":
            answer = binding_success(request[8:20], PUBLIC, 1)
            for piece in (answer[:10], answer[10:24], answer[24:]):  # in the header, past it
                writer.write(piece)
                await writer.drain()
                await asyncio.sleep(0.05)
        elif behaviour == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.close()

    port = await _serve_once(handle)
    source = stun_source("127.0.0.1", port, provider="p", kind=SourceKind.STUN_TCP)
    outcome = await ask_source(source, Family.IPV4, session=wan_session, limit=2)
    assert outcome.status is status, outcome
    assert detail in outcome.detail
    if status is OutcomeStatus.ADDRESS:
        assert outcome.address == PUBLIC


async def test_literals_are_not_resolved() -> None:
    assert await resolve("127.0.0.1", 3478, Family.IPV4, socket.SOCK_DGRAM) == ("127.0.0.1", 3478)
