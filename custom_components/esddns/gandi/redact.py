"""Keeping the credential out of every text that came from an answer.

A proxy or a broken endpoint may echo the request's Authorization header in its error body;
that text would then reach error messages, the log, the UI and diagnostics.
"""

from __future__ import annotations

from collections.abc import Iterable
import re

REDACTED = "**REDACTED**"
# An Authorization value in any case, whatever credential it holds (ours or not).
_SCHEME_VALUE = re.compile(r"\b(?:bearer|apikey)\s+\S+", re.IGNORECASE)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Return ``text`` with each secret and any ``Bearer <value>``/``Apikey <value>`` redacted."""
    # Longest first, so a secret that contains another is replaced whole.
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _SCHEME_VALUE.sub(REDACTED, text)
