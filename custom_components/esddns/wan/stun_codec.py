"""STUN (RFC 8489) Binding messages: the request a client sends and the validation of the answer.

Only what a client needs: the encoders of responses, for fakes and tests, are in
`devtools/stun_messages.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
import secrets
import struct
import zlib

from .address import IPAddress
from .errors import StunBindingError, StunMalformedError, StunMismatchError

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


def binding_request(transaction_id: bytes) -> bytes:
    """A Binding request with no attributes (what public servers expect)."""
    return encode_message(BINDING_REQUEST, transaction_id)


def _xor_key(transaction_id: bytes, length: int) -> bytes:
    return (struct.pack("!I", MAGIC_COOKIE) + transaction_id)[:length]


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
