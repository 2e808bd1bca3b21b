"""Shared fixtures for the ESDDNS test suite."""

from __future__ import annotations

import pytest

pytest_plugins = [
    "tests.fakes.fixtures_wan",
    "tests.fakes.fixtures_gandi",
    "tests.integration",
]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from custom_components/."""
