"""What a loaded account holds at run time, and the Gandi client its settings describe.

The top of the import graph: platforms, the action, diagnostics and the setup import it; nothing
it imports imports it back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .const import CONF_API_URL, CONF_CREDENTIAL_KIND, CONF_SECRET
from .coordinator import RecordCoordinator
from .detection import DetectionCoordinator
from .expiry import TokenExpiry
from .gandi import PRODUCTION_URL, Credential, CredentialKind, GandiClient, RateLimitGate
from .health import AccountHealth
from .history import SyncHistory
from .records import AccountRecords
from .sharing import SharedDetection
from .syncer import AccountSyncer

type EsddnsConfigEntry = ConfigEntry[EsddnsData]


@dataclass
class EsddnsData:
    """What a loaded account holds at run time."""

    client: GandiClient
    # After a 429, nothing of this account goes to Gandi before the wait is over: its reads,
    # its writes, and its Add record flows' domain lists.
    gate: RateLimitGate
    detection: DetectionCoordinator
    # The detection as this account shares it with others of equal settings.
    shared: SharedDetection
    records: RecordCoordinator
    syncer: AccountSyncer
    health: AccountHealth
    history: SyncHistory
    expiry: TokenExpiry
    # The records as the account last applied them: those it keeps in sync, and those it
    # can't; and the record subentries' data they were read from.
    account_records: AccountRecords
    subentries: dict[str, Mapping[str, Any]]
    # The registry id of the account's device, the parent of its records' devices.
    account_device_id: str | None = None
    # The unique ids each platform's entities have now; any other is left from older records.
    unique_ids: dict[str, set[str]] = field(default_factory=dict)
    # Record changes are applied one at a time.
    records_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def gandi_client(
    hass: HomeAssistant, credential: Mapping[str, Any], gate: RateLimitGate | None = None
) -> GandiClient:
    """The Gandi client a credential (an account's data, or a form's) describes, on Home
    Assistant's shared session: the setup and the flows build it here alone. An account's
    client goes through the account's ``gate``: after a 429, neither its reads nor its writes
    are sent before Gandi's wait is over.

    Raises GandiInputError when the secret or the endpoint can't be used.
    """
    return GandiClient(
        async_get_clientsession(hass),
        Credential(CredentialKind(credential[CONF_CREDENTIAL_KIND]), credential[CONF_SECRET]),
        credential.get(CONF_API_URL, PRODUCTION_URL),
        gate=gate,
    )
