"""Property tests (hypothesis) over the STUN parser, the HTTP body parser and DNS answers.

Random and mutated inputs never raise anything but the module's typed error, and never yield an
address from an invalid packet or body. ESDDNS_FUZZ_EXAMPLES sets the number of examples
(500 by default; scripts/test --fuzz sets 100000).
"""

from __future__ import annotations

from ipaddress import ip_address
import os
import random

import pytest

from custom_components.esddns.wan import IPAddress
from custom_components.esddns.wan.dns import parse_dns_answer
from custom_components.esddns.wan.errors import MalformedAnswer
from custom_components.esddns.wan.http import BODY_CAP, parse_body

from .test_stun_codec import RFC5769_IPV4, RFC5769_IPV6, RFC5769_TXID, _check, _mutants

# The Home Assistant 2026.11 test venv has no hypothesis; everywhere else it is pinned.
hypothesis = pytest.importorskip("hypothesis")
given, st = hypothesis.given, hypothesis.strategies

FUZZ = hypothesis.settings(
    max_examples=int(os.environ.get("ESDDNS_FUZZ_EXAMPLES", "500")),
    deadline=None,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)


@pytest.mark.fuzz
@FUZZ
@given(st.binary(max_size=200))
def test_fuzz_random_packets(packet: bytes) -> None:
    _check(packet, bytes(12))
    _check(b"\x01\x01" + packet[:2] + b"\x21\x12\xa4\x42" + bytes(12) + packet[2:], bytes(12))


@pytest.mark.fuzz
@FUZZ
@given(st.integers(0, 2**32 - 1), st.sampled_from([RFC5769_IPV4, RFC5769_IPV6]))
def test_fuzz_mutated_vectors(seed: int, vector: bytes) -> None:
    _check(_mutants(random.Random(seed), vector), RFC5769_TXID)


# Addresses as sources write them, and text that only looks like one.
_ADDRESSES = st.ip_addresses().map(str) | st.sampled_from(
    ["81.2.69.142", "081.2.69.142", "81.2.69", "fe80::1%eth0", "::ffff:81.2.69.142", "1.2.3.4/24"]
)
_NOISE = st.text(alphabet=st.characters(codec="ascii"), max_size=12)


@st.composite
def _bodies(draw: st.DrawFn) -> bytes:
    """Random bytes, and bare or Cloudflare-trace bodies with random edits."""
    kind = draw(st.sampled_from(["random", "bare", "trace"]))
    if kind == "random":
        return draw(st.binary(max_size=BODY_CAP + 8) | st.text(max_size=80).map(str.encode))
    address = draw(_ADDRESSES)
    if kind == "bare":
        text = draw(_NOISE) * draw(st.integers(0, 1)) + address + draw(st.sampled_from(["", "\n"]))
    else:
        lines = [f"{draw(_NOISE)}={draw(_NOISE)}" for _ in range(draw(st.integers(0, 4)))]
        lines.insert(draw(st.integers(0, len(lines))), f"ip={address}")
        lines += [f"ip={draw(_ADDRESSES)}"] * draw(st.integers(0, 1))
        text = draw(st.sampled_from(["\n", "\r\n"])).join(lines)
    raw = bytearray(text.encode("utf-8"))
    for _ in range(draw(st.integers(0, 2))):
        if raw:
            raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
    return bytes(raw) * draw(st.sampled_from([1, 1, 1, 40]))  # sometimes over the cap


def _strict_address(text: str) -> IPAddress | None:
    """An independent reading of "one address literal": no scope, prefix or stray character."""
    if not text or len(text) > 45 or any(c not in "0123456789abcdefABCDEF:." for c in text):
        return None
    try:
        return ip_address(text)
    except ValueError:
        return None


def _body_oracle(body: bytes) -> IPAddress | None:
    """What a valid body says: a bare address, or the only ip= line of a key=value trace."""
    if len(body) > BODY_CAP or not body.isascii():
        return None
    text = body.decode("ascii").strip()
    bare = _strict_address(text)
    if bare is not None:
        return bare
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or text.startswith("<") or any("=" not in line for line in lines):
        return None
    ips = [line.removeprefix("ip=") for line in lines if line.startswith("ip=")]
    return _strict_address(ips[0]) if len(ips) == 1 else None


@pytest.mark.fuzz
@FUZZ
@given(_bodies())
def test_fuzz_body_parser(body: bytes) -> None:
    """Only MalformedAnswer escapes, and an address comes only from a valid body (the oracle
    reads it the same way); a valid body is never refused."""
    expected = _body_oracle(body)
    try:
        address = parse_body(body)
    except MalformedAnswer:
        assert expected is None, body
        return
    assert address == expected, body


_DNS_VALUES = st.one_of(
    st.binary(max_size=48),
    st.text(max_size=48),
    _ADDRESSES,
    _ADDRESSES.map(lambda a: f'"{a}"'),
    _ADDRESSES.map(str.encode),
    st.sampled_from(["edns0-client-subnet 81.2.69.0/24", "edns0 81.2.69.142", "81.2.69.142"]),
)


def _dns_oracle(values: list[str | bytes]) -> IPAddress | None:
    """The one address every non-informational value names, or None."""
    found: set[IPAddress] = set()
    for value in values:
        if isinstance(value, bytes):
            if not value.isascii():
                return None
            value = value.decode("ascii")
        text = value.strip().strip('"')
        if text.startswith("edns0-client-subnet"):
            continue
        address = _strict_address(text)
        if address is None:
            return None
        found.add(address)
    return found.pop() if len(found) == 1 else None


@pytest.mark.fuzz
@FUZZ
@given(st.lists(_DNS_VALUES, max_size=4))
def test_fuzz_dns_answers(values: list[str | bytes]) -> None:
    """Only MalformedAnswer escapes, and an address only when every value that is not
    informational names that same address; such an answer is never refused."""
    expected = _dns_oracle(values)
    try:
        address = parse_dns_answer(values)
    except MalformedAnswer:
        assert expected is None, values
        return
    assert address == expected, values
