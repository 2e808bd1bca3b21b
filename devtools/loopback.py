"""Run Home Assistant with every connection to a non-loopback address refused.

    python -m devtools.loopback -c CONFIG_DIR --skip-pip ...   (the arguments of `hass`)

Why: the config flow creates an ESDDNS entry with the built-in sources and sets it up at once,
before the options flow can point it at the loopback fakes; that first detection would query
public STUN, HTTPS and DNS servers. The demo and the end-to-end tests must stay on loopback, so
an audit hook refuses (ENETUNREACH, as an offline host would) every connect or send to another
address, and every name lookup except ``localhost``; c-ares resolvers are bound to 127.0.0.1.
The integration does not know about this.

Onboarding also adds integrations that live on the internet: weather (met), internet radio
(radio_browser) and text-to-speech (google_translate). Offline, and without their requirements
(--skip-pip), they fail with tracebacks, and Google Translate with a red "Failed to set up" card,
none of which has to do with ESDDNS: the flows onboarding starts for them are aborted.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import sys
from typing import Any

# What Home Assistant's onboarding sets up that needs the internet (2025.4 to 2026.11).
INTERNET_ONBOARDING = frozenset({"google_translate", "met", "radio_browser"})
_SENDS = frozenset({"socket.connect", "socket.sendto", "socket.sendmsg"})
_LOOKUPS = frozenset({"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"})


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _guard(event: str, args: tuple[object, ...]) -> None:
    # Audit hooks see every event of the interpreter: return fast for the others.
    if event in _SENDS:
        address = args[1]
        # Unix, netlink and other non-IP addresses are local by nature.
        if (
            isinstance(address, tuple)
            and address
            and isinstance(address[0], str)
            and not _is_loopback(address[0])
        ):
            raise OSError(errno.ENETUNREACH, f"loopback only: {address[0]} refused")
    elif event in _LOOKUPS:
        host = args[0]
        if isinstance(host, bytes):
            host = host.decode(errors="replace")
        if isinstance(host, str) and not (_is_literal(host) or _is_loopback(host)):
            raise socket.gaierror(socket.EAI_NONAME, f"loopback only: {host} not resolved")


def _bind_cares_to_loopback() -> None:
    """c-ares (aiodns, used by aiohttp and the DNS sources) sends from C, unseen by the hook.

    Bound to 127.0.0.1, its sockets can reach only loopback servers: anything else fails at once
    with EINVAL. IPv4 only (pycares 4.6.1 cannot set a local IPv6 address), which covers the
    entries of the demo and the tests: A records, so IPv4 sources and resolvers only.
    """
    import pycares

    original = pycares.Channel.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.set_local_ip("127.0.0.1")

    pycares.Channel.__init__ = init  # type: ignore[method-assign]


def _skip_internet_onboarding() -> None:
    """Abort the flows onboarding starts for INTERNET_ONBOARDING (it ignores their outcome)."""
    from homeassistant import config_entries
    from homeassistant.data_entry_flow import FlowResultType

    manager = config_entries.ConfigEntriesFlowManager
    original = manager.async_init

    async def async_init(
        self: config_entries.ConfigEntriesFlowManager, handler: str, **kwargs: Any
    ) -> config_entries.ConfigFlowResult:
        context = kwargs.get("context") or {}
        if context.get("source") == "onboarding" and handler in INTERNET_ONBOARDING:
            return config_entries.ConfigFlowResult(
                type=FlowResultType.ABORT, flow_id="", handler=handler, reason="loopback_only"
            )
        return await original(self, handler, **kwargs)

    manager.async_init = async_init  # type: ignore[method-assign]


def main() -> int:
    """Install the guards, then run Home Assistant's own entry point with our arguments."""
    sys.addaudithook(_guard)
    _bind_cares_to_loopback()
    _skip_internet_onboarding()
    # Imported after the hook, so nothing Home Assistant starts escapes it.
    from homeassistant.__main__ import main as hass_main

    sys.argv = ["hass", *sys.argv[1:]]
    return hass_main()


if __name__ == "__main__":
    sys.exit(main())
