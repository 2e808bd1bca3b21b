"""STUN (RFC 8489): the Binding codec and a UDP/TCP client that asks one server."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
import secrets
import socket
import struct
from typing import Any
import zlib

from .address import IPAddress
from .source import (
    Family,
    MalformedAnswer,
    Source,
    SourceFailure,
    SourceKind,
    SourceRefused,
    SourceTimeout,
)

MAGIC_COOKIE = 0x2112A442
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
BINDING_ERROR = 0x0111
HEADER = struct.Struct("!HHI12s")

ATTR_MAPPED_ADDRESS = 0x0001
ATTR_MESSAGE_INTEGRITY = 0x0008
ATTR_ERROR_CODE = 0x0009
ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C
ATTR_XOR_MAPPED_ADDRESS = 0x0020
ATTR_FINGERPRINT = 0x8028
FINGERPRINT_XOR = 0x5354554E

# Comprehension-required attributes (< 0x8000) we may meet and can safely ignore; any other one
# makes a success response unusable (RFC 8489 section 7.3.3). The RFC 3489/5780 ones are listed
# because older servers still send them.
KNOWN_REQUIRED = frozenset(
    {0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x0006, 0x0007, 0x0008, 0x0009, 0x000A, 0x000B}
    | {0x0014, 0x0015, 0x001C, 0x001D, 0x001E, 0x0020, 0x0026, 0x0027}
)

# RFC 8489 section 6.2.1: RTO 500 ms doubling, Rc = 7 transmissions, then wait Rm = 16 RTOs.
RTO = 0.5
RC = 7
RM = 16


class StunError(SourceFailure):
    """Any problem with a STUN response."""


class StunMalformedError(StunError, MalformedAnswer):
    """Not a valid Binding response."""


class StunMismatchError(StunError):
    """A valid-looking response to some other request: ignored, never an answer."""


class StunBindingError(StunError, SourceRefused):
    """The server answered with a Binding error response."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"STUN error {code} {reason}".strip())
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class MappedAddress:
    """The transport address the server saw."""

    address: IPAddress
    port: int


def new_transaction_id() -> bytes:
    """A fresh 96-bit transaction id from a CSPRNG (RFC 8489 section 6)."""
    return secrets.token_bytes(12)


def encode_message(msg_type: int, transaction_id: bytes, attributes: bytes = b"") -> bytes:
    """A STUN message from already-encoded (and padded) attributes."""
    return HEADER.pack(msg_type, len(attributes), MAGIC_COOKIE, transaction_id) + attributes


def encode_attribute(attr_type: int, value: bytes) -> bytes:
    """One attribute, zero-padded to a multiple of 4 bytes."""
    return struct.pack("!HH", attr_type, len(value)) + value + bytes(-len(value) % 4)


def binding_request(transaction_id: bytes) -> bytes:
    """A Binding request with no attributes (what public servers expect)."""
    return encode_message(BINDING_REQUEST, transaction_id)


def _xor_key(transaction_id: bytes, length: int) -> bytes:
    return (struct.pack("!I", MAGIC_COOKIE) + transaction_id)[:length]


def encode_address(
    attr_type: int, address: IPAddress, port: int, transaction_id: bytes = b""
) -> bytes:
    """A MAPPED-ADDRESS, or an XOR-MAPPED-ADDRESS when attr_type says so."""
    family = 1 if isinstance(address, IPv4Address) else 2
    raw = address.packed
    if attr_type == ATTR_XOR_MAPPED_ADDRESS:
        port ^= MAGIC_COOKIE >> 16
        raw = bytes(a ^ b for a, b in zip(raw, _xor_key(transaction_id, len(raw)), strict=True))
    return encode_attribute(attr_type, struct.pack("!BBH", 0, family, port) + raw)


def add_fingerprint(message: bytes) -> bytes:
    """Append FINGERPRINT, fixing the header length first as the RFC requires."""
    length = struct.unpack_from("!H", message, 2)[0] + 8
    patched = message[:2] + struct.pack("!H", length) + message[4:]
    crc = zlib.crc32(patched) ^ FINGERPRINT_XOR
    return patched + encode_attribute(ATTR_FINGERPRINT, struct.pack("!I", crc))


def binding_success(
    transaction_id: bytes, address: IPAddress, port: int, *, fingerprint: bool = True
) -> bytes:
    """A Binding success response carrying XOR-MAPPED-ADDRESS (fakes and tests use it)."""
    attr = encode_address(ATTR_XOR_MAPPED_ADDRESS, address, port, transaction_id)
    message = encode_message(BINDING_SUCCESS, transaction_id, attr)
    return add_fingerprint(message) if fingerprint else message


def binding_error(transaction_id: bytes, code: int, reason: str = "") -> bytes:
    """A Binding error response with ERROR-CODE."""
    value = struct.pack("!HBB", 0, code // 100, code % 100) + reason.encode()
    return encode_message(BINDING_ERROR, transaction_id, encode_attribute(ATTR_ERROR_CODE, value))


def _decode_address(attr_type: int, value: bytes, transaction_id: bytes) -> MappedAddress:
    if len(value) < 4 or value[0] != 0:
        raise StunMalformedError("bad address attribute")
    family, port = value[1], struct.unpack_from("!H", value, 2)[0]
    raw = value[4:]
    if (family, len(raw)) not in ((1, 4), (2, 16)):
        raise StunMalformedError("bad address family or length")
    if attr_type == ATTR_XOR_MAPPED_ADDRESS:
        port ^= MAGIC_COOKIE >> 16
        raw = bytes(a ^ b for a, b in zip(raw, _xor_key(transaction_id, len(raw)), strict=True))
    address: IPAddress = IPv4Address(raw) if family == 1 else IPv6Address(raw)
    return MappedAddress(address, port)


def parse_binding_response(data: bytes, transaction_id: bytes) -> MappedAddress:
    """Validate a Binding response to `transaction_id` and return the mapped address.

    Raises StunMismatchError for a response to another request (ignore it),
    StunBindingError for a Binding error, and StunMalformedError for anything else that is wrong.
    """
    if len(data) < HEADER.size:
        raise StunMalformedError("shorter than a STUN header")
    msg_type, length, cookie, txid = HEADER.unpack_from(data)
    if msg_type & 0xC000 or cookie != MAGIC_COOKIE:
        raise StunMalformedError("not a STUN message")
    if txid != transaction_id:
        raise StunMismatchError("response to another transaction")
    if length % 4 or HEADER.size + length != len(data):
        raise StunMalformedError("declared length does not match the message")
    if msg_type not in (BINDING_SUCCESS, BINDING_ERROR):
        raise StunMalformedError(f"unexpected message type 0x{msg_type:04x}")

    found: dict[int, bytes] = {}
    offset, after_integrity = HEADER.size, False
    while offset < len(data):  # offsets stay multiples of 4, so a whole header is there
        attr_type, attr_len = struct.unpack_from("!HH", data, offset)
        end = offset + 4 + attr_len
        if end + (-attr_len % 4) > len(data):
            raise StunMalformedError("attribute runs past the message")
        value = data[offset + 4 : end]
        if attr_type == ATTR_FINGERPRINT:
            if attr_len != 4 or end != len(data):
                raise StunMalformedError("FINGERPRINT must be last and 4 bytes")
            expected = zlib.crc32(data[:offset]) ^ FINGERPRINT_XOR
            if struct.unpack("!I", value)[0] != expected:
                raise StunMalformedError("FINGERPRINT does not match")
        elif after_integrity and attr_type != ATTR_MESSAGE_INTEGRITY_SHA256:
            pass  # RFC 8489 section 14.5: ignore what follows MESSAGE-INTEGRITY
        elif attr_type < 0x8000 and attr_type not in KNOWN_REQUIRED:
            raise StunMalformedError(f"unknown comprehension-required attribute 0x{attr_type:04x}")
        else:
            found.setdefault(attr_type, value)  # only the first instance counts
        after_integrity |= attr_type in (ATTR_MESSAGE_INTEGRITY, ATTR_MESSAGE_INTEGRITY_SHA256)
        offset = end + (-attr_len % 4)

    if msg_type == BINDING_ERROR:
        value = found.get(ATTR_ERROR_CODE, b"")
        if len(value) < 4 or not 3 <= value[2] & 0x07 <= 6 or value[3] > 99:
            raise StunMalformedError("Binding error without a valid ERROR-CODE")
        reason = value[4:].decode("utf-8", "replace")[:64]
        raise StunBindingError((value[2] & 0x07) * 100 + value[3], reason)
    if ATTR_XOR_MAPPED_ADDRESS in found:
        return _decode_address(ATTR_XOR_MAPPED_ADDRESS, found[ATTR_XOR_MAPPED_ADDRESS], txid)
    if ATTR_MAPPED_ADDRESS in found:
        return _decode_address(ATTR_MAPPED_ADDRESS, found[ATTR_MAPPED_ADDRESS], txid)
    raise StunMalformedError("no mapped address")


# --- client ----------------------------------------------------------------------------------


class ResolveFailed(SourceFailure):
    """The server's name has no address of the asked family."""


async def resolve(host: str, port: int, family: Family, socktype: int) -> tuple[str, int]:
    """The server's address: a literal as given, a name resolved for `family` (off the loop)."""
    try:
        ip_address(host)
    except ValueError:
        pass
    else:
        return host, port
    af = socket.AF_INET if family is Family.IPV4 else socket.AF_INET6
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, family=af, type=socktype)
    except (OSError, UnicodeError) as err:
        raise ResolveFailed(f"cannot resolve {host} for {family}: {err}") from None
    if not infos:
        raise ResolveFailed(f"no {family} address for {host}")
    return str(infos[0][4][0]), port


class _UdpBinding(asyncio.DatagramProtocol):
    """One Binding transaction over a connected UDP socket, with RFC retransmission."""

    def __init__(self, request: bytes, transaction_id: bytes, server: tuple[str, int]) -> None:
        loop = asyncio.get_running_loop()
        self._request = request
        self._transaction_id = transaction_id
        self._server = (ip_address(server[0]), server[1])
        self._transport: asyncio.DatagramTransport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.answer: asyncio.Future[MappedAddress] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.sent = 0
        self.malformed: str | None = None  # the last bad response from the server, if any

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self._transport = transport
        self._send(RTO)

    def _send(self, rto: float) -> None:
        if self._transport is None or self.answer.done():
            return
        self._transport.sendto(self._request)
        self.sent += 1
        if self.sent < RC:
            self._timer = asyncio.get_running_loop().call_later(rto, self._send, rto * 2)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        # The socket is connected, so the kernel already filters; check anyway, cheaply.
        if self.answer.done() or (_ip_of(addr[0]), addr[1]) != self._server:
            return
        try:
            mapped = parse_binding_response(data, self._transaction_id)
        except StunMismatchError:
            return
        except StunBindingError as err:
            self.answer.set_exception(err)
        except StunError as err:
            self.malformed = str(err)  # keep waiting: a spoofed packet must not end the wait
        else:
            self.answer.set_result(mapped)

    def error_received(self, exc: Exception) -> None:
        if not self.answer.done():
            if isinstance(exc, ConnectionRefusedError):
                self.answer.set_exception(SourceRefused("port unreachable"))
            else:
                self.answer.set_exception(SourceFailure(f"socket error: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if not self.closed.done():
            self.closed.set_result(None)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._transport is not None:
            self._transport.close()


def _ip_of(host: object) -> IPAddress | None:
    try:
        return ip_address(str(host).partition("%")[0])
    except ValueError:
        return None


async def _ask_udp(server: tuple[str, int], transaction_id: bytes, limit: float) -> MappedAddress:
    loop = asyncio.get_running_loop()
    proto = _UdpBinding(binding_request(transaction_id), transaction_id, server)
    try:
        await loop.create_datagram_endpoint(lambda: proto, remote_addr=server)
    except ConnectionRefusedError:
        raise SourceRefused("port unreachable") from None
    try:
        # After the last transmission the RFC waits Rm RTOs, then gives up.
        give_up = RTO * (2 ** (RC - 1) - 1) + RM * RTO
        async with asyncio.timeout(min(limit, give_up)):
            return await proto.answer
    except TimeoutError:
        if proto.malformed is not None:
            raise StunMalformedError(proto.malformed) from None
        raise SourceTimeout(f"no answer after {proto.sent} requests") from None
    finally:
        proto.close()
        await proto.closed


class _TcpBinding(asyncio.Protocol):
    """One Binding request on its own TCP connection, framed by the header's length."""

    def __init__(self, request: bytes, transaction_id: bytes) -> None:
        loop = asyncio.get_running_loop()
        self._request = request
        self._transaction_id = transaction_id
        self._buffer = bytearray()
        self.answer: asyncio.Future[MappedAddress] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        if self.answer.done():
            return  # a late duplicate on the stream: never read
        self._buffer += data
        while len(self._buffer) >= HEADER.size:
            msg_type, length, cookie, _ = HEADER.unpack_from(self._buffer)
            if msg_type & 0xC000 or cookie != MAGIC_COOKIE:
                self.answer.set_exception(StunMalformedError("not a STUN message"))
                return
            if len(self._buffer) < HEADER.size + length:
                return  # wait for the rest of the message
            message = bytes(self._buffer[: HEADER.size + length])
            del self._buffer[: HEADER.size + length]
            try:
                self.answer.set_result(parse_binding_response(message, self._transaction_id))
            except StunMismatchError:
                continue  # a response to another transaction: skip it
            except StunError as err:
                self.answer.set_exception(err)
            return

    def eof_received(self) -> bool:
        if not self.answer.done():
            self.answer.set_exception(StunMalformedError("connection closed without an answer"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.answer.done():
            self.answer.set_exception(SourceFailure(f"connection lost: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)


async def _ask_tcp(server: tuple[str, int], transaction_id: bytes, limit: float) -> MappedAddress:
    loop = asyncio.get_running_loop()
    proto = _TcpBinding(binding_request(transaction_id), transaction_id)
    transport: asyncio.BaseTransport | None = None
    try:
        async with asyncio.timeout(limit):
            transport, _ = await loop.create_connection(lambda: proto, server[0], server[1])
            return await proto.answer
    except TimeoutError:
        raise SourceTimeout("no answer") from None
    except ConnectionRefusedError:
        raise SourceRefused("connection refused") from None
    except OSError as err:
        raise SourceFailure(f"{type(err).__name__}: {err}") from None
    finally:
        if transport is not None:
            transport.close()
            await proto.closed


async def query_stun(source: Source, family: Family, limit: float) -> IPAddress:
    """Ask one STUN server for the address it sees (over the source's transport)."""
    tcp = source.kind is SourceKind.STUN_TCP
    socktype = socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM
    loop = asyncio.get_running_loop()
    started = loop.time()
    server = await resolve(source.host, source.port, family, socktype)
    remaining = limit - (loop.time() - started)
    transaction_id = new_transaction_id()
    ask = _ask_tcp if tcp else _ask_udp
    return (await ask(server, transaction_id, remaining)).address
