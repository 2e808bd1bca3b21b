"""A personal access token's expiry date, known before Gandi starts refusing it.

Gandi's tokens expire on the date chosen when they are made, with no renewal; an expired one
gets 403. The user may give that date where the token is typed. From TOKEN_EXPIRY_WARNING
before it, a repair says the date and leads to re-authentication, and "DNS up to date" names it.
A new token (or a later date) saved reloads the account, which clears it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from . import issues
from .const import CONF_CREDENTIAL_KIND, CONF_TOKEN_EXPIRES, TOKEN_EXPIRY_WARNING
from .gandi import CredentialKind


def expiry_date(data: Mapping[str, Any]) -> date | None:
    """The expiry date an account's data holds (tokens only); None without one."""
    if data.get(CONF_CREDENTIAL_KIND) != CredentialKind.TOKEN.value:
        return None
    try:
        return date.fromisoformat(str(data.get(CONF_TOKEN_EXPIRES)))
    except ValueError:
        return None


class TokenExpiry:
    """Watches one account's token expiry date."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Read the date from the account's data."""
        self.hass = hass
        self.entry = entry
        self.expires = expiry_date(entry.data)
        self._timer: CALLBACK_TYPE | None = None

    @property
    def expires_at(self) -> datetime | None:
        """The start of the expiry day, in Home Assistant's time zone."""
        return dt_util.start_of_local_day(self.expires) if self.expires else None

    @property
    def warn_at(self) -> datetime | None:
        """When the warning starts."""
        expires_at = self.expires_at
        return expires_at - TOKEN_EXPIRY_WARNING if expires_at is not None else None

    def due(self) -> bool:
        """Whether the expiry is near (or past)."""
        return self.warn_at is not None and dt_util.utcnow() >= self.warn_at

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Say it now if it is near, or when it will be; returns what stops the timer."""
        self._async_look()
        return self.async_stop

    @callback
    def async_stop(self) -> None:
        """Stop the timer (on unload)."""
        if self._timer is not None:
            self._timer()
            self._timer = None

    @callback
    def _async_due(self, _now: datetime) -> None:
        self._timer = None
        self._async_look()

    @callback
    def _async_look(self) -> None:
        """Raise or clear the repair; look again when the warning starts, and once a day while
        it lasts (a repair the user confirmed without re-authenticating comes back)."""
        if (warn_at := self.warn_at) is None or self.expires is None:
            issues.async_token_expires(self.hass, self.entry.entry_id, self.entry.title, None)
            return
        if self.due():
            issues.async_token_expires(
                self.hass, self.entry.entry_id, self.entry.title, self.expires.isoformat()
            )
            warn_at = dt_util.utcnow() + timedelta(days=1)
        else:
            issues.async_token_expires(self.hass, self.entry.entry_id, self.entry.title, None)
        self._timer = async_track_point_in_utc_time(self.hass, self._async_due, warn_at)
