"""Pytest fixtures for the fake Gandi LiveDNS server (devtools/fakes/gandi.py)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import pytest

from devtools.fakes.gandi import FakeGandi

EXAMPLE_TOKEN = "token-example"
EXAMPLE_API_KEY = "apikey-example"
NO_RIGHTS_TOKEN = "token-no-rights"
EXAMPLE_DOMAINS = ("example.com", "example.org")


@pytest.fixture
async def fake_gandi(socket_enabled: None) -> AsyncGenerator[FakeGandi]:
    """A started fake LiveDNS on 127.0.0.1 (``fake_gandi.url`` ends in ``/v5/livedns``).

    Preset:
    - personal access token ``"token-example"`` (Bearer, principal ``"example-token"``) manages
      ``example.com`` and ``example.org``;
    - API key ``"apikey-example"`` (Apikey, principal ``"example-apikey"``) manages the same two;
    - token ``"token-no-rights"`` (Bearer, principal ``"no-rights-token"``) manages nothing, so it
      gets 403 on both domains and an empty domain list;
    - both zones exist and hold no rrsets; no faults, no rate limit, an empty request log.

    It is stopped at teardown (hanging answers are released first).
    """
    fake = FakeGandi()
    fake.add_token(EXAMPLE_TOKEN, EXAMPLE_DOMAINS, name="example-token")
    fake.add_api_key(EXAMPLE_API_KEY, EXAMPLE_DOMAINS, name="example-apikey")
    fake.add_token(NO_RIGHTS_TOKEN, (), name="no-rights-token")
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
