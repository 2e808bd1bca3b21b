"""The fix of a repair that can be fixed: a token about to expire leads to re-authentication."""

from __future__ import annotations

from typing import Any

from homeassistant import data_entry_flow
from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.core import HomeAssistant


class TokenExpiresFlow(ConfirmRepairFlow):
    """Confirm, then Home Assistant asks for the new token (the account's re-authentication)."""

    def __init__(self, entry_id: str) -> None:
        """Fix the token of ``entry_id``."""
        super().__init__()
        self._entry_id = entry_id

    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> data_entry_flow.FlowResult:
        """Start the re-authentication on confirmation; the repair goes once it is done."""
        if user_input is not None and (
            entry := self.hass.config_entries.async_get_entry(self._entry_id)
        ):
            entry.async_start_reauth(self.hass)
        return await super().async_step_confirm(user_input)


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """The fix of an ESDDNS repair (only the token's expiry has one)."""
    return TokenExpiresFlow(str((data or {}).get("entry_id", "")))
