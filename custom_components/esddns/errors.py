"""Gandi's errors in Home Assistant's words: the one place they are mapped."""

from __future__ import annotations

from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers.update_coordinator import UpdateFailed

from .const import DOMAIN
from .gandi import GandiCredentialError, GandiError


def rate_limited(wait: float) -> UpdateFailed:
    """Gandi asked us to wait: nothing is sent before then."""
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key="rate_limited",
        translation_placeholders={"seconds": str(round(wait))},
    )


def read_failed(err: GandiError, account: str) -> UpdateFailed | ConfigEntryAuthFailed:
    """A failed read of the records, as the records coordinator reports it.

    A refused credential starts reauthentication; anything else makes the records unavailable
    until the next read.
    """
    if isinstance(err, GandiCredentialError):
        return ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key="invalid_auth",
            translation_placeholders={"domain": account, "error": err.message},
        )
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key="gandi_error",
        translation_placeholders={"domain": account, "error": err.message},
    )


def action_failed(err: BaseException | None, account: str) -> HomeAssistantError:
    """A read the action or the button needed, failed: say why to the person who asked."""
    # ``err`` is the read's own error, whose text already names the account: what Gandi
    # answered (its cause) is the part to add.
    cause = err.__cause__ if err is not None else None
    placeholders = {
        "domain": account,
        "error": cause.message if isinstance(cause, GandiError) else str(err),
    }
    if isinstance(err, ConfigEntryAuthFailed):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="invalid_auth",
            translation_placeholders=placeholders,
        )
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="read_failed",
        translation_placeholders=placeholders,
    )


def sync_failed(records: list[str]) -> HomeAssistantError:
    """The error for writes Gandi did not accept (``records`` as ``home.example.com A``)."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="sync_failed",
        translation_placeholders={"records": ", ".join(records)},
    )


def domains_unreadable(domains: list[str]) -> HomeAssistantError:
    """The records asked for are all in domains Gandi says it doesn't know."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="read_failed",
        translation_placeholders={"domain": ", ".join(domains), "error": "unknown domain"},
    )
