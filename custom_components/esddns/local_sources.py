"""Answers for the sources only Home Assistant has: an entity's state, the host's interfaces."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from ipaddress import IPv4Address
from pathlib import Path

from homeassistant.components import network
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant

from .wan import (
    AddressClass,
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


def local_handlers(hass: HomeAssistant) -> Mapping[SourceKind, LocalHandler]:
    """The handlers detect() needs for ENTITY and INTERFACE sources."""
    return {
        SourceKind.ENTITY: partial(async_read_entity, hass),
        SourceKind.INTERFACE: partial(async_read_interface, hass),
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


async def async_read_interface(hass: HomeAssistant, source: Source, family: Family) -> IPAddress:
    """The host's own public address of ``family`` (stable IPv6 addresses first)."""
    adapters = [a for a in await network.async_get_adapters(hass) if a["enabled"]]
    if family is Family.IPV6:
        candidates = [ip["address"] for a in adapters for ip in a["ipv6"]]
        entries = await hass.async_add_executor_job(read_if_inet6)
        found: IPAddress | None = preferred_ipv6(candidates, entries)
    else:
        found = next(
            (
                address
                for a in adapters
                for ip in a["ipv4"]
                if classify_address(address := IPv4Address(ip["address"])) is AddressClass.PUBLIC
            ),
            None,
        )
    if found is None:
        raise SourceFailure(f"no public {family.label} address on this host's interfaces")
    return found
