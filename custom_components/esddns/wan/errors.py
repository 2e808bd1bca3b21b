"""Errors of public-address discovery: custom source text that cannot be used, and the ways a source
can fail to give an address, each carrying the outcome status it becomes."""

from __future__ import annotations

from typing import ClassVar

from .models import OutcomeStatus


class InvalidSourceError(ValueError):
    """Custom source text that cannot be used."""


class SourceFailure(Exception):  # noqa: N818 - a failure outcome, not a programming error
    """A source did not give an address; `status` is the outcome it becomes."""

    status: ClassVar[OutcomeStatus] = OutcomeStatus.ERROR


class MalformedAnswer(SourceFailure):
    """The answer is not exactly one address."""

    status = OutcomeStatus.MALFORMED


class SourceRefused(SourceFailure):
    """The server declined to answer."""

    status = OutcomeStatus.REFUSED


class SourceTimeout(SourceFailure):
    """No usable answer within the source's timeout."""

    status = OutcomeStatus.TIMEOUT


class StunError(SourceFailure):
    """Any problem with a STUN response."""


class StunMalformedError(StunError, MalformedAnswer):
    """Not a valid Binding response."""


class StunMismatchError(StunError):
    """A valid-looking response to some other request: ignored, never an answer."""


class StunBindingError(StunError, SourceRefused):
    """The server answered with a Binding error response."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"STUN error {code} {reason}".strip())
        self.code = code
        self.reason = reason


class ResolveFailed(SourceFailure):
    """The server's name has no address of the asked family."""


class DnsWireError(MalformedAnswer):
    """The message is not a well-formed answer to our question."""
