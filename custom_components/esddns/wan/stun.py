"""STUN (RFC 8489): a UDP/TCP client that asks one server (the messages are in `stun_codec`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import functools
from ipaddress import ip_address
import socket
from typing import Any

from .address import IPAddress
from .errors import (
    ResolveFailed,
    SourceFailure,
    SourceRefused,
    SourceTimeout,
    StunBindingError,
    StunError,
    StunMalformedError,
    StunMismatchError,
)
from .models import Family, Source, SourceKind
from .stun_codec import (
    HEADER,
    MAGIC_COOKIE,
    MappedAddress,
    binding_request,
    new_transaction_id,
    parse_binding_response,
)

# RFC 8489 section 6.2.1: RTO 500 ms doubling, Rc = 7 transmissions, then wait Rm = 16 RTOs.
RTO = 0.5
RC = 7
RM = 16
# After the last transmission the client waits Rm RTOs, then gives up.
_UDP_GIVE_UP = RTO * (2 ** (RC - 1) - 1) + RM * RTO
_DATAGRAM_MAX = 65535  # whatever a datagram holds: a truncated answer would pass for a bad one
_STREAM_READ = 65536


@functools.lru_cache(maxsize=256)
def _is_literal(host: str) -> bool:
    try:
        ip_address(host)
    except ValueError:
        return False
    return True


async def resolve(host: str, port: int, family: Family, socktype: int) -> tuple[str, int]:
    """The server's address: a literal as given, a name resolved for `family` (off the loop)."""
    if _is_literal(host):
        return host, port
    af = socket.AF_INET if family is Family.IPV4 else socket.AF_INET6
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, family=af, type=socktype)
    except (OSError, UnicodeError) as err:
        raise ResolveFailed(f"cannot resolve {host} for {family.label}: {err}") from None
    if not infos:
        raise ResolveFailed(f"no {family.label} address for {host}")
    return str(infos[0][4][0]), port


# The clients drive a plain non-blocking socket from the loop's reader/writer callbacks instead
# of an asyncio transport: one request and one answer need none of a transport's buffering, the
# task is woken once (answer, failure or cancel), and close() shuts the socket at once.


class _Binding:
    """A socket, its reader/writer callbacks and the answer future they settle."""

    def __init__(self, server: tuple[str, int], socktype: int) -> None:
        self._loop = asyncio.get_running_loop()
        self._server = server
        self._socktype = socktype
        self._sock: socket.socket | None = None
        self._fd = -1
        self._reading = self._writing = False
        self.answer: asyncio.Future[MappedAddress] = self._loop.create_future()

    def _new_socket(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self._server[0] else socket.AF_INET
        sock = self._sock = socket.socket(family, self._socktype)
        self._fd = sock.fileno()
        sock.setblocking(False)
        return sock

    def _read(self, callback: Callable[[], None]) -> None:
        self._loop.add_reader(self._fd, callback)
        self._reading = True

    def _write(self, callback: Callable[[], None]) -> None:
        self._loop.add_writer(self._fd, callback)
        self._writing = True

    def _stop_writing(self) -> None:
        if self._writing:
            self._loop.remove_writer(self._fd)
            self._writing = False

    def close(self) -> None:
        """Close the socket, now; an answer nobody awaits any more is settled quietly."""
        sock, self._sock = self._sock, None
        if sock is not None:
            if self._reading:
                self._loop.remove_reader(self._fd)
                self._reading = False
            self._stop_writing()
            sock.close()
        if not self.answer.done():
            self.answer.cancel()
        elif not self.answer.cancelled():
            self.answer.exception()  # mark it retrieved: a cancel can race a failure


class _UdpBinding(_Binding):
    """One Binding transaction over a connected UDP socket, with RFC retransmission."""

    def __init__(self, request: bytes, transaction_id: bytes, server: tuple[str, int]) -> None:
        super().__init__(server, socket.SOCK_DGRAM)
        self._request = request
        self._transaction_id = transaction_id
        self._server_ip: IPAddress | None = None  # parsed only if a sender is spelt otherwise
        self._timer: asyncio.TimerHandle | None = None
        self.sent = 0
        self.malformed: str | None = None  # the last bad response from the server, if any

    def open(self) -> None:
        """Connect the socket (the kernel then drops other senders) and send the request."""
        self._new_socket().connect(self._server)
        self._read(self._read_ready)
        self._send(RTO)

    def _send(self, rto: float) -> None:
        if self._sock is None or self.answer.done():
            return
        try:
            self._sock.send(self._request)
        except (BlockingIOError, InterruptedError):
            pass  # no room in the socket buffer: as good as lost, the next transmission retries
        except OSError as exc:
            self.error_received(exc)
        self.sent += 1
        if self.sent < RC and not self.answer.done():
            self._timer = self._loop.call_later(rto, self._send, rto * 2)

    def _read_ready(self) -> None:
        assert self._sock is not None  # close() removes the reader first
        try:
            data, addr = self._sock.recvfrom(_DATAGRAM_MAX)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.error_received(exc)
        else:
            self.datagram_received(data, addr)

    def _from_server(self, addr: tuple[str | Any, int]) -> bool:
        if addr[1] != self._server[1]:
            return False
        if addr[0] == self._server[0]:
            return True  # how the kernel spells the address it was connected to
        if self._server_ip is None:
            self._server_ip = ip_address(self._server[0])
        return _ip_of(addr[0]) == self._server_ip

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        # The socket is connected, so the kernel already filters; check anyway, cheaply.
        if self.answer.done() or not self._from_server(addr):
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

    def close(self) -> None:
        """Stop the retransmissions and close the socket, now."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().close()


def _ip_of(host: object) -> IPAddress | None:
    try:
        return ip_address(str(host).partition("%")[0])
    except ValueError:
        return None


async def _ask_udp(server: tuple[str, int], transaction_id: bytes, limit: float) -> MappedAddress:
    proto = _UdpBinding(binding_request(transaction_id), transaction_id, server)
    try:
        proto.open()
        async with asyncio.timeout(min(limit, _UDP_GIVE_UP)):
            return await proto.answer
    except ConnectionRefusedError:  # from connect(): the answer reports it as SourceRefused
        raise SourceRefused("port unreachable") from None
    except TimeoutError:
        if proto.malformed is not None:
            raise StunMalformedError(proto.malformed) from None
        raise SourceTimeout(f"no answer after {proto.sent} requests") from None
    finally:
        proto.close()


class _TcpBinding(_Binding):
    """One Binding request on its own TCP connection, whose first message must be the answer.

    A stream has no frames of its own: a message's end is only what its header declares, and a
    header is only trusted once its message has been verified. So the connection carries exactly
    one request, and the first message on it must be a valid response to that request, alone on
    the stream; anything else (a bad message, a response to another transaction, bytes after
    the message) puts the stream out of sync: it is given up as malformed, never read on.
    """

    def __init__(self, request: bytes, transaction_id: bytes, server: tuple[str, int]) -> None:
        super().__init__(server, socket.SOCK_STREAM)
        self._request = request  # what is left to send
        self._transaction_id = transaction_id
        self._buffer = bytearray()

    def open(self) -> None:
        """Start connecting; the answer reports whatever happens next."""
        try:
            self._new_socket().connect(self._server)
        except (BlockingIOError, InterruptedError):
            self._write(self._connected)  # writable once connected (or failed)
        else:  # pragma: no cover - Linux never completes a non-blocking TCP connect at once
            self._send()

    def _connected(self) -> None:
        assert self._sock is not None  # close() removes the writer first
        err = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            self._stop_writing()
            if not self.answer.done():
                self.answer.set_exception(OSError(err, f"Connect call failed {self._server}"))
            return
        self._send()

    def _send(self) -> None:
        assert self._sock is not None  # close() removes the writer first
        try:
            sent = self._sock.send(self._request)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as exc:
            self._stop_writing()
            self.connection_lost(exc)
            return
        self._request = self._request[sent:]
        if self._request:  # the rest once there is room
            self._write(self._send)
            return
        self._stop_writing()
        self._read(self._read_ready)

    def _read_ready(self) -> None:
        assert self._sock is not None  # close() removes the reader first
        if self.answer.done():
            return  # a late duplicate on the stream: never read
        try:
            data = self._sock.recv(_STREAM_READ)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.connection_lost(exc)
            return
        if data:
            self.data_received(data)
        else:
            self.eof_received()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) < HEADER.size:
            return
        msg_type, length, cookie, _ = HEADER.unpack_from(self._buffer)
        if msg_type & 0xC000 or cookie != MAGIC_COOKIE:
            self._out_of_sync("not a STUN message")
            return
        size = HEADER.size + length
        if len(self._buffer) < size:
            return  # wait for the rest of the message
        if len(self._buffer) > size:
            # A server answers one request with one message: more bytes mean the declared
            # length is not where the server's message ends (too long: completed by what
            # followed; too short: cut), so whatever it frames is not what was sent.
            self._out_of_sync("bytes after the message")
            return
        try:
            mapped = parse_binding_response(bytes(self._buffer), self._transaction_id)
        except StunMismatchError:
            # Not a spoof (an off-path sender cannot write into the stream): the server's own
            # stream carries something we never asked for on this connection.
            self._out_of_sync("response to another transaction")
        except StunError as err:
            self.answer.set_exception(err)
        else:
            self.answer.set_result(mapped)

    def _out_of_sync(self, reason: str) -> None:
        self.answer.set_exception(StunMalformedError(f"{reason}: stream out of sync"))

    def eof_received(self) -> None:
        if not self.answer.done():
            self.answer.set_exception(StunMalformedError("connection closed without an answer"))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.answer.done():
            self.answer.set_exception(SourceFailure(f"connection lost: {exc}"))


async def _ask_tcp(server: tuple[str, int], transaction_id: bytes, limit: float) -> MappedAddress:
    proto = _TcpBinding(binding_request(transaction_id), transaction_id, server)
    try:
        async with asyncio.timeout(limit):
            proto.open()
            return await proto.answer
    except TimeoutError:
        raise SourceTimeout("no answer") from None
    except ConnectionRefusedError:
        raise SourceRefused("connection refused") from None
    except OSError as err:
        raise SourceFailure(f"{type(err).__name__}: {err}") from None
    finally:
        proto.close()


async def query_stun(source: Source, family: Family, limit: float) -> IPAddress:
    """Ask one STUN server for the address it sees (over the source's transport)."""
    tcp = source.kind is SourceKind.STUN_TCP
    if _is_literal(source.host):
        server, remaining = (source.host, source.port), limit
    else:
        loop = asyncio.get_running_loop()
        started = loop.time()
        socktype = socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM
        server = await resolve(source.host, source.port, family, socktype)
        remaining = limit - (loop.time() - started)
    transaction_id = new_transaction_id()
    ask = _ask_tcp if tcp else _ask_udp
    return (await ask(server, transaction_id, remaining)).address
