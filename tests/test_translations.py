"""strings.json, translations, services.yaml, icons.json and the code agree with each other."""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

import pytest
import yaml

from custom_components.esddns.gandi import CredentialKind
from custom_components.esddns.services import _sync_schema
from custom_components.esddns.wan import DetectionMode, Family

COMPONENT = Path(__file__).parent.parent / "custom_components" / "esddns"
CODE = {path.name: path.read_text() for path in COMPONENT.glob("*.py")}
STRINGS: dict[str, Any] = json.loads((COMPONENT / "strings.json").read_text())
SERVICES: dict[str, Any] = yaml.safe_load((COMPONENT / "services.yaml").read_text())
ICONS: dict[str, Any] = json.loads((COMPONENT / "icons.json").read_text())
PLATFORMS = ("binary_sensor", "button", "sensor")


def _quoted(pattern: str, source: str) -> set[str]:
    return set(re.findall(pattern, source))


def _entity_keys(platform: str) -> set[str]:
    keys = _quoted(r'_attr_translation_key = "(\w+)"', CODE[f"{platform}.py"])
    if platform == "sensor":  # the public address sensors are keyed by family
        keys |= {f"public_{family.value}" for family in Family}
    return keys


def test_english_translation_is_strings_json() -> None:
    """translations/en.json is what strings.json says, word for word."""
    assert json.loads((COMPONENT / "translations" / "en.json").read_text()) == STRINGS


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_entity_key_is_translated_and_has_an_icon(platform: str) -> None:
    """Each translation key used by an entity has a name and an icon; none is unused."""
    used = _entity_keys(platform)
    assert used, f"no entity keys found in {platform}.py"
    assert set(STRINGS["entity"][platform]) == used
    assert set(ICONS["entity"][platform]) == used
    for key in used:
        assert STRINGS["entity"][platform][key]["name"]


def test_entity_name_placeholders_are_provided() -> None:
    """Names with {record} and {type} belong to entities that set those placeholders."""
    for platform in PLATFORMS:
        for key, text in STRINGS["entity"][platform].items():
            placeholders = set(re.findall(r"{(\w+)}", text["name"]))
            if placeholders:
                assert placeholders == {"record", "type"}, key
                assert "_attr_translation_placeholders" in CODE[f"{platform}.py"]


def test_service_fields_match_services_yaml_and_schema() -> None:
    """Every service and field in services.yaml is translated and in the schema; no extra."""
    assert set(SERVICES) == set(STRINGS["services"]) == set(ICONS["services"])
    for service, spec in SERVICES.items():
        fields = set(spec["fields"])
        translated = STRINGS["services"][service]
        assert translated["name"]
        assert translated["description"]
        assert set(translated["fields"]) == fields
        for field in fields:
            assert translated["fields"][field]["name"]
            assert translated["fields"][field]["description"]
            assert "selector" in spec["fields"][field]
    assert {str(key) for key in _sync_schema(None).schema} == set(SERVICES["sync"]["fields"])


def test_flow_errors_and_aborts_are_translated_and_used() -> None:
    """Every error the flows can show is translated, and every translation is used."""
    flow = CODE["config_flow.py"]
    used = _quoted(r'errors\.add\(\s*[\w"]+,\s*"(\w+)"', flow)
    translated = set(STRINGS["config"]["error"]) | set(STRINGS["options"]["error"])
    assert used == translated
    assert set(STRINGS["config"]["abort"]) == {
        "already_configured",
        "reauth_successful",
        "reconfigure_successful",
    }


def test_every_flow_field_has_a_label_and_a_description() -> None:
    """Each form field has a label and a data_description."""
    steps = {**STRINGS["config"]["step"], **STRINGS["options"]["step"]}
    for name, step in steps.items():
        assert step["title"], name
        for section in [step, *step.get("sections", {}).values()]:
            assert set(section.get("data", {})) == set(section.get("data_description", {})), name


def test_exception_and_issue_keys_are_translated_and_used() -> None:
    """Each translation_key raised or used for a repair has a message; none is unused."""
    used = set()
    for source in CODE.values():
        used |= _quoted(r'translation_key="(\w+)"', source)
        used |= _quoted(r'async_get_exception_message\(DOMAIN, "(\w+)"', source)
        used |= _quoted(r'return "(router_\w+)"', source)
        used |= _quoted(r'_raise\(\s*hass,\s*issue_id,\s*"(\w+)"', source)
    issues = set(STRINGS["issues"])
    assert issues <= used
    assert used - issues == set(STRINGS["exceptions"])
    for key, text in STRINGS["exceptions"].items():
        assert text["message"], key


def test_selector_options_match_the_enums() -> None:
    """The translated select options are exactly the values the code accepts."""
    assert set(STRINGS["selector"]["credential_kind"]["options"]) == {
        kind.value for kind in CredentialKind
    }
    assert set(STRINGS["selector"]["detection_mode"]["options"]) == {
        mode.value for mode in DetectionMode
    }
