"""Gandi LiveDNS constants: endpoints, TTL bounds, credential kinds and record types.

The leaf of the package: it imports nothing of ours.
"""

from __future__ import annotations

from enum import StrEnum

PRODUCTION_URL = "https://api.gandi.net/v5/livedns"
# The sandbox only accepts tokens created in the sandbox's own admin (admin.sandbox.gandi.net).
SANDBOX_URL = "https://api.sandbox.gandi.net/v5/livedns"

# LiveDNS refuses rrset_ttl outside these bounds (5 minutes … 30 days).
MIN_TTL = 300
MAX_TTL = 2_592_000

# The wait after a 429 that does not say how long (Retry-After missing or unreadable).
DEFAULT_RATE_LIMIT_WAIT = 60.0


class CredentialKind(StrEnum):
    """How Gandi is told who is calling."""

    TOKEN = "token"  # noqa: S105  # personal access token: "Authorization: Bearer …"
    API_KEY = "api_key"  # legacy, deprecated API key: "Authorization: Apikey …"


class RecordType(StrEnum):
    """The record types ESDDNS manages."""

    A = "A"
    AAAA = "AAAA"
