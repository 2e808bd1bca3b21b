"""Typed errors of the Gandi LiveDNS client.

Every failure the client can meet leaves it as one of these, so callers never see aiohttp,
asyncio or json exceptions. Messages are Gandi's own when it sent one, and never hold the
credential: the client scrubs every text that comes from an answer (see ``scrub``).
"""

from __future__ import annotations


class GandiError(Exception):
    """Base of every error the client raises.

    ``message`` is Gandi's message when the error body had one (else ours); ``status`` is the
    HTTP status, or None when no answer came (timeout, connection failure, bad input).
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        if self.status is None:
            return self.message
        return f"{self.message} (HTTP {self.status})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(message={self.message!r}, status={self.status!r})"


class GandiInputError(GandiError, ValueError):
    """An argument is invalid; nothing was sent.

    ``code`` says what is wrong in a form a UI can translate (``invalid_secret``,
    ``invalid_api_url``, ``invalid_domain``, ``invalid_name``, ``name_too_long``, ``invalid_ttl``,
    ``invalid_type``, ``invalid_value``, ...); ``value`` is the offending input, shortened, for
    the UI's message, and None when it must not be shown (a secret is never put there).
    """

    def __init__(self, message: str, *, code: str, value: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.value = value

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, code={self.code!r}, "
            f"value={self.value!r})"
        )


class GandiCredentialError(GandiError):
    """The credential is refused: wrong, expired, or without rights (reauthentication)."""


class GandiAuthError(GandiCredentialError):
    """401: Gandi does not know the credential, or it has expired."""


class GandiPermissionError(GandiCredentialError):
    """403: the credential is valid but may not act on this resource."""


class GandiNotFoundError(GandiError):
    """404 where it is an error: an answer not from LiveDNS, or an unknown domain (subclass)."""


class GandiDomainNotFoundError(GandiNotFoundError):
    """404 on the domain itself: LiveDNS does not serve it (or no longer) for this account."""


class GandiConflictError(GandiError):
    """409: the change conflicts with the zone's current state."""


class GandiBadRequestError(GandiError):
    """400 (or 422): Gandi refused what was sent; ``fields`` names the fields it blamed."""

    def __init__(
        self, message: str, *, status: int | None = 400, fields: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message, status=status)
        self.fields = fields

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, status={self.status!r}, "
            f"fields={self.fields!r})"
        )


class GandiRateLimitError(GandiError):
    """429: too many requests; ``retry_after`` is the wait in seconds when Gandi said."""

    def __init__(
        self, message: str, *, status: int | None = 429, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class GandiServerError(GandiError):
    """5xx: Gandi (or a proxy in front of it) failed."""


class GandiTimeoutError(GandiError):
    """No complete answer within the client's timeout."""


class GandiConnectionError(GandiError):
    """The connection failed, or was cut before the whole answer arrived."""


class GandiResponseError(GandiError):
    """An answer came but is not what Gandi sends: not JSON, the wrong shape, an odd status."""
