"""Gandi's and the detection's errors in Home Assistant's words: the one place they are mapped.

Two decorators do it: ``coordinator_errors`` on the coordinators' fetches, ``action_errors`` on
what a person asks for (a button, the action). The syncer's own refusals (no consensus, a stale
detection, writes Gandi did not accept) are built here too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from functools import wraps
from typing import Any, Concatenate

from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    HomeAssistantError,
    ServiceValidationError,
)
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .const import DOMAIN
from .gandi import GandiCredentialError, GandiError, GandiRateLimitError
from .wan import Detection, Family


class NoSourceAnsweredError(Exception):
    """No source answered a detection round at all: the network, or the detection options."""


def coordinator_errors[C: DataUpdateCoordinator[Any], T](
    fetch: Callable[[C], Awaitable[T]],
) -> Callable[[C], Coroutine[Any, Any, T]]:
    """Map a coordinator's fetch errors: a refused credential starts reauthentication; anything
    else makes its entities unavailable until the next fetch (the messages name the account)."""

    @wraps(fetch)
    async def wrapper(coordinator: C) -> T:
        account = coordinator.config_entry.title if coordinator.config_entry else ""
        try:
            return await fetch(coordinator)
        except NoSourceAnsweredError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN, translation_key="no_source_answered"
            ) from err
        except GandiCredentialError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key="invalid_auth",
                translation_placeholders={"domain": account, "error": err.message},
            ) from err
        except GandiRateLimitError as err:
            # Gandi asked us to wait: the client sends nothing before then.
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="rate_limited",
                translation_placeholders={
                    "seconds": str(round(err.retry_after or 0)),
                    "domain": account,
                    "error": err.message,
                },
            ) from err
        except GandiError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="gandi_error",
                translation_placeholders={"domain": account, "error": err.message},
            ) from err

    return wrapper


def action_errors[S, **P, T](
    act: Callable[Concatenate[S, P], Awaitable[T]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
    """Map what stopped an action a person asked for: a read of the records that failed is said
    in the action's words (the coordinator's error already names the account and Gandi's answer)."""

    @wraps(act)
    async def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await act(self, *args, **kwargs)
        except ConfigEntryAuthFailed as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="invalid_auth",
                translation_placeholders=err.translation_placeholders,
            ) from err
        except UpdateFailed as err:
            if err.translation_key not in ("gandi_error", "rate_limited"):
                raise
            placeholders = err.translation_placeholders or {}
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="read_failed",
                translation_placeholders={
                    "domain": placeholders.get("domain", ""),
                    "error": placeholders.get("error", ""),
                },
            ) from err

    return wrapper


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


def no_source_answered() -> HomeAssistantError:
    """A detection asked for by an action found no source that answered."""
    return HomeAssistantError(translation_domain=DOMAIN, translation_key="no_source_answered")


def no_consensus(
    family: Family,
    detection: Detection | None,
    asked: int,
    detected_at: datetime | None,
    max_age_minutes: int,
) -> ServiceValidationError:
    """Why there is no address to write for ``family``, with the numbers behind it."""
    if detection is None or not (detection.answers or detection.filtered):
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="no_source_answered_family",
            translation_placeholders={"family": family.label, "asked": str(asked)},
        )
    if detection.address is None and not detection.answers:
        # Every answer was an address the account's filters reject: no source disagreed.
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="addresses_filtered",
            translation_placeholders={
                "family": family.label,
                "answers": detection.answers_text,
            },
        )
    if detection.address is None:
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="no_consensus",
            translation_placeholders={
                "family": family.label,
                "agreeing": str(
                    max((len(voters) for voters in detection.answers.values()), default=0)
                ),
                "quorum": str(detection.quorum),
                "answers": detection.answers_text,
            },
        )
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="detection_stale",
        translation_placeholders={
            "detected_at": detected_at.isoformat(timespec="seconds") if detected_at else "",
            "max_age": str(max_age_minutes),
        },
    )
