"""A STUN server on 127.0.0.1 (UDP and TCP on the same port) that answers what a test wants.

`address` is the mapped address it reports; `mode` makes it answer, stay silent (TCP: accept and
hang), send garbage, send a Binding error, answer with a wrong transaction id, or answer from
another port. `spoof` makes it first fire lies at the client (right id from another port, wrong id
from its own port; over TCP the wrong-id message goes first on the stream); `late_duplicate` sends
a lie after the real answer. `drop_first` ignores the first N UDP requests (to exercise
retransmission). Everything may be changed while it runs.

Three modes send crafted byte streams that only a client which trusts declared lengths across
message boundaries would read an address from (see `crafted_stream`): "stitched",
"lying_mismatch" and "trailing_garbage". Over UDP their bytes go out as one datagram.
"""

from __future__ import annotations

import asyncio
import contextlib
from ipaddress import ip_address
import struct
from typing import Any, Literal, get_args

from custom_components.esddns.wan import Family, Source, SourceKind, stun_source
from custom_components.esddns.wan.stun_codec import (
    ATTR_XOR_MAPPED_ADDRESS,
    BINDING_REQUEST,
    BINDING_SUCCESS,
    HEADER,
    MAGIC_COOKIE,
)
from devtools.stun_messages import binding_error, binding_success, encode_attribute

type CraftedMode = Literal["stitched", "lying_mismatch", "trailing_garbage"]
type StunMode = (
    Literal["answer", "silent", "garbage", "error", "wrong_txid", "other_port"] | CraftedMode
)
CRAFTED_MODES: tuple[CraftedMode, ...] = get_args(CraftedMode.__value__)

LIE = "93.184.216.34"  # a public address nobody should ever report
ATTR_SOFTWARE = 0x8022  # comprehension-optional: a parser skips its value


def crafted_stream(mode: CraftedMode, txid: bytes, address: str, port: int) -> tuple[bytes, ...]:
    """The chunks a crafted `mode` writes, in order; every message on it is for `txid`, except
    where a mode says otherwise, and the last carries the honest `address`.

    - "stitched": a success whose header declares 4 bytes more than it carries: its
      XOR-MAPPED-ADDRESS value stops after the port. The next chunk, the honest answer, sent a
      little later, completes it: the address read from the stitched message is its header's
      type and length XORed with the cookie (32.19.164.86 for an IPv4 one), which nobody sent.
    - "lying_mismatch": a success for another transaction whose declared length (4) covers only
      a SOFTWARE attribute's header, whose value is a whole success for `txid` reporting LIE;
      then the honest answer. Skipping the first message by its declared length lands on LIE.
    - "trailing_garbage": the honest answer followed by bytes that are no STUN message.
    """
    honest = binding_success(txid, ip_address(address), port)
    if mode == "stitched":
        head = struct.pack("!HH", ATTR_XOR_MAPPED_ADDRESS, 8) + struct.pack(
            "!BBH", 0, 1, port ^ (MAGIC_COOKIE >> 16)
        )
        over_long = HEADER.pack(BINDING_SUCCESS, len(head) + 4, MAGIC_COOKIE, txid) + head
        return over_long, honest
    if mode == "lying_mismatch":
        inner = binding_success(txid, ip_address(LIE), port)
        other = bytes(b ^ 0xFF for b in txid)
        lying = HEADER.pack(BINDING_SUCCESS, 4, MAGIC_COOKIE, other)
        return (lying + encode_attribute(ATTR_SOFTWARE, inner) + honest,)
    return (honest + b"garbage!",)


def _request_id(data: bytes) -> bytes | None:
    """The transaction id of a Binding request, or None if it is not one."""
    if len(data) < HEADER.size:
        return None
    msg_type, _length, cookie, txid = HEADER.unpack_from(data)
    return txid if msg_type == BINDING_REQUEST and cookie == MAGIC_COOKIE else None


class FakeStunServer:
    """A controllable STUN server for tests, the demo and the benchmark."""

    def __init__(self, address: str = "81.2.69.142", *, provider: str | None = None) -> None:
        self.address = address
        self.provider = provider
        self.mode: StunMode = "answer"
        self.delay = 0.0
        self.drop_first = 0
        self.error_code = 420
        self.spoof = False
        self.late_duplicate = False
        self.udp_requests = 0
        self.tcp_requests = 0
        self.port = 0
        self._udp: asyncio.DatagramTransport | None = None
        self._other: asyncio.DatagramTransport | None = None  # the "another port" socket
        self._tcp: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def requests(self) -> int:
        """Binding requests received over both transports."""
        return self.udp_requests + self.tcp_requests

    def source(
        self,
        kind: SourceKind = SourceKind.STUN_UDP,
        *,
        provider: str | None = None,
        families: frozenset[Family] = frozenset(Family),
    ) -> Source:
        """A Source that asks this server (both families: the fake may report either)."""
        return stun_source(
            "127.0.0.1",
            self.port,
            provider=provider or self.provider or f"fake-stun-{self.port}",
            kind=kind,
            families=families,
        )

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeStunServer:
        """Listen on `port` (0: a free port); a given port lets a stopped server come back."""
        loop = asyncio.get_running_loop()
        for _ in range(20 if port == 0 else 1):  # find a port free for both TCP and UDP
            self._tcp = await asyncio.start_server(self._serve_tcp, host, port)
            self.port = self._tcp.sockets[0].getsockname()[1]
            try:
                self._udp, _ = await loop.create_datagram_endpoint(
                    lambda: _Udp(self), local_addr=(host, self.port)
                )
            except OSError:
                self._tcp.close()
                await self._tcp.wait_closed()
                continue
            break
        else:  # pragma: no cover - the kernel had no free port pair
            raise OSError("no free port for a fake STUN server")
        self._other, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=(host, 0)
        )
        return self

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for writer in list(self._writers):
            writer.close()
        if self._tasks:
            await asyncio.wait(self._tasks)
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()
        for transport in (self._udp, self._other):
            if transport is not None:
                transport.close()
        self._udp = self._other = self._tcp = None
        await asyncio.sleep(0)  # let the transports close their sockets

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _crafted(self, txid: bytes, client: tuple[str, int]) -> tuple[bytes, ...] | None:
        if self.mode not in CRAFTED_MODES:
            return None
        return crafted_stream(self.mode, txid, self.address, client[1])

    def _answer(self, txid: bytes, client: tuple[str, int]) -> bytes:
        """The reply to a request, per `mode` (the mapped port is the client's)."""
        if self.mode == "garbage":
            return b"\x01\x01\x00\x08garbage garbage garbage"
        if self.mode == "error":
            return binding_error(txid, self.error_code, "fake error")
        if self.mode == "wrong_txid":
            txid = bytes(b ^ 0xFF for b in txid)
        return binding_success(txid, ip_address(self.address), client[1])

    # UDP -------------------------------------------------------------------------------------

    def _on_datagram(self, data: bytes, client: tuple[str, int]) -> None:
        txid = _request_id(data)
        if txid is None:
            return
        self.udp_requests += 1
        if self.mode == "silent" or self.udp_requests <= self.drop_first:
            return
        self._spawn(self._reply_udp(txid, client))

    async def _reply_udp(self, txid: bytes, client: tuple[str, int]) -> None:
        lie = binding_success(txid, ip_address(LIE), client[1])
        if self.spoof and self._other is not None and self._udp is not None:
            self._other.sendto(lie, client)  # right id, wrong port
            self._udp.sendto(binding_success(bytes(12), ip_address(LIE), 1), client)  # wrong id
        if self.delay > 0:
            await asyncio.sleep(self.delay)
        crafted = self._crafted(txid, client)
        reply = b"".join(crafted) if crafted else self._answer(txid, client)
        if self.mode == "other_port":
            if self._other is not None:
                self._other.sendto(reply, client)
        elif self._udp is not None:
            self._udp.sendto(reply, client)
        if self.late_duplicate and self._udp is not None:
            await asyncio.sleep(0.01)
            if self._udp is not None:
                self._udp.sendto(lie, client)

    # TCP -------------------------------------------------------------------------------------

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            header = await reader.readexactly(HEADER.size)
            length = struct.unpack_from("!H", header, 2)[0]
            data = header + await reader.readexactly(length)
            txid = _request_id(data)
            if txid is None:
                return
            self.tcp_requests += 1
            client = writer.get_extra_info("peername")
            if self.mode == "silent":
                await reader.read()  # accept and hang, until the client gives up
                return
            if self.spoof:
                writer.write(binding_success(bytes(12), ip_address(LIE), 1))  # wrong id
            if self.delay > 0:
                await asyncio.sleep(self.delay)
            crafted = self._crafted(txid, client)
            for index, chunk in enumerate(crafted or (self._answer(txid, client),)):
                if index:
                    await asyncio.sleep(0.02)  # a separate segment: completes what came before
                writer.write(chunk)
                await writer.drain()
            if self.late_duplicate:
                await asyncio.sleep(0.01)  # late, as over UDP: after the client has its answer
                writer.write(binding_success(txid, ip_address(LIE), client[1]))
                await writer.drain()
            with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
                await reader.read()  # until the client closes, as it must
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: FakeStunServer) -> None:
        self._server = server

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self._server._on_datagram(data, (str(addr[0]), addr[1]))
