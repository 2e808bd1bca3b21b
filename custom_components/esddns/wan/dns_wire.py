"""A strict DNS message codec (RFC 1035) for one "who am I" question, as DoH carries it.

Only what a who-am-I answer needs: one question out; in, the values of the answer records of
exactly the asked name, type and class. Anything odd about the message is a `DnsWireError`
(a MalformedAnswer), never another exception: the bytes come from the network.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address
import struct

from .errors import DnsWireError, MalformedAnswer, SourceRefused

TYPES = {"A": 1, "AAAA": 28, "TXT": 16}
CLASSES = {"IN": 1, "CHAOS": 3}
_HEADER = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
_QR, _TC, _RD = 0x8000, 0x0200, 0x0100
_POINTER_HOPS = 16  # a name has at most 127 labels; real answers use one or two pointers
_NAME_MAX = 255
_RCODE_REFUSED = {2: "SERVFAIL", 5: "REFUSED"}
_RCODE_OTHER = {1: "FORMERR", 3: "NXDOMAIN", 4: "NOTIMP"}


def encode_name(name: str) -> bytes:
    """`name` as wire labels (LDH names only: sources.py has checked them)."""
    labels = [label.encode("ascii") for label in name.rstrip(".").split(".")]
    if any(not 0 < len(label) < 64 for label in labels):
        raise ValueError(f"not a DNS name: {name!r}")
    wire = b"".join(bytes([len(label)]) + label for label in labels) + b"\x00"
    if len(wire) > _NAME_MAX:
        raise ValueError(f"name too long: {name!r}")
    return wire


def build_query(qid: int, name: str, qtype: str, qclass: str = "IN") -> bytes:
    """A standard query with recursion desired and one question."""
    header = _HEADER.pack(qid, _RD, 1, 0, 0, 0)
    return header + encode_name(name) + struct.pack("!HH", TYPES[qtype], CLASSES[qclass])


def read_name(message: bytes, offset: int) -> tuple[bytes, int]:
    """(lower-cased dotted name, offset after it in place). Pointers must point backwards,
    strictly before the name that uses them, so they can never loop."""
    labels: list[bytes] = []
    length = 1
    end: int | None = None
    limit = offset  # a pointer must land before here
    hops = 0
    while True:
        if offset >= len(message):
            raise DnsWireError("name runs past the message")
        size = message[offset]
        if size & 0xC0 == 0xC0:
            if offset + 1 >= len(message):
                raise DnsWireError("pointer runs past the message")
            target = ((size & 0x3F) << 8) | message[offset + 1]
            hops += 1
            if target >= limit or hops > _POINTER_HOPS:
                raise DnsWireError("bad compression pointer")
            if end is None:
                end = offset + 2
            offset = limit = target
            continue
        if size & 0xC0:
            raise DnsWireError("unknown label type")
        offset += 1
        if size == 0:
            break
        length += size + 1
        if length > _NAME_MAX or offset + size > len(message):
            raise DnsWireError("name too long")
        labels.append(message[offset : offset + size].lower())
        offset += size
    return b".".join(labels), offset if end is None else end


def _txt_strings(rdata: bytes) -> bytes:
    """The character-strings of one TXT record, joined (RFC 7208 section 3.3)."""
    parts: list[bytes] = []
    offset = 0
    while offset < len(rdata):
        size = rdata[offset]
        if offset + 1 + size > len(rdata):
            raise DnsWireError("TXT string runs past its record")
        parts.append(rdata[offset + 1 : offset + 1 + size])
        offset += 1 + size
    return b"".join(parts)


def parse_response(
    message: bytes, qid: int, name: str, qtype: str, qclass: str = "IN"
) -> list[str | bytes]:
    """The values (address text for A/AAAA, TXT bytes) of the answer records of exactly the
    asked name, type and class; other records are skipped. Raises DnsWireError (malformed),
    SourceRefused (SERVFAIL, REFUSED) or MalformedAnswer (another error code)."""
    if len(message) < _HEADER.size:
        raise DnsWireError("message shorter than a header")
    rid, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(message)
    if rid != qid:
        raise DnsWireError("answer to another query (id mismatch)")
    if not flags & _QR or (flags >> 11) & 0xF:
        raise DnsWireError("not a response to a standard query")
    if flags & _TC:
        raise DnsWireError("truncated answer")
    rcode = flags & 0xF
    if rcode in _RCODE_REFUSED:
        raise SourceRefused(f"DNS {_RCODE_REFUSED[rcode]}")
    if rcode:
        raise MalformedAnswer(f"DNS {_RCODE_OTHER.get(rcode, f'rcode {rcode}')}")
    if qdcount != 1:
        raise DnsWireError("question not echoed")
    wanted_name = name.rstrip(".").lower().encode("ascii")
    wanted = (TYPES[qtype], CLASSES[qclass])
    qname, offset = read_name(message, _HEADER.size)
    if offset + 4 > len(message):
        raise DnsWireError("question runs past the message")
    if qname != wanted_name or struct.unpack_from("!HH", message, offset) != wanted:
        raise DnsWireError("answer to another question")
    offset += 4
    values: list[str | bytes] = []
    for index in range(ancount + nscount + arcount):
        owner, offset = read_name(message, offset)
        if offset + _RR.size > len(message):
            raise DnsWireError("record runs past the message")
        rtype, rclass, _ttl, rdlength = _RR.unpack_from(message, offset)
        offset += _RR.size
        rdata = message[offset : offset + rdlength]
        if len(rdata) != rdlength:
            raise DnsWireError("record data runs past the message")
        offset += rdlength
        if index >= ancount or owner != wanted_name or (rtype, rclass) != wanted:
            continue
        values.append(_value(qtype, rdata))
    if offset != len(message):
        raise DnsWireError("bytes after the last record")
    return values


def _value(qtype: str, rdata: bytes) -> str | bytes:
    if qtype == "TXT":
        return _txt_strings(rdata)
    size = 4 if qtype == "A" else 16
    if len(rdata) != size:
        raise DnsWireError(f"{qtype} record of {len(rdata)} bytes")
    return str(IPv4Address(rdata) if size == 4 else IPv6Address(rdata))
