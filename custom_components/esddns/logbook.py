"""Words for ESDDNS events in the logbook ("Activity")."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from homeassistant.core import HomeAssistant, callback

from .const import DOMAIN, EVENT_PUBLIC_IP_CHANGED, EVENT_RECORD_SYNCED

NAME = "ESDDNS"
_FAMILY_NAMES = {"ipv4": "IPv4", "ipv6": "IPv6"}


class _LoggedEvent(Protocol):
    """What the logbook hands a describer (its ``LazyEventPartialState``)."""

    @property
    def data(self) -> Mapping[str, Any]:
        """The event data, as recorded."""


type Describer = Callable[[_LoggedEvent], dict[str, str]]


@callback
def async_describe_events(
    hass: HomeAssistant, async_describe_event: Callable[[str, str, Describer], None]
) -> None:
    """Teach the logbook to tell ESDDNS events in words."""
    async_describe_event(DOMAIN, EVENT_PUBLIC_IP_CHANGED, _describe_public_ip_changed)
    async_describe_event(DOMAIN, EVENT_RECORD_SYNCED, _describe_record_synced)


def _describe_public_ip_changed(event: _LoggedEvent) -> dict[str, str]:
    data = event.data
    family = str(data.get("family"))
    family_name = _FAMILY_NAMES.get(family, family)
    # 0.1.0 recorded old/new; those rows stay in the recorder for days.
    before = _addresses(data.get("before", data.get("old")))
    after = _addresses(data.get("after", data.get("new")))
    message = f"Public {family_name} changed: {before} → {after}"
    if noticed := _noticed(str(data.get("trigger") or "")):
        message += f" ({noticed})"
    return {"name": NAME, "message": message}


def _noticed(trigger: str) -> str:
    """Who noticed the change first, in words; nothing for the regular detection."""
    if trigger.startswith("entity "):
        return f"noticed by {trigger.removeprefix('entity ')}"
    return {
        "canary": "noticed by the change check",
        "interface": "noticed on this host's network interface",
        "action": "found by an esddns.sync call",
        "start": "found at start",
    }.get(trigger, "")


def _describe_record_synced(event: _LoggedEvent) -> dict[str, str]:
    data = event.data
    record = f"{data.get('record')} {data.get('type')}"
    before = data.get("before", data.get("old"))
    after = data.get("after", data.get("new"))
    result = data.get("result", "updated")  # 0.1.0 fired only for successful writes
    if result == "failed":
        reason = data.get("reason") or "unknown error"
        message = f"{record} could not be updated: {reason}"
    elif not before:
        message = f"{record} created: {_addresses(after)}"
    else:
        message = f"{record} rewritten: {_addresses(before)} → {_addresses(after)}"
    return {"name": NAME, "message": message}


def _addresses(value: Any) -> str:
    """One address, or several joined with commas; "nothing" for none."""
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or "nothing"
    return str(value) if value else "nothing"
