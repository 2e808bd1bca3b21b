"""What counts as a public address.

The table is written out here instead of relying on `ipaddress.is_global`, whose answers changed
between Python releases (3.11.10, 3.12.4, 3.13) and which calls some multicast ranges global.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_network,
)

type IPAddress = IPv4Address | IPv6Address


class AddressClass(StrEnum):
    """Why an address is (or is not) usable as the home's public address."""

    PUBLIC = "public"
    PRIVATE = "private"
    SHARED = "shared"  # 100.64.0.0/10: carrier-grade NAT; the home has no public IPv4 of its own
    LOOPBACK = "loopback"
    LINK_LOCAL = "link_local"
    MULTICAST = "multicast"
    UNSPECIFIED = "unspecified"
    DOCUMENTATION = "documentation"
    BENCHMARKING = "benchmarking"
    # 6to4, Teredo, NAT64, IPv4-mapped: these embed an IPv4 address or a relay's prefix; they are
    # not a stable address of the home itself, so publishing them in DNS would be wrong.
    TRANSITION = "transition"
    RESERVED = "reserved"


def _table(
    *rows: tuple[str, AddressClass],
) -> tuple[tuple[IPv4Network | IPv6Network, AddressClass], ...]:
    return tuple((ip_network(net), cls) for net, cls in rows)


# Most specific ranges first: the first match wins.
_IPV4 = _table(
    ("0.0.0.0/32", AddressClass.UNSPECIFIED),
    ("0.0.0.0/8", AddressClass.RESERVED),  # "this network"
    ("10.0.0.0/8", AddressClass.PRIVATE),
    ("100.64.0.0/10", AddressClass.SHARED),
    ("127.0.0.0/8", AddressClass.LOOPBACK),
    ("169.254.0.0/16", AddressClass.LINK_LOCAL),
    ("172.16.0.0/12", AddressClass.PRIVATE),
    ("192.0.0.0/24", AddressClass.RESERVED),  # IETF protocol assignments
    ("192.0.2.0/24", AddressClass.DOCUMENTATION),
    ("192.88.99.0/24", AddressClass.TRANSITION),  # deprecated 6to4 relay anycast
    ("192.168.0.0/16", AddressClass.PRIVATE),
    ("198.18.0.0/15", AddressClass.BENCHMARKING),
    ("198.51.100.0/24", AddressClass.DOCUMENTATION),
    ("203.0.113.0/24", AddressClass.DOCUMENTATION),
    ("224.0.0.0/4", AddressClass.MULTICAST),
    ("240.0.0.0/4", AddressClass.RESERVED),  # includes 255.255.255.255
)

_IPV6 = _table(
    ("::/128", AddressClass.UNSPECIFIED),
    ("::1/128", AddressClass.LOOPBACK),
    ("::ffff:0:0/96", AddressClass.TRANSITION),  # IPv4-mapped
    ("64:ff9b::/96", AddressClass.TRANSITION),  # NAT64 well-known prefix
    ("64:ff9b:1::/48", AddressClass.TRANSITION),  # local-use NAT64
    ("2001::/32", AddressClass.TRANSITION),  # Teredo
    ("2001:2::/48", AddressClass.BENCHMARKING),
    ("2001:10::/28", AddressClass.RESERVED),  # ORCHID (deprecated)
    ("2001:20::/28", AddressClass.RESERVED),  # ORCHIDv2
    ("2001:db8::/32", AddressClass.DOCUMENTATION),
    ("2002::/16", AddressClass.TRANSITION),  # 6to4
    ("3fff::/20", AddressClass.DOCUMENTATION),  # RFC 9637
    ("5f00::/16", AddressClass.RESERVED),  # SRv6 SIDs, not routed on the internet
    ("fc00::/7", AddressClass.PRIVATE),  # unique local
    ("fe80::/10", AddressClass.LINK_LOCAL),
    ("fec0::/10", AddressClass.RESERVED),  # deprecated site-local
    ("ff00::/8", AddressClass.MULTICAST),
)
# Only global unicast (2000::/3) is ever allocated to homes; everything else is reserved.
_IPV6_GLOBAL_UNICAST = IPv6Network("2000::/3")


def classify_address(address: IPAddress) -> AddressClass:
    """Say which kind of address this is; PUBLIC only for globally routable unicast."""
    if isinstance(address, IPv4Address):
        for net, cls in _IPV4:
            if address in net:
                return cls
        return AddressClass.PUBLIC
    for net6, cls in _IPV6:
        if address in net6:
            return cls
    if address not in _IPV6_GLOBAL_UNICAST:
        return AddressClass.RESERVED
    return AddressClass.PUBLIC


type Prefix = IPv4Network | IPv6Network


class InvalidPrefixError(ValueError):
    """The text is not a prefix (or address) of the family asked for."""


def parse_prefix(text: str, version: int) -> Prefix:
    """``81.2.64.0/18``, ``2001:db8:1::/48`` or a bare address (a /32 or /128) of IP ``version``.

    Bits past the prefix length are dropped (``81.2.69.142/18`` is ``81.2.64.0/18``): people
    often paste their own address with the length they were given.
    """
    if "%" in text:  # a zone index (fe80::1%eth0) means nothing beyond one link
        raise InvalidPrefixError(text)
    try:
        prefix = ip_network(text.strip(), strict=False)
    except ValueError as err:
        raise InvalidPrefixError(text) from err
    if prefix.version != version:
        raise InvalidPrefixError(text)
    return prefix


def _left[N: (IPv4Network, IPv6Network)](space: list[N], holes: Iterable[N]) -> list[N]:
    """What of ``space`` (disjoint prefixes) is left once every one of ``holes`` is taken out."""
    for hole in holes:
        pieces: list[N] = []
        for piece in space:
            if not piece.overlaps(hole):
                pieces.append(piece)
            elif not piece.subnet_of(hole):
                pieces.extend(piece.address_exclude(hole))
        space = pieces
    return space


def _public_left(prefix: Prefix, removed: Iterable[Prefix] = ()) -> bool:
    """Whether a public address of ``prefix`` is in none of ``removed``."""
    if isinstance(prefix, IPv4Network):
        holes4 = [net for net, _ in _IPV4 if isinstance(net, IPv4Network)]
        holes4 += [net for net in removed if isinstance(net, IPv4Network)]
        return bool(_left([prefix], holes4))
    if not prefix.overlaps(_IPV6_GLOBAL_UNICAST):
        return False  # only global unicast is ever public
    space = [prefix if prefix.subnet_of(_IPV6_GLOBAL_UNICAST) else _IPV6_GLOBAL_UNICAST]
    holes6 = [net for net, _ in _IPV6 if isinstance(net, IPv6Network)]
    holes6 += [net for net in removed if isinstance(net, IPv6Network)]
    return bool(_left(space, holes6))


def holds_public(prefix: Prefix) -> bool:
    """Whether any address of ``prefix`` is public (10.0.0.0/8 and 224.0.0.0/3 hold none)."""
    return _public_left(prefix)


def hold_every_public(prefixes: Iterable[Prefix], version: int) -> bool:
    """Whether ``prefixes`` together hold every public address of IP ``version`` (0.0.0.0/0;
    0.0.0.0/1 with 128.0.0.0/1; 2000::/3)."""
    everything = IPv4Network("0.0.0.0/0") if version == 4 else _IPV6_GLOBAL_UNICAST
    return not _public_left(everything, prefixes)


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which addresses may count as the public address: by class (a parameter so tests can relax
    it), then by the user's filters, prefixes to never publish and prefixes it must fall in."""

    allowed: frozenset[AddressClass] = frozenset({AddressClass.PUBLIC})
    never: tuple[Prefix, ...] = ()
    only: tuple[Prefix, ...] = ()  # empty: anywhere

    def rejects(self, address: IPAddress) -> AddressClass | None:
        """The address's class if this policy rejects it, else None."""
        cls = classify_address(address)
        return None if cls in self.allowed else cls

    def filtered(self, address: IPAddress) -> str | None:
        """Why the user's filters reject the address (``in 93.184.216.0/24``, ``outside
        81.2.64.0/18``), else None."""
        for prefix in self.never:
            if address in prefix:
                return f"in {prefix}"
        if self.only and not any(address in prefix for prefix in self.only):
            return f"outside {', '.join(map(str, self.only))}"
        return None

    def accepts(self, address: IPAddress) -> bool:
        """Whether the address may be published."""
        return self.rejects(address) is None and self.filtered(address) is None


PUBLIC_ONLY = AddressPolicy()
