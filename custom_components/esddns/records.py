"""The records an account manages, as its record subentries describe them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
import ipaddress
import re
from typing import Any

from homeassistant.config_entries import ConfigSubentry

from .const import (
    CONF_AUTO_SYNC,
    CONF_DOMAIN,
    CONF_INTERFACE_ID,
    CONF_NAME,
    CONF_PREFIX_BITS,
    CONF_RECORD_TYPES,
    CONF_TTL,
    DEFAULT_AUTO_SYNC,
    DEFAULT_TTL,
    SUBENTRY_RECORD,
)
from .gandi import (
    GandiInputError,
    RecordType,
    check_record_length,
    normalize_domain,
    normalize_name,
    normalize_type,
    validate_ttl,
)
from .wan import AddressPolicy, Family

type IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

FAMILY_OF_TYPE: dict[RecordType, Family] = {
    RecordType.A: Family.IPV4,
    RecordType.AAAA: Family.IPV6,
}
# The interface identifier fills the low half of an address; the detected address gives the
# /64 prefix, the size of every IPv6 LAN that uses SLAAC. A record may keep fewer leading bits
# (a /56 or /48 delegated prefix) and take the subnet from what the user typed too.
PREFIX_BITS = 64
MIN_PREFIX_BITS = 48
_HOST_MASK = (1 << (128 - PREFIX_BITS)) - 1


def host_mask(prefix_bits: int) -> int:
    """The bits of an address after the first ``prefix_bits``."""
    return (1 << (128 - prefix_bits)) - 1


_MAC = re.compile(r"^[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}$")


class InvalidInterfaceIdError(ValueError):
    """The text is neither an IPv6 interface identifier nor a MAC address."""


class HostPartInPrefixError(InvalidInterfaceIdError):
    """The text has bits inside the prefix the record keeps from the detected address."""


class UnusableRecordError(ValueError):
    """A stored record ESDDNS can't keep in sync: 0.1.0 accepted it, or it was edited by hand.

    ``reason`` is ``name_too_long`` or ``invalid`` (a repair's translation key follows from
    it); the message says what is wrong.
    """

    def __init__(self, reason: str, message: str) -> None:
        """Say why the record can't be used."""
        super().__init__(message)
        self.reason = reason


def record_sensor_key(rtype: RecordType) -> str:
    """The key of a record's "A record" / "AAAA record" sensor (its unique id's suffix)."""
    return f"record_{rtype}"


def label(domain: str, name: str) -> str:
    """A record as a person reads it: ``home.example.com``, or the domain for ``@``."""
    return domain if name == "@" else f"{name}.{domain}"


@dataclass(frozen=True, slots=True)
class RecordKey:
    """One managed rrset: a domain, a name (``@`` for the apex) and a type."""

    domain: str
    name: str
    type: RecordType

    @property
    def family(self) -> Family:
        """The address family the record holds."""
        return FAMILY_OF_TYPE[self.type]

    @property
    def label(self) -> str:
        """The record as a person reads it: ``home.example.com``."""
        return label(self.domain, self.name)

    @property
    def description(self) -> str:
        """The record and its type, for messages: ``home.example.com A``."""
        return f"{self.label} {self.type}"


@dataclass(frozen=True, slots=True)
class ManagedRecord:
    """One record subentry: a name in a domain, its types, TTL and how AAAA is derived."""

    subentry_id: str
    domain: str
    name: str
    types: tuple[RecordType, ...]
    ttl: int
    auto_sync: bool
    # The low 64 bits to publish inside the detected /64, for a host other than this one.
    interface_id: ipaddress.IPv6Address | None = None
    # How many leading bits of the detected address it keeps (64: the same /64 as this host).
    prefix_bits: int = PREFIX_BITS

    @classmethod
    def from_data(cls, subentry_id: str, data: Mapping[str, Any]) -> ManagedRecord:
        """Read a record subentry's data, checked as the record form checks it.

        Raises UnusableRecordError for a record no write could succeed with.
        """
        try:
            domain = normalize_domain(data[CONF_DOMAIN])
            name = normalize_name(data[CONF_NAME])
            check_record_length(domain, name)
            types = tuple(sorted({normalize_type(rtype) for rtype in data[CONF_RECORD_TYPES]}))
            ttl = data.get(CONF_TTL, DEFAULT_TTL)
            ttl = validate_ttl(int(ttl) if isinstance(ttl, float) and ttl.is_integer() else ttl)
            text = data.get(CONF_INTERFACE_ID)
            prefix_bits = int(data.get(CONF_PREFIX_BITS, PREFIX_BITS))
            if not MIN_PREFIX_BITS <= prefix_bits <= PREFIX_BITS:
                raise UnusableRecordError("invalid", f"a kept IPv6 prefix of {prefix_bits} bits")
            interface_id = parse_interface_id(text, prefix_bits) if text else None
        except GandiInputError as err:
            reason = "name_too_long" if err.code == "name_too_long" else "invalid"
            raise UnusableRecordError(reason, err.message) from err
        except InvalidInterfaceIdError as err:
            raise UnusableRecordError(
                "invalid", f"{text!r} is not an interface identifier"
            ) from err
        except (KeyError, TypeError) as err:
            raise UnusableRecordError("invalid", f"incomplete settings ({err!r})") from err
        if not types:
            raise UnusableRecordError("invalid", "no record type")
        if interface_id is not None and RecordType.AAAA not in types:
            raise UnusableRecordError("invalid", "an interface identifier without AAAA")
        return cls(
            subentry_id=subentry_id,
            domain=domain,
            name=name,
            types=types,
            ttl=ttl,
            auto_sync=bool(data.get(CONF_AUTO_SYNC, DEFAULT_AUTO_SYNC)),
            interface_id=interface_id,
            prefix_bits=prefix_bits,
        )

    @property
    def label(self) -> str:
        """The record's full name: ``home.example.com``."""
        return label(self.domain, self.name)

    @property
    def keys(self) -> tuple[RecordKey, ...]:
        """The rrsets this record keeps in sync, one per type."""
        return tuple(RecordKey(self.domain, self.name, rtype) for rtype in self.types)

    def desired(self, key: RecordKey, public: IPAddress) -> IPAddress:
        """The address ``key`` must hold when ``public`` is the agreed public address."""
        if key.type is RecordType.AAAA and self.interface_id is not None:
            return in_prefix(public, self.interface_id, self.prefix_bits)
        return public


def desired(
    record: ManagedRecord,
    key: RecordKey,
    addresses: Mapping[Family, IPAddress],
    policies: Mapping[Family, AddressPolicy] | None = None,
) -> IPAddress | None:
    """The address ``key`` must hold, or None while its family has no agreed address, or when
    the account's address filters (``policies``) reject what it would hold: a host on another
    subnet can land outside a prefix the agreed address is in."""
    public = addresses.get(key.family)
    if public is None:
        return None
    address = record.desired(key, public)
    policy = (policies or {}).get(key.family)
    return address if policy is None or address == public or policy.accepts(address) else None


def in_prefix(
    public: IPAddress, interface_id: ipaddress.IPv6Address, prefix_bits: int = PREFIX_BITS
) -> ipaddress.IPv6Address:
    """The first ``prefix_bits`` of ``public`` followed by the rest of ``interface_id``: a LAN
    host's address from this one's (``::10`` in this /64; ``::3:0:0:0:10`` in subnet 3 of this
    /56)."""
    if not isinstance(public, ipaddress.IPv6Address):
        raise TypeError("an interface identifier needs an IPv6 address")
    mask = host_mask(prefix_bits)
    return ipaddress.IPv6Address((int(public) & ~mask) | (int(interface_id) & mask))


def parse_interface_id(text: object, prefix_bits: int = PREFIX_BITS) -> ipaddress.IPv6Address:
    """The part of an address after a kept prefix of ``prefix_bits``: an interface identifier
    (``::10``, ``::a1b2:c3ff:fed4:e5f6``, a MAC address), or with fewer than 64 kept bits a
    subnet too (``::3:0:0:0:10``).

    A MAC address becomes its modified EUI-64 identifier (RFC 4291, appendix A), the one SLAAC
    gives a host that doesn't use privacy addresses. Bits inside the kept prefix are refused:
    they would be silently dropped.
    """
    if not isinstance(text, str):
        raise InvalidInterfaceIdError(text)
    value = text.strip().lower()
    if _MAC.match(value):
        octets = bytes.fromhex(value.replace(":", "").replace("-", ""))
        eui = bytes([octets[0] ^ 0x02, *octets[1:3], 0xFF, 0xFE, *octets[3:]])
        return ipaddress.IPv6Address(int.from_bytes(eui))
    try:
        address = ipaddress.IPv6Address(value)
    except ValueError as err:
        raise InvalidInterfaceIdError(text) from err
    if not int(address) & _HOST_MASK or address.scope_id is not None:
        # An all-zero identifier is the subnet-router anycast address; a zone (%eth0) names a
        # link of this host, not part of a published address.
        raise InvalidInterfaceIdError(text)
    if int(address) & ~host_mask(prefix_bits):
        raise HostPartInPrefixError(text)
    return address


@dataclass(frozen=True, slots=True)
class UnusableRecord:
    """A record subentry that is left out of the syncs, and why (for its repair)."""

    subentry_id: str
    title: str
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class AccountRecords:
    """An account's record subentries, read: those it keeps in sync, and those it can't."""

    records: tuple[ManagedRecord, ...]
    unusable: tuple[UnusableRecord, ...] = ()

    @classmethod
    def read(cls, subentries: Mapping[str, ConfigSubentry]) -> AccountRecords:
        """The records of an account's subentries, in a stable order."""
        records: list[ManagedRecord] = []
        unusable: list[UnusableRecord] = []
        for subentry_id, subentry in subentries.items():
            if subentry.subentry_type != SUBENTRY_RECORD:
                continue
            try:
                records.append(ManagedRecord.from_data(subentry_id, subentry.data))
            except UnusableRecordError as err:
                unusable.append(UnusableRecord(subentry_id, subentry.title, err.reason, str(err)))
        records.sort(key=lambda record: (record.domain, record.name, record.subentry_id))
        return cls(tuple(records), tuple(unusable))

    @property
    def families(self) -> frozenset[Family]:
        """The address families the records hold."""
        return families_of(self.records)


def families_of(records: Iterable[ManagedRecord]) -> frozenset[Family]:
    """The address families some of ``records`` hold."""
    return frozenset(key.family for record in records for key in record.keys)


def account_title(domains: Iterable[str]) -> str:
    """An account's title: the domains its credential manages, never the secret."""
    names = sorted(set(domains))
    if len(names) <= 2:
        return ", ".join(names)
    return f"{names[0]}, {names[1]} (+{len(names) - 2})"
