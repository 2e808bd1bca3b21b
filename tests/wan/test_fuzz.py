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

from custom_components.esddns.wan.dns import parse_dns_answer
from custom_components.esddns.wan.http import BODY_CAP, parse_body
from custom_components.esddns.wan.source import MalformedAnswer

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


@pytest.mark.fuzz
@FUZZ
@given(st.binary(max_size=BODY_CAP + 8) | st.text(max_size=80).map(str.encode))
def test_fuzz_body_parser(body: bytes) -> None:
    """Random bodies: only MalformedAnswer escapes, and an address only from a valid body."""
    try:
        address = parse_body(body)
    except MalformedAnswer:
        return
    text = body.decode("ascii").strip()
    candidates = [text] + [
        line.strip()[3:] for line in text.splitlines() if line.strip().startswith("ip=")
    ]
    assert str(address) in candidates or address in {ip_address(c) for c in candidates if _is_ip(c)}


def _is_ip(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True


@pytest.mark.fuzz
@FUZZ
@given(st.lists(st.binary(max_size=48) | st.text(max_size=48), max_size=4))
def test_fuzz_dns_answers(values: list[str | bytes]) -> None:
    """Random record values: only MalformedAnswer escapes, and an address only when every
    value that is not informational is that same address."""
    try:
        address = parse_dns_answer(values)
    except MalformedAnswer:
        return
    texts = [v.decode() if isinstance(v, bytes) else v for v in values]
    meaningful = [
        t.strip().strip('"') for t in texts if not t.strip().strip('"').startswith("edns0")
    ]
    assert meaningful
    assert all(ip_address(t) == address for t in meaningful)
