"""The host's own IPv6 address: /proc/net/if_inet6 parsing and the choice among candidates."""

from __future__ import annotations

from ipaddress import IPv6Address

from custom_components.esddns.wan import parse_if_inet6, preferred_ipv6

# A real-looking table: loopback, link-local, a ULA, a temporary and a stable global address
# on eth0, a deprecated one from an old prefix, a tentative one, a dadfailed one, and wlan0's.
PROC = """\
00000000000000000000000000000001 01 80 10 80       lo
fe80000000000000021122fffe334455 02 40 20 80     eth0
fd00000000000000021122fffe334455 02 40 00 00     eth0
2a0104f8c0c0d00d5c1ea4f3b2e1d0c9 02 40 00 01     eth0
2a0104f8c0c0d00d021122fffe334455 02 40 00 00     eth0
2a0104f8c0c0aaaa021122fffe334455 02 40 00 20     eth0
2a0104f8c0c0d00d00000000000000aa 02 40 00 40     eth0
2a0104f8c0c0d00d00000000000000bb 02 40 00 08     eth0
2a0104f8c0c0beef021122fffe667788 03 40 00 80    wlan0
not a line
2a0104f8c0c0d00d zz 40 00 00 eth0
2a0104f8c0c0d00d00000000000000cc 02 ff 00 00 eth0
2a0104f8c0c0d00d00000000000000dd 02 40 00 0x eth0
"""
STABLE = IPv6Address("2a01:4f8:c0c0:d00d:211:22ff:fe33:4455")
TEMPORARY = IPv6Address("2a01:4f8:c0c0:d00d:5c1e:a4f3:b2e1:d0c9")
DEPRECATED = IPv6Address("2a01:4f8:c0c0:aaaa:211:22ff:fe33:4455")
TENTATIVE = IPv6Address("2a01:4f8:c0c0:d00d::aa")
DADFAILED = IPv6Address("2a01:4f8:c0c0:d00d::bb")
WLAN = IPv6Address("2a01:4f8:c0c0:beef:211:22ff:fe66:7788")


def test_parse_if_inet6() -> None:
    entries = parse_if_inet6(PROC)
    assert len(entries) == 9  # the malformed lines are skipped
    lo, link = entries[0], entries[1]
    assert (lo.address, lo.ifindex, lo.prefix_len, lo.scope, lo.flags, lo.ifname) == (
        IPv6Address("::1"),
        1,
        128,
        0x10,
        0x80,
        "lo",
    )
    assert (link.scope, link.ifname, link.prefix_len) == (0x20, "eth0", 64)
    flags = {e.address: e.flags for e in entries}
    assert (flags[STABLE], flags[TEMPORARY], flags[DEPRECATED]) == (0x00, 0x01, 0x20)
    assert (flags[TENTATIVE], flags[DADFAILED], flags[WLAN]) == (0x40, 0x08, 0x80)
    assert parse_if_inet6("") == []


def test_preferred_among_adapter_candidates() -> None:
    entries = parse_if_inet6(PROC)
    candidates = [
        "fe80::211:22ff:fe33:4455%eth0",
        "fd00::211:22ff:fe33:4455",
        str(TEMPORARY),
        str(TENTATIVE),
        str(STABLE),
        "not an address",
    ]
    # Without flags: the first public one, in HA's order (it cannot tell temporary from stable).
    assert preferred_ipv6(candidates) == TEMPORARY
    # With them: the stable one; tentative/dadfailed never, even if listed first.
    assert preferred_ipv6(candidates, entries) == STABLE
    assert preferred_ipv6([TENTATIVE, DADFAILED], entries) is None
    # All of eth0's global addresses, the stable one listed last: still the one chosen.
    everything = [TEMPORARY, DEPRECATED, TENTATIVE, DADFAILED, STABLE]
    assert preferred_ipv6(everything, entries) == STABLE
    # No stable one: temporary before deprecated, whichever HA lists first.
    assert preferred_ipv6([str(DEPRECATED), str(TEMPORARY)], entries) == TEMPORARY
    # Only an old prefix left besides unusable ones: the deprecated address still serves.
    assert preferred_ipv6([TENTATIVE, DADFAILED, DEPRECATED], entries) == DEPRECATED
    # A candidate the table does not know ranks between stable and temporary.
    unknown = IPv6Address("2a01:4f8:c0c0:1::1")
    assert preferred_ipv6([TEMPORARY, unknown], entries) == unknown
    assert preferred_ipv6([unknown, STABLE], entries) == STABLE
    assert preferred_ipv6(["fd00::1", "::1"], entries) is None
