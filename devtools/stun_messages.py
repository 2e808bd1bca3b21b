"""STUN (RFC 8489) responses as a server sends them: what the fakes answer and the tests feed the
codec. The product only sends requests and parses responses (`wan/stun_codec.py`), so these
encoders live here, not in what HACS installs.
"""

from __future__ import annotations

from ipaddress import IPv4Address
import struct
import zlib

from custom_components.esddns.wan.address import IPAddress
from custom_components.esddns.wan.stun_codec import (
    ATTR_ERROR_CODE,
    ATTR_FINGERPRINT,
    ATTR_XOR_MAPPED_ADDRESS,
    BINDING_ERROR,
    BINDING_SUCCESS,
    FINGERPRINT_XOR,
    MAGIC_COOKIE,
    encode_message,
)


def encode_attribute(attr_type: int, value: bytes) -> bytes:
    """One attribute, zero-padded to a multiple of 4 bytes."""
    return struct.pack("!HH", attr_type, len(value)) + value + bytes(-len(value) % 4)


def encode_address(
    attr_type: int, address: IPAddress, port: int, transaction_id: bytes = b""
) -> bytes:
    """A MAPPED-ADDRESS, or an XOR-MAPPED-ADDRESS when attr_type says so."""
    family = 1 if isinstance(address, IPv4Address) else 2
    raw = address.packed
    if attr_type == ATTR_XOR_MAPPED_ADDRESS:
        port ^= MAGIC_COOKIE >> 16
        # Written out here rather than shared with the parser, so a bug there is not mirrored.
        key = (struct.pack("!I", MAGIC_COOKIE) + transaction_id)[: len(raw)]
        raw = bytes(a ^ b for a, b in zip(raw, key, strict=True))
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
    """A Binding success response carrying XOR-MAPPED-ADDRESS."""
    attr = encode_address(ATTR_XOR_MAPPED_ADDRESS, address, port, transaction_id)
    message = encode_message(BINDING_SUCCESS, transaction_id, attr)
    return add_fingerprint(message) if fingerprint else message


def binding_error(transaction_id: bytes, code: int, reason: str = "") -> bytes:
    """A Binding error response with ERROR-CODE."""
    value = struct.pack("!HBB", 0, code // 100, code % 100) + reason.encode()
    return encode_message(BINDING_ERROR, transaction_id, encode_attribute(ATTR_ERROR_CODE, value))
