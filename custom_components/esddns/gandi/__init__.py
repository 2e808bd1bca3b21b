"""Gandi LiveDNS v5 client. No Home Assistant imports."""

from .client import GandiClient
from .errors import (
    GandiAuthError,
    GandiBadRequestError,
    GandiConflictError,
    GandiConnectionError,
    GandiCredentialError,
    GandiError,
    GandiInputError,
    GandiNotFoundError,
    GandiPermissionError,
    GandiRateLimitError,
    GandiResponseError,
    GandiServerError,
    GandiTimeoutError,
)
from .models import (
    MAX_TTL,
    MIN_TTL,
    PRODUCTION_URL,
    SANDBOX_URL,
    Credential,
    CredentialKind,
    RecordType,
    Rrset,
)
from .parse import MAX_BODY_BYTES
from .validate import (
    normalize_domain,
    normalize_name,
    normalize_type,
    validate_ttl,
    validate_values,
)

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_TTL",
    "MIN_TTL",
    "PRODUCTION_URL",
    "SANDBOX_URL",
    "Credential",
    "CredentialKind",
    "GandiAuthError",
    "GandiBadRequestError",
    "GandiClient",
    "GandiConflictError",
    "GandiConnectionError",
    "GandiCredentialError",
    "GandiError",
    "GandiInputError",
    "GandiNotFoundError",
    "GandiPermissionError",
    "GandiRateLimitError",
    "GandiResponseError",
    "GandiServerError",
    "GandiTimeoutError",
    "RecordType",
    "Rrset",
    "normalize_domain",
    "normalize_name",
    "normalize_type",
    "validate_ttl",
    "validate_values",
]
