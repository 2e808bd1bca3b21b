"""Property tests (hypothesis) of the DoH wire codec, in the style of test_fuzz.py.

Random bytes and mutated answers never raise anything but the typed source failures; valid
answers built with random compression, chunking and extra records always give exactly the
values of the asked records; an answer is never taken for another query.
"""

from __future__ import annotations

from ipaddress import ip_address
import os
import random
import struct

import pytest

from custom_components.esddns.wan.dns_wire import (
    CLASSES,
    TYPES,
    build_query,
    encode_name,
    parse_response,
)
from custom_components.esddns.wan.errors import SourceFailure

hypothesis = pytest.importorskip("hypothesis")
given, st = hypothesis.given, hypothesis.strategies

FUZZ = hypothesis.settings(
    max_examples=int(os.environ.get("ESDDNS_FUZZ_EXAMPLES", "500")),
    deadline=None,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)

QNAME = "whoami.example"
_LABELS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
_NAMES = st.lists(_LABELS, min_size=1, max_size=4).map(".".join)


def _rr(owner: bytes, rtype: int, rclass: int, rdata: bytes) -> bytes:
    return owner + struct.pack("!HHIH", rtype, rclass, 300, len(rdata)) + rdata


@st.composite
def _answers(draw: st.DrawFn) -> tuple[bytes, int, str, str, list[str | bytes]]:
    """A valid answer to a random question, and the values the codec must find in it."""
    qid = draw(st.integers(0, 0xFFFF))
    qtype = draw(st.sampled_from(sorted(TYPES)))
    qclass = draw(st.sampled_from(sorted(CLASSES)))
    name = draw(st.sampled_from([QNAME, QNAME.upper()]))
    question = encode_name(name) + struct.pack("!HH", TYPES[qtype], CLASSES[qclass])
    records: list[bytes] = []
    expected: list[str | bytes] = []
    for _ in range(draw(st.integers(0, 4))):
        asked = draw(st.booleans())
        owner = (
            b"\xc0\x0c"
            if asked and draw(st.booleans())
            else encode_name(QNAME if asked else draw(_NAMES))
        )
        if asked and qtype == "TXT":
            chunks = draw(st.lists(st.binary(max_size=20), max_size=3))
            rdata = b"".join(bytes([len(c)]) + c for c in chunks)
            expected.append(b"".join(chunks))
        elif asked:
            size = 4 if qtype == "A" else 16
            raw = draw(st.binary(min_size=size, max_size=size))
            rdata = raw
            expected.append(str(ip_address(raw)))
        else:
            rdata = draw(st.binary(max_size=8))
        records.append(_rr(owner, TYPES[qtype], CLASSES[qclass], rdata))
    extra = [
        _rr(b"\xc0\x0c", 5, 1, encode_name(draw(_NAMES))) for _ in range(draw(st.integers(0, 1)))
    ]  # a CNAME: another type, skipped
    flags = 0x8000 | draw(st.sampled_from([0, 0x0100, 0x0180, 0x0400]))
    header = struct.pack("!HHHHHH", qid, flags, 1, len(records) + len(extra), 0, 0)
    message = header + question + b"".join(records + extra)
    return message, qid, qtype, qclass, expected


@pytest.mark.fuzz
@FUZZ
@given(_answers())
def test_fuzz_valid_answers_round_trip(
    answer: tuple[bytes, int, str, str, list[str | bytes]],
) -> None:
    message, qid, qtype, qclass, expected = answer
    assert parse_response(message, qid, QNAME, qtype, qclass) == expected
    with pytest.raises(SourceFailure):  # another query's answer is never ours
        parse_response(message, qid ^ 1, QNAME, qtype, qclass)


def _parse_or_fail(message: bytes, qid: int, qtype: str, qclass: str) -> list[str | bytes] | None:
    try:
        return parse_response(message, qid, QNAME, qtype, qclass)
    except SourceFailure:
        return None


@pytest.mark.fuzz
@FUZZ
@given(_answers(), st.integers(0, 2**32 - 1))
def test_fuzz_mutated_answers(
    answer: tuple[bytes, int, str, str, list[str | bytes]], seed: int
) -> None:
    """Flipped, cut or inserted bytes: only typed failures, and whatever parses still answers
    our id and our question."""
    message, qid, qtype, qclass, _ = answer
    rng = random.Random(seed)
    raw = bytearray(message)
    for _ in range(rng.randint(1, 4)):
        action = rng.choice(["flip", "cut", "insert"])
        at = rng.randrange(len(raw) + 1)
        if action == "flip" and at < len(raw):
            raw[at] = rng.randrange(256)
        elif action == "cut":
            del raw[at:]
        else:
            raw[at:at] = bytes([rng.choice([0xC0, 0x3F, 0x00, rng.randrange(256)])])
    mutated = bytes(raw)
    values = _parse_or_fail(mutated, qid, qtype, qclass)
    if values is not None:
        assert mutated[:2] == struct.pack("!H", qid)
        assert mutated[2] & 0x80  # a response
        for value in values:
            assert isinstance(value, bytes) == (qtype == "TXT")


@pytest.mark.fuzz
@FUZZ
@given(st.binary(max_size=300), st.sampled_from(sorted(TYPES)))
def test_fuzz_random_messages(body: bytes, qtype: str) -> None:
    """Random bytes after a header that matches, and random bytes alone."""
    header = struct.pack("!HHHHHH", 7, 0x8180, 1, body[0] if body else 0, 0, 0)
    for message in (body, header + body, header + build_query(7, QNAME, qtype)[12:] + body):
        _parse_or_fail(message, 7, qtype, "IN")
