"""The host's own global IPv6 address: Linux's /proc/net/if_inet6, read as text (pure).

Each line: address (32 hex digits), interface index, prefix length, scope, flags (all hex),
interface name. Stable addresses are preferred over temporary (RFC 8981) and deprecated ones,
which change or go away; tentative (DAD not finished) and dadfailed ones are never used.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from ipaddress import AddressValueError, IPv6Address

from .address import AddressClass, classify_address

IFA_F_TEMPORARY = 0x01
IFA_F_DADFAILED = 0x08
IFA_F_DEPRECATED = 0x20
IFA_F_TENTATIVE = 0x40
_UNUSABLE = IFA_F_TENTATIVE | IFA_F_DADFAILED


@dataclass(frozen=True, slots=True)
class IfInet6Entry:
    """One line of /proc/net/if_inet6."""

    address: IPv6Address
    ifindex: int
    prefix_len: int
    scope: int
    flags: int
    ifname: str


def parse_if_inet6(text: str) -> list[IfInet6Entry]:
    """The entries of /proc/net/if_inet6 text; lines that do not parse are skipped."""
    entries = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) != 6 or len(fields[0]) != 32:
            continue
        raw, *numbers, ifname = fields
        try:
            address = IPv6Address(bytes.fromhex(raw))
            ifindex, prefix_len, scope, flags = (int(n, 16) for n in numbers)
        except (ValueError, AddressValueError):
            continue
        if prefix_len > 128:
            continue
        entries.append(IfInet6Entry(address, ifindex, prefix_len, scope, flags, ifname))
    return entries


def _preference(flags: int | None) -> int:
    """Lower is better: stable, then unknown flags, then temporary, then deprecated."""
    if flags is None:
        return 1
    if flags & IFA_F_DEPRECATED:
        return 3
    if flags & IFA_F_TEMPORARY:
        return 2
    return 0


def preferred_ipv6(
    candidates: Iterable[str | IPv6Address], entries: Sequence[IfInet6Entry] | None = None
) -> IPv6Address | None:
    """The address to use among `candidates` (Home Assistant's adapter data: no flags), or None.

    Only public addresses count. With `entries` (from /proc/net/if_inet6), a candidate's flags
    decide: stable first, temporary and deprecated later, tentative and dadfailed never; a
    candidate missing from `entries` ranks between stable and temporary. Ties keep the order
    of `candidates`.
    """
    flags = {e.address: e.flags for e in entries or ()}
    best: tuple[int, IPv6Address] | None = None
    for candidate in candidates:
        try:
            address = IPv6Address(str(candidate).split("%", 1)[0])
        except AddressValueError:
            continue
        if classify_address(address) is not AddressClass.PUBLIC:
            continue
        known = flags.get(address)
        if known is not None and known & _UNUSABLE:
            continue
        rank = _preference(known)
        if best is None or rank < best[0]:
            best = (rank, address)
    return None if best is None else best[1]
