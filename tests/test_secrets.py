"""An endpoint that echoes the Authorization header back: the token never reaches the log, the
entry's error in the UI, the stored sync history, a repair or the diagnostics download."""

from __future__ import annotations

import json
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.esddns.const import DOMAIN, SERVICE_SYNC
from custom_components.esddns.diagnostics import async_get_config_entry_diagnostics
from devtools.fakes.gandi import FakeGandi
from tests.integration import TOKEN, setup_entry


def _leaks(text: str) -> bool:
    return TOKEN in text or "Bearer " in text


@pytest.mark.entry(auto_sync=False)
async def test_echoed_token_is_kept_out_of_everything_users_see(
    hass: HomeAssistant,
    fake_gandi: FakeGandi,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Echoes in a refused write, a failed read and a 401 are all scrubbed."""
    caplog.set_level(logging.DEBUG)
    fake_gandi.set_rrset("example.com", "home", "A", ["81.2.69.1"])
    entry = mock_config_entry
    await setup_entry(hass, entry)

    # A write refused with the header echoed in Gandi's message, then in a plain-text body.
    for kind, status in (("echo-message", 409), ("echo-text", 500), ("echo-errors", 400)):
        fake_gandi.fail_next(kind, status=status)
        response = await hass.services.async_call(
            DOMAIN, SERVICE_SYNC, {"force": False}, blocking=True, return_response=True
        )
        reason = response["records"][0]["reason"]
        assert reason
        assert not _leaks(reason)

    # A read that fails with the echo, then a 401 with the echo: the entry's error reason.
    fake_gandi.fail_next("echo-message", status=500)
    await entry.runtime_data.records.async_refresh()
    fake_gandi.fail_next("echo-message", status=401)
    await entry.runtime_data.records.async_refresh()
    await hass.async_block_till_done()
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN)  # reauth started

    assert [item["result"] for item in entry.runtime_data.history.items][:3] == ["failed"] * 3
    assert not _leaks(json.dumps(hass_storage[f"{DOMAIN}.{entry.entry_id}"]))
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert not _leaks(json.dumps(diagnostics))
    assert diagnostics["entry"]["data"]["secret"] == "**REDACTED**"
    for issue in ir.async_get(hass).issues.values():
        assert not _leaks(json.dumps(issue.translation_placeholders or {}))
    assert not _leaks(caplog.text)
    assert not _leaks(str(entry.reason or ""))

    # The reload reauth asks for fails setup with the echo in the answer: still nothing.
    fake_gandi.fail_next("echo-message", count=5, status=401)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert not _leaks(str(entry.reason or ""))
    assert not _leaks(caplog.text)
