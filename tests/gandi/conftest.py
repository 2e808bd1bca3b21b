"""Fixtures for the Gandi client tests."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import aiohttp
import pytest

from custom_components.esddns.gandi import Credential, CredentialKind, GandiClient
from devtools.fakes.gandi import FakeGandi
from tests.fixtures_gandi import EXAMPLE_TOKEN


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[aiohttp.ClientSession]:
    """A plain aiohttp session, closed at teardown."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def client(session: aiohttp.ClientSession, fake_gandi: FakeGandi) -> GandiClient:
    """A client on the fake, authenticated with the preset personal access token."""
    return GandiClient(
        session, Credential(CredentialKind.TOKEN, EXAMPLE_TOKEN), fake_gandi.url, timeout=5.0
    )
