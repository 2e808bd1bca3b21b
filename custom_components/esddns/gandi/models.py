"""Plain values shared by the client and its callers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .errors import GandiInputError

PRODUCTION_URL = "https://api.gandi.net/v5/livedns"
# The sandbox only accepts tokens created in the sandbox's own admin (admin.sandbox.gandi.net).
SANDBOX_URL = "https://api.sandbox.gandi.net/v5/livedns"

# LiveDNS refuses rrset_ttl outside these bounds (5 minutes … 30 days).
MIN_TTL = 300
MAX_TTL = 2_592_000


class CredentialKind(StrEnum):
    """How Gandi is told who is calling."""

    TOKEN = "token"  # noqa: S105  # personal access token: "Authorization: Bearer …"
    API_KEY = "api_key"  # legacy, deprecated API key: "Authorization: Apikey …"


class RecordType(StrEnum):
    """The record types ESDDNS manages."""

    A = "A"
    AAAA = "AAAA"


_SCHEMES = {CredentialKind.TOKEN: "Bearer", CredentialKind.API_KEY: "Apikey"}


@dataclass(frozen=True, repr=False)
class Credential:
    """A Gandi credential. Its secret never appears in repr() or str()."""

    kind: CredentialKind
    secret: str = field(compare=True)

    def __post_init__(self) -> None:
        # Imported here: validate needs this module's constants, so a top import would be a cycle.
        from .validate import normalize_secret

        try:
            kind = CredentialKind(self.kind)
        except ValueError:
            # No value shown: with the arguments swapped, the "kind" would be the secret.
            raise GandiInputError(
                "unknown credential kind", code="invalid_credential_kind"
            ) from None
        object.__setattr__(self, "kind", kind)
        # Stored stripped: the pasted secret's newline or spaces would otherwise reach the header.
        object.__setattr__(self, "secret", normalize_secret(self.secret))

    @property
    def scheme(self) -> str:
        """The Authorization scheme Gandi expects for this kind of credential."""
        return _SCHEMES[self.kind]

    def authorization(self) -> str:
        """The Authorization header value (holds the secret: never log it)."""
        return f"{self.scheme} {self.secret}"

    def __repr__(self) -> str:
        return f"Credential(kind={self.kind.value!r}, secret='***')"

    __str__ = __repr__


@dataclass(frozen=True)
class Rrset:
    """One LiveDNS rrset: every value of one name and type, with their shared TTL."""

    name: str
    type: RecordType
    ttl: int
    values: tuple[str, ...]
