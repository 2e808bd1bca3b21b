"""Answers for the sources only Home Assistant has: an entity's state, the host's interfaces."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

from homeassistant.components import network
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant

from .wan import (
    PUBLIC_ONLY,
    AddressClass,
    AddressPolicy,
    Family,
    IfInet6Entry,
    IPAddress,
    LocalHandler,
    Source,
    SourceFailure,
    SourceKind,
    SourceRefused,
    classify_address,
    parse_address,
    parse_if_inet6,
    preferred_ipv6,
)

# What Linux says of each IPv6 address (temporary, deprecated, tentative...): Home Assistant's
# adapter data has no such flags, so a stable address can't be told from a privacy one there.
IF_INET6 = Path("/proc/net/if_inet6")


def local_handlers(
    hass: HomeAssistant, policies: Mapping[Family, AddressPolicy] | None = None
) -> Mapping[SourceKind, LocalHandler]:
    """The handlers detect() needs for ENTITY and INTERFACE sources; the host's address is
    chosen among those the account's filters (``policies``) let through, when it has one."""
    return {
        SourceKind.ENTITY: partial(async_read_entity, hass),
        SourceKind.INTERFACE: partial(async_read_interface, hass, policies or {}),
    }


async def async_read_entity(hass: HomeAssistant, source: Source, family: Family) -> IPAddress:
    """The address an entity's state holds; a missing, unavailable or odd state is a failure."""
    state = hass.states.get(source.entity_id)
    if state is None:
        raise SourceFailure(f"{source.entity_id} does not exist")
    if state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        raise SourceRefused(f"{source.entity_id} is {state.state}")
    return parse_address(state.state.strip())


def read_if_inet6() -> list[IfInet6Entry] | None:
    """What Linux says of each IPv6 address of this host; None without the file."""
    try:
        return parse_if_inet6(IF_INET6.read_text(encoding="ascii"))
    except (OSError, UnicodeError):
        return None  # not Linux, or no IPv6: Home Assistant's own data decides alone


async def async_read_interface(
    hass: HomeAssistant,
    policies: Mapping[Family, AddressPolicy],
    source: Source,
    family: Family,
) -> IPAddress:
    """The host's own public address of ``family`` (stable IPv6 addresses first): one the
    filters let through if there is one (a VPN's address beside the ISP's is passed over),
    else the first public one, which the filters then mark as filtered."""
    adapters = [a for a in await network.async_get_adapters(hass) if a["enabled"]]
    policy = policies.get(family, PUBLIC_ONLY)
    found: IPAddress | None
    if family is Family.IPV6:
        candidates = [ip["address"] for a in adapters for ip in a["ipv6"]]
        entries = await hass.async_add_executor_job(read_if_inet6)
        passing = [text for text in candidates if _passes(policy, text)]
        found = preferred_ipv6(passing, entries) or preferred_ipv6(candidates, entries)
    else:
        public = [
            address
            for a in adapters
            for ip in a["ipv4"]
            if classify_address(address := IPv4Address(ip["address"])) is AddressClass.PUBLIC
        ]
        found = next((a for a in public if policy.accepts(a)), public[0] if public else None)
    if found is None:
        raise SourceFailure(f"no public {family.label} address on this host's interfaces")
    return found


def _passes(policy: AddressPolicy, text: str) -> bool:
    """Whether an adapter's IPv6 address text (maybe with a %scope) is one ``policy`` accepts."""
    try:
        return policy.accepts(IPv6Address(text.split("%", 1)[0]))
    except ValueError:
        return False
