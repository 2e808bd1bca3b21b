"""Public-address discovery: STUN, HTTPS, DNS, DoH and local sources agreed on by a quorum.

Pure asyncio: no Home Assistant imports. `models` holds the data, `errors` the failures,
`sources` the definitions and defaults, `consensus` the rounds; one module per way of asking
(`stun` over `stun_codec`, `http`, `dns`, `doh` over `dns_wire`).
"""

from .address import (
    PUBLIC_ONLY,
    AddressClass,
    AddressPolicy,
    InvalidPrefixError,
    IPAddress,
    Prefix,
    classify_address,
    hold_every_public,
    holds_public,
    parse_prefix,
)
from .consensus import LocalHandler, ask_source, detect
from .errors import (
    InvalidSourceError,
    MalformedAnswer,
    SourceFailure,
    SourceRefused,
    SourceTimeout,
)
from .interfaces import IfInet6Entry, parse_if_inet6, preferred_ipv6
from .models import (
    LOCAL_KINDS,
    Detection,
    DetectionMode,
    Family,
    OutcomeStatus,
    Source,
    SourceKind,
    SourceOutcome,
)
from .scoreboard import Scoreboard
from .sources import (
    DEFAULT_DNS,
    DEFAULT_DOH,
    DEFAULT_HTTPS,
    DEFAULT_STUN,
    dns_source,
    doh_source,
    entity_source,
    https_source,
    interface_source,
    parse_address,
    parse_https_source,
    parse_stun_server,
    sources_for,
    stun_source,
)

__all__ = [
    "DEFAULT_DNS",
    "DEFAULT_DOH",
    "DEFAULT_HTTPS",
    "DEFAULT_STUN",
    "LOCAL_KINDS",
    "PUBLIC_ONLY",
    "AddressClass",
    "AddressPolicy",
    "Detection",
    "DetectionMode",
    "Family",
    "IPAddress",
    "IfInet6Entry",
    "InvalidPrefixError",
    "InvalidSourceError",
    "LocalHandler",
    "MalformedAnswer",
    "OutcomeStatus",
    "Prefix",
    "Scoreboard",
    "Source",
    "SourceFailure",
    "SourceKind",
    "SourceOutcome",
    "SourceRefused",
    "SourceTimeout",
    "ask_source",
    "classify_address",
    "detect",
    "dns_source",
    "doh_source",
    "entity_source",
    "hold_every_public",
    "holds_public",
    "https_source",
    "interface_source",
    "parse_address",
    "parse_https_source",
    "parse_if_inet6",
    "parse_prefix",
    "parse_stun_server",
    "preferred_ipv6",
    "sources_for",
    "stun_source",
]
