"""The STUN codec: RFC 5769 vectors, validation rules, and mutated/random packets."""

from __future__ import annotations

import hashlib
import hmac
from ipaddress import ip_address
import random
import struct
import zlib

import pytest

from custom_components.esddns.wan.errors import (
    StunBindingError,
    StunError,
    StunMalformedError,
    StunMismatchError,
)
from custom_components.esddns.wan.stun_codec import (
    ATTR_FINGERPRINT,
    ATTR_MAPPED_ADDRESS,
    ATTR_MESSAGE_INTEGRITY,
    ATTR_XOR_MAPPED_ADDRESS,
    BINDING_REQUEST,
    BINDING_SUCCESS,
    KNOWN_REQUIRED,
    MappedAddress,
    binding_request,
    encode_message,
    new_transaction_id,
    parse_binding_response,
)
from devtools.stun_messages import (
    add_fingerprint,
    binding_error,
    binding_success,
    encode_address,
    encode_attribute,
)


def _hex(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


# RFC 5769 section 2.2 and 2.3 (password "VOkJxbRl1RmTxUk/WvJxBt", SOFTWARE "test vector").
RFC5769_TXID = _hex("b7 e7 a7 01 bc 34 d6 86 fa 87 df ae")
RFC5769_PASSWORD = b"VOkJxbRl1RmTxUk/WvJxBt"
RFC5769_IPV4 = _hex("""
    01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
    80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
    00 20 00 08 00 01 a1 47 e1 12 a6 43
    00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
    80 28 00 04 c0 7d 4c 96
""")
RFC5769_IPV6 = _hex("""
    01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
    80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
    00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
    00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
    80 28 00 04 c8 fb 0b 4c
""")


@pytest.mark.parametrize(
    ("vector", "address"),
    [
        (RFC5769_IPV4, "192.0.2.1"),
        (RFC5769_IPV6, "2001:db8:1234:5678:11:2233:4455:6677"),
    ],
    ids=["ipv4", "ipv6"],
)
def test_rfc5769_vectors(vector: bytes, address: str) -> None:
    assert parse_binding_response(vector, RFC5769_TXID) == MappedAddress(ip_address(address), 32853)
    # The transcription is faithful: the vector's own MESSAGE-INTEGRITY verifies too.
    mi = vector.index(bytes.fromhex("00080014"))
    signed = bytearray(vector[:mi])
    signed[2:4] = struct.pack("!H", mi + 24 - 20)
    digest = hmac.new(RFC5769_PASSWORD, bytes(signed), hashlib.sha1).digest()
    assert vector[mi + 4 : mi + 24] == digest


@pytest.mark.parametrize("vector", [RFC5769_IPV4, RFC5769_IPV6], ids=["ipv4", "ipv6"])
def test_rfc5769_fingerprint_is_checked(vector: bytes) -> None:
    broken = bytearray(vector)
    broken[-1] ^= 1
    with pytest.raises(StunMalformedError, match="FINGERPRINT"):
        parse_binding_response(bytes(broken), RFC5769_TXID)
    # Changing a byte the fingerprint covers (inside SOFTWARE) is caught the same way.
    broken = bytearray(vector)
    broken[26] ^= 1
    with pytest.raises(StunMalformedError, match="FINGERPRINT"):
        parse_binding_response(bytes(broken), RFC5769_TXID)


def test_request_shape() -> None:
    txid = new_transaction_id()
    request = binding_request(txid)
    assert len(request) == 20
    assert struct.unpack("!HHI", request[:8]) == (BINDING_REQUEST, 0, 0x2112A442)
    assert request[8:] == txid
    assert new_transaction_id() != txid


def test_round_trip_both_families() -> None:
    txid = new_transaction_id()
    for text in ("81.2.69.142", "2a00:1450:4007:80e::200e"):
        response = binding_success(txid, ip_address(text), 40000)
        assert parse_binding_response(response, txid) == MappedAddress(ip_address(text), 40000)


def test_wrong_transaction_id_is_a_mismatch() -> None:
    response = binding_success(bytes(12), ip_address("81.2.69.142"), 1)
    with pytest.raises(StunMismatchError):
        parse_binding_response(response, new_transaction_id())


def test_binding_error_carries_its_code() -> None:
    txid = new_transaction_id()
    with pytest.raises(StunBindingError) as caught:
        parse_binding_response(binding_error(txid, 420, "Unknown Attribute"), txid)
    assert caught.value.code == 420
    assert caught.value.reason == "Unknown Attribute"
    assert "420" in str(caught.value)


def test_binding_error_without_error_code_is_malformed() -> None:
    txid = new_transaction_id()
    with pytest.raises(StunMalformedError):
        parse_binding_response(encode_message(0x0111, txid), txid)


def test_mapped_address_only_when_no_xor() -> None:
    txid = new_transaction_id()
    real, legacy = ip_address("81.2.69.142"), ip_address("93.184.216.34")
    both = encode_message(
        BINDING_SUCCESS,
        txid,
        encode_address(ATTR_MAPPED_ADDRESS, legacy, 1)
        + encode_address(ATTR_XOR_MAPPED_ADDRESS, real, 2, txid),
    )
    assert parse_binding_response(both, txid).address == real
    legacy_only = encode_message(
        BINDING_SUCCESS, txid, encode_address(ATTR_MAPPED_ADDRESS, legacy, 1)
    )
    assert parse_binding_response(legacy_only, txid).address == legacy


def test_attributes_after_message_integrity_are_ignored() -> None:
    txid = new_transaction_id()
    real, lie = ip_address("81.2.69.142"), ip_address("93.184.216.34")
    message = encode_message(
        BINDING_SUCCESS,
        txid,
        encode_address(ATTR_MAPPED_ADDRESS, real, 1)
        + encode_attribute(ATTR_MESSAGE_INTEGRITY, bytes(20))
        + encode_address(ATTR_XOR_MAPPED_ADDRESS, lie, 2, txid),
    )
    assert parse_binding_response(add_fingerprint(message), txid).address == real


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda m: m[:19], "shorter"),
        (lambda m: b"\x41" + m[1:], "not a STUN"),
        (lambda m: m[:4] + b"\x00\x00\x00\x00" + m[8:], "not a STUN"),
        (lambda m: m + b"\x00\x00\x00\x00", "length"),
        (lambda m: m[:2] + b"\x00\x0d" + m[4:], "length"),
        (lambda m: b"\x01\x02" + m[2:], "type"),
        (lambda m: m[:-1], "length"),
    ],
)
def test_header_rules(mutate: object, reason: str) -> None:
    txid = new_transaction_id()
    message = binding_success(txid, ip_address("81.2.69.142"), 1, fingerprint=False)
    with pytest.raises(StunMalformedError, match=reason):
        parse_binding_response(mutate(message), txid)  # type: ignore[operator]


def test_attribute_rules() -> None:
    txid = new_transaction_id()
    xor = encode_address(ATTR_XOR_MAPPED_ADDRESS, ip_address("81.2.69.142"), 1, txid)

    def fails(attributes: bytes, reason: str) -> None:
        with pytest.raises(StunMalformedError, match=reason):
            parse_binding_response(encode_message(BINDING_SUCCESS, txid, attributes), txid)

    fails(xor[:2] + b"\x00\x40" + xor[4:], "past the message")  # attribute overruns
    fails(xor + b"\x80\x22\x00\x01", "past the message")  # padding missing
    fails(b"", "no mapped address")
    fails(encode_attribute(0x7777, b"1234") + xor, "comprehension-required")
    fails(encode_attribute(ATTR_XOR_MAPPED_ADDRESS, b"\x00\x03\x00\x01\x01\x02\x03\x04"), "family")
    fails(encode_attribute(ATTR_XOR_MAPPED_ADDRESS, b"\x01\x01\x00\x01\x01\x02\x03\x04"), "bad")
    fails(encode_attribute(ATTR_XOR_MAPPED_ADDRESS, b"\x00\x01"), "bad")
    fails(xor + encode_attribute(ATTR_FINGERPRINT, b"\x00\x00"), "FINGERPRINT")
    fails(encode_attribute(ATTR_FINGERPRINT, b"\x00\x00\x00\x00") + xor, "FINGERPRINT")
    # Comprehension-optional unknowns (>= 0x8000) are fine.
    fine = encode_message(BINDING_SUCCESS, txid, encode_attribute(0x8777, b"x") + xor)
    assert parse_binding_response(fine, txid).port == 1


def _oracle(packet: bytes, txid: bytes) -> MappedAddress | None:
    """An independent, deliberately plain reading of what a valid success response says."""
    if len(packet) < 20 or packet[:2] != b"\x01\x01" or packet[4:8] != b"\x21\x12\xa4\x42":
        return None
    if packet[8:20] != txid or int.from_bytes(packet[2:4]) != len(packet) - 20:
        return None
    attrs: list[tuple[int, bytes]] = []
    pos, integrity = 20, False
    while pos < len(packet):
        kind, size = (
            int.from_bytes(packet[pos : pos + 2]),
            int.from_bytes(packet[pos + 2 : pos + 4]),
        )
        padded = size + (4 - size % 4) % 4
        if pos + 4 + padded > len(packet):
            return None
        value = packet[pos + 4 : pos + 4 + size]
        if kind == 0x8028:
            crc = zlib.crc32(packet[:pos]) ^ 0x5354554E
            if size != 4 or pos + 8 != len(packet) or int.from_bytes(value) != crc:
                return None
        elif not integrity or kind == 0x001C:
            if kind < 0x8000 and kind not in KNOWN_REQUIRED:
                return None
            attrs.append((kind, value))
        integrity = integrity or kind in (0x0008, 0x001C)
        pos += 4 + padded
    for wanted in (0x0020, 0x0001):
        values = [v for k, v in attrs if k == wanted]
        if values:
            v = values[0]
            if v[:1] != b"\x00" or (v[1:2], len(v)) not in ((b"\x01", 8), (b"\x02", 20)):
                return None
            key = b"\x21\x12\xa4\x42" + txid if wanted == 0x0020 else bytes(16)
            port = int.from_bytes(v[2:4]) ^ int.from_bytes(key[:2])
            raw = bytes(a ^ b for a, b in zip(v[4:], key, strict=False))
            return MappedAddress(ip_address(raw), port)
    return None


def _check(packet: bytes, txid: bytes) -> bool:
    """The two properties: only StunError escapes, and an address comes only from a valid
    packet (one the independent oracle reads the same way). True if it was accepted."""
    expected = _oracle(packet, txid)
    try:
        result = parse_binding_response(packet, txid)
    except StunError:
        return False
    assert expected is not None, packet.hex()
    assert result == expected, packet.hex()
    return True


def _mutants(rng: random.Random, packet: bytes) -> bytes:
    data = bytearray(packet)
    choice = rng.randrange(6)
    if choice == 0:  # bit flips
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
    elif choice == 1:  # truncation
        del data[rng.randrange(len(data)) :]
    elif choice == 2:  # length lie
        data[2:4] = struct.pack("!H", rng.randrange(0, 0x10000))
    elif choice == 3:  # an attribute claims to run past the end
        offset = 20
        while offset + 4 <= len(data) and rng.random() < 0.6:
            offset += 4 + ((struct.unpack_from("!H", data, offset + 2)[0] + 3) & ~3)
        if offset + 4 <= len(data):
            data[offset + 2 : offset + 4] = struct.pack("!H", rng.randrange(0x10000))
    elif choice == 4:  # random tail appended
        data += rng.randbytes(rng.randrange(1, 16))
    else:  # random bytes with a plausible header
        data = bytearray(packet[:20] + rng.randbytes(rng.randrange(0, 64)))
    return bytes(data)


def test_100k_mutated_and_random_packets() -> None:
    """A plain seeded loop in the normal suite (fast); the fuzz run below goes further."""
    rng = random.Random(8489)
    txid = bytes(range(12))
    valid_v4 = MappedAddress(ip_address("81.2.69.142"), 54321)
    valid_v6 = MappedAddress(ip_address("2a00:1450:4007:80e::200e"), 3478)
    seeds = [
        (binding_success(txid, valid_v4.address, valid_v4.port), valid_v4),
        (binding_success(txid, valid_v6.address, valid_v6.port), valid_v6),
        (binding_error(txid, 420, "Unknown Attribute"), None),
    ]
    accepted = 0
    for i in range(100_000):
        if i % 10 == 0:
            accepted += _check(rng.randbytes(rng.randrange(0, 120)), txid)
            continue
        packet, _valid = seeds[i % 3]
        accepted += _check(_mutants(rng, packet), txid)
    assert 0 < accepted < 10_000  # mostly broken packets, and a few harmless mutations
