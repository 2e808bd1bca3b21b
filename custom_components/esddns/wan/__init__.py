"""Public-IP discovery: STUN, HTTPS and DNS sources agreed on by a quorum.

Pure asyncio: no Home Assistant imports.
"""

from .address import (
    ANY_ADDRESS,
    PUBLIC_ONLY,
    AddressClass,
    AddressPolicy,
    IPAddress,
    classify_address,
)
from .consensus import Detection, ask_source, detect
from .source import (
    DEFAULT_DNS,
    DEFAULT_HTTPS,
    DEFAULT_STUN,
    DetectionMode,
    Family,
    InvalidSourceError,
    OutcomeStatus,
    Source,
    SourceKind,
    SourceOutcome,
    dns_source,
    https_source,
    parse_https_source,
    parse_stun_server,
    sources_for,
    stun_source,
)

__all__ = [
    "ANY_ADDRESS",
    "DEFAULT_DNS",
    "DEFAULT_HTTPS",
    "DEFAULT_STUN",
    "PUBLIC_ONLY",
    "AddressClass",
    "AddressPolicy",
    "Detection",
    "DetectionMode",
    "Family",
    "IPAddress",
    "InvalidSourceError",
    "OutcomeStatus",
    "Source",
    "SourceKind",
    "SourceOutcome",
    "ask_source",
    "classify_address",
    "detect",
    "dns_source",
    "https_source",
    "parse_https_source",
    "parse_stun_server",
    "sources_for",
    "stun_source",
]
