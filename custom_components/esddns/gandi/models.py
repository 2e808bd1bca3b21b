"""The credential and the rrset: plain values shared by the client and its callers."""

from __future__ import annotations

from dataclasses import dataclass, field

from .const import CredentialKind, RecordType
from .errors import GandiInputError
from .validate import normalize_secret

_SCHEMES = {CredentialKind.TOKEN: "Bearer", CredentialKind.API_KEY: "Apikey"}


@dataclass(frozen=True, repr=False)
class Credential:
    """A Gandi credential. Its secret never appears in repr() or str()."""

    kind: CredentialKind
    secret: str = field(compare=True)

    def __post_init__(self) -> None:
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
