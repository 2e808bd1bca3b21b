"""Shared fixtures for the ESDDNS test suite."""

from __future__ import annotations

from collections.abc import Generator

import pytest

pytest_plugins = [
    "tests.fakes.fixtures_wan",
    "tests.fakes.fixtures_gandi",
]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    enable_custom_integrations: None,
) -> Generator[None]:
    """Let Home Assistant load the integration from custom_components/."""
    yield
