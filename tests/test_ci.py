"""The repository's automation: GitHub workflows, issue forms, and the rule that CI never passes
with an end-to-end or coturn test skipped."""

from __future__ import annotations

import json
import os
from pathlib import Path
import subprocess
import sys
import textwrap
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
GITHUB = ROOT / ".github"
REPOSITORY = "https://github.com/esddns/esddns-homeassistant"


def _load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text("utf-8"))
    assert isinstance(data, dict), path
    return data


def _triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 (PyYAML) reads the key `on` as True; GitHub reads it as "on".
    triggers = workflow.get("on", workflow.get(True))
    assert isinstance(triggers, dict)
    return triggers


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


@pytest.mark.parametrize(
    "path", sorted(GITHUB.rglob("*.y*ml")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_github_yaml_parses(path: Path) -> None:
    _load_yaml(path)


def test_validate_workflow_runs_hassfest_and_hacs() -> None:
    workflow = _load_yaml(GITHUB / "workflows" / "validate.yaml")
    assert {"push", "pull_request", "schedule"} <= set(_triggers(workflow))
    assert _triggers(workflow)["schedule"][0]["cron"]
    uses = {step.get("uses", "").split("@")[0]: step for step in _steps(workflow)}
    assert "home-assistant/actions/hassfest" in uses
    assert uses["hacs/action"]["with"]["category"] == "integration"


def test_tests_workflow_runs_both_legs() -> None:
    workflow = _load_yaml(GITHUB / "workflows" / "tests.yaml")
    assert {"push", "pull_request"} <= set(_triggers(workflow))
    runs = [step.get("run", "") for step in _steps(workflow)]
    assert any(run.strip() == "scripts/test" for run in runs)
    assert any(run.strip().endswith("scripts/test --latest") for run in runs)


def test_bug_report_form_asks_what_a_maintainer_needs() -> None:
    form = _load_yaml(GITHUB / "ISSUE_TEMPLATE" / "bug_report.yml")
    assert form["name"]
    assert form["description"]
    fields = {item["id"]: item for item in form["body"] if "id" in item}
    for needed in ("ha_version", "esddns_version", "diagnostics", "log", "steps"):
        assert fields[needed]["validations"]["required"] is True, needed
    config = _load_yaml(GITHUB / "ISSUE_TEMPLATE" / "config.yml")
    assert config["blank_issues_enabled"] is False
    assert all(link["url"].startswith(REPOSITORY) for link in config["contact_links"])


def test_manifest_has_what_hacs_requires() -> None:
    """HACS refuses an integration whose manifest lacks one of these (hacs.xyz, Integrations)."""
    manifest = json.loads((ROOT / "custom_components" / "esddns" / "manifest.json").read_text())
    for key in ("domain", "documentation", "issue_tracker", "codeowners", "name", "version"):
        assert manifest.get(key), key
    assert manifest["documentation"] == REPOSITORY
    assert manifest["issue_tracker"] == f"{REPOSITORY}/issues"


SKIPPING_TESTS = """\
import pytest


@pytest.fixture
def coturn():
    pytest.skip("no turnserver")


@pytest.mark.e2e
def test_e2e():
    pytest.skip("no hass")


def test_coturn(coturn):
    pass


def test_other():
    pytest.skip("nothing to check here")
"""


# A skip in a fixture (coturn) happens at setup, so it becomes an error rather than a failure.
@pytest.mark.parametrize(
    ("ci", "expected"), [("true", "1 failed, 1 skipped, 1 error"), ("", "3 skipped")]
)
def test_ci_fails_a_skipped_e2e_or_coturn_test(tmp_path: Path, ci: str, expected: str) -> None:
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_runtest_makereport  # noqa: F401\n"
    )
    (tmp_path / "pytest.ini").write_text(
        textwrap.dedent("""\
            [pytest]
            markers = e2e: end to end
            asyncio_mode = auto
            asyncio_default_fixture_loop_scope = function
        """)
    )
    (tmp_path / "test_skips.py").write_text(SKIPPING_TESTS)
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(  # noqa: S603 - our own interpreter and a file we wrote
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfs", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert expected in result.stdout, result.stdout + result.stderr
    if ci:
        assert "CI=true requires this test to run: no hass" in result.stdout
        assert "CI=true requires this test to run: no turnserver" in result.stdout


@pytest.mark.parametrize("script", ["scripts/test", "scripts/latest-env", ".ci/run"])
def test_ci_scripts_are_executable_bash(script: str) -> None:
    path = ROOT / script
    assert os.access(path, os.X_OK), f"{script} is not executable"
    result = subprocess.run(  # noqa: S603 - bash -n only parses
        ["bash", "-n", str(path)],  # noqa: S607
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
