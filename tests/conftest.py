"""Shared fixtures for the ESDDNS test suite."""

from __future__ import annotations

from collections.abc import Generator
import os

import pytest

pytest_plugins = [
    "tests.fixtures_wan",
    "tests.fixtures_gandi",
    "tests.integration",
    "tests.snapshots",
]

# Tests that only prove something when they really run: a skip of one fails the run under CI.
MUST_RUN_FIXTURES = frozenset({"coturn", "stack"})


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(request: pytest.FixtureRequest) -> None:
    """Let Home Assistant load the integration from custom_components/.

    Not for e2e tests: they drive a separate `hass` process, and the fixture would start an
    in-process Home Assistant for nothing.
    """
    if request.node.get_closest_marker("e2e") is None:
        request.getfixturevalue("enable_custom_integrations")


def must_run(item: pytest.Item) -> bool:
    """An end-to-end test, or one that needs the real coturn."""
    fixtures = set(getattr(item, "fixturenames", ()))
    return item.get_closest_marker("e2e") is not None or bool(fixtures & MUST_RUN_FIXTURES)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Under CI=true, a skipped e2e or coturn test is a failure: CI must not pass without them."""
    report = yield
    if (
        report.skipped
        and not hasattr(report, "wasxfail")
        and os.environ.get("CI") == "true"
        and must_run(item)
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        reason = str(reason).removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = f"skipped, but CI=true requires this test to run: {reason}"
    return report
