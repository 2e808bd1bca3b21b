"""Shared fixtures for the ESDDNS test suite."""

from __future__ import annotations

import pytest

pytest_plugins = [
    "tests.fixtures_wan",
    "tests.fixtures_gandi",
    "tests.integration",
]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(request: pytest.FixtureRequest) -> None:
    """Let Home Assistant load the integration from custom_components/.

    Not for e2e tests: they drive a separate `hass` process, and the fixture would start an
    in-process Home Assistant for nothing.
    """
    if request.node.get_closest_marker("e2e") is None:
        request.getfixturevalue("enable_custom_integrations")
