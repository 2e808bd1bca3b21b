"""strings.json, translations, services.yaml, icons.json and the code agree with each other."""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import yaml

from custom_components.esddns.const import DOMAIN
from custom_components.esddns.gandi import CredentialKind
from custom_components.esddns.services import _sync_schema
from custom_components.esddns.wan import DetectionMode, Family
from tests.integration import setup_entry

COMPONENT = Path(__file__).parent.parent / "custom_components" / "esddns"
CODE = {path.name: path.read_text() for path in COMPONENT.glob("*.py")}
STRINGS: dict[str, Any] = json.loads((COMPONENT / "strings.json").read_text())
SERVICES: dict[str, Any] = yaml.safe_load((COMPONENT / "services.yaml").read_text())
ICONS: dict[str, Any] = json.loads((COMPONENT / "icons.json").read_text())
PLATFORMS = ("binary_sensor", "button", "sensor")


def _quoted(pattern: str, source: str) -> set[str]:
    return set(re.findall(pattern, source))


def _entity_keys(platform: str) -> set[str]:
    keys = _quoted(r'translation_key="(\w+)"', CODE[f"{platform}.py"])
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
    """Names with {type} belong to entities that set that placeholder (a record's "A drift")."""
    for platform in PLATFORMS:
        for key, text in STRINGS["entity"][platform].items():
            placeholders = set(re.findall(r"{(\w+)}", text["name"]))
            if placeholders:
                assert placeholders == {"type"}, key
                # A record's entities of one type set it (entity.py), for every platform.
                assert '_attr_translation_placeholders = {"type":' in CODE["entity.py"]
    assert re.findall(r"{(\w+)}", STRINGS["device"]["account"]["name"]) == ["account"]
    assert 'translation_placeholders={"account":' in CODE["entity.py"]


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
    flow = CODE["config_flow.py"] + CODE["validation.py"] + CODE["address_filters.py"]
    used = _quoted(r'(?:errors|warning)\.add\(\s*[\w"]+,\s*"(\w+)"', flow)
    translated = set(STRINGS["config"]["error"]) | set(STRINGS["options"]["error"])
    assert used == translated
    # The record form's errors, in the "Add record" flow too; its aborts are the listing's.
    record = STRINGS["config_subentries"]["record"]
    record_errors = _quoted(
        r'errors\.add\(\s*[\w"]+,\s*"(\w+)"', _function(CODE["validation.py"], "check_record")
    )
    assert record_errors | {"quorum_unreachable"} == set(record["error"])
    validation = CODE["validation.py"]
    listing = _quoted(
        r'errors\.add\(\s*[\w"]+,\s*"(\w+)"', _function(validation, "async_list_domains")
    )
    listing |= _quoted(
        r'errors\.add\(\s*[\w"]+,\s*"(\w+)"', _function(validation, "credential_data")
    )
    assert listing | {"reconfigure_successful"} == set(record["abort"])
    assert set(STRINGS["config"]["abort"]) == {
        "already_configured",
        "reauth_successful",
        "reconfigure_successful",
    }


def _function(source: str, name: str) -> str:
    """The text of one top-level function of a module."""
    start = re.search(rf"\n(async )?def {name}\(", source).start()  # type: ignore[union-attr]
    end = source.find("\n\n\n", start)
    return source[start:end]


def test_every_flow_field_has_a_label_and_a_description() -> None:
    """Each form field has a label and a data_description."""
    steps = {
        **STRINGS["config"]["step"],
        **STRINGS["options"]["step"],
        **{f"record_{k}": v for k, v in STRINGS["config_subentries"]["record"]["step"].items()},
    }
    for name, step in steps.items():
        assert step["title"], name
        for section in [step, *step.get("sections", {}).values()]:
            assert set(section.get("data", {})) == set(section.get("data_description", {})), name


def test_exception_and_issue_keys_are_translated_and_used() -> None:
    """Each translation_key raised or used for a repair has a message; none is unused."""
    used = set()
    # Entity descriptions and the account device carry translation keys of their own.
    named = {key for platform in PLATFORMS for key in _entity_keys(platform)} | set(
        STRINGS["device"]
    )
    for source in CODE.values():
        used |= _quoted(r'translation_key="(\w+)"', source) - named
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


TRANSLATIONS = COMPONENT / "translations"
LANGUAGES = ("de", "en", "es", "fr", "it", "nl")
PLACEHOLDER = re.compile(r"{(\w+)}")
# Names, protocols and literals that a translation must carry over unchanged.
VERBATIM = (
    "ESDDNS",
    "Gandi",
    "LiveDNS",
    "STUN",
    "HTTPS",
    "DNS over HTTPS",
    "IPv4",
    "IPv6",
    "AAAA",
    "TTL",
    "CGNAT",
    "VPN",
    "API",
    "esddns.sync",
    "admin.gandi.net",
    "api.gandi.net",
    "api.sandbox.gandi.net",
    "Manage domain name technical configurations",
    "udp+tcp://",
    "user:password@",
    "[IPv6]:port",
    "2592000",
    "(ms)",
    "(s)",
)


def _strings(tree: Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """Every leaf of a translation tree, by its key path."""
    if not isinstance(tree, dict):
        return {path: tree}
    leaves: dict[tuple[str, ...], Any] = {}
    for key, value in tree.items():
        leaves |= _strings(value, (*path, key))
    return leaves


ENGLISH = _strings(STRINGS)


def _language(language: str) -> dict[tuple[str, ...], Any]:
    return _strings(json.loads((TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8")))


def test_every_language_is_shipped() -> None:
    """The UI speaks exactly the languages the README promises; no stray files."""
    assert sorted(path.stem for path in TRANSLATIONS.glob("*.json")) == sorted(LANGUAGES)
    readme = (COMPONENT.parent.parent / "README.md").read_text(encoding="utf-8")
    promise = next(line for line in readme.splitlines() if line.startswith("ESDDNS speaks "))
    for name in ("English", "French", "German", "Dutch", "Spanish", "Italian"):
        assert name in promise


@pytest.mark.parametrize("language", LANGUAGES)
def test_language_file_is_json_with_only_non_empty_strings(language: str) -> None:
    """Each file parses, and every value is a string with something to show."""
    for path, text in _language(language).items():
        assert isinstance(text, str), path
        assert text.strip(), path
        assert text == text.strip(), path


@pytest.mark.parametrize("language", LANGUAGES)
def test_language_has_exactly_the_keys_of_strings_json(language: str) -> None:
    """A key missing from a language shows up raw in the UI; an extra one is dead."""
    keys = set(_language(language))
    assert sorted(set(ENGLISH) - keys) == [], "missing"
    assert sorted(keys - set(ENGLISH)) == [], "not in strings.json"


@pytest.mark.parametrize("language", LANGUAGES)
def test_language_keeps_the_english_placeholders(language: str) -> None:
    """Same {placeholders} as English: none renamed, dropped or added, no stray brace."""
    for path, text in _language(language).items():
        english = ENGLISH[path]
        assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(english)), path
        assert not set(PLACEHOLDER.sub("", text)) & set("{}"), path
        # the frontend formats with ICU MessageFormat, where an apostrophe next to a brace
        # quotes it and the placeholder would be shown raw
        assert not re.search(r"'{|}'", text), path
        text.format(**dict.fromkeys(PLACEHOLDER.findall(english), "x"))


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_language_is_translated_but_keeps_names_verbatim(language: str) -> None:
    """Sentences are translated; product, protocol and literal names are not."""
    for path, text in _language(language).items():
        english = ENGLISH[path]
        if len(PLACEHOLDER.sub("", english).split()) > 3:
            assert text != english, path
        for name in VERBATIM:
            if name in english:
                assert name in text, (path, name)


@pytest.mark.parametrize(
    ("language", "public_ipv4"),
    [
        ("de", "Öffentliche IPv4-Adresse"),
        ("es", "Dirección IPv4 pública"),
        ("fr", "Adresse IPv4 publique"),
        ("it", "Indirizzo IPv4 pubblico"),
        ("nl", "Openbaar IPv4-adres"),
    ],
)
async def test_home_assistant_names_the_entities_in_its_language(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, language: str, public_ipv4: str
) -> None:
    """With the server language set, every entity is named from that language's file."""
    hass.config.language = language
    entry = mock_config_entry
    await setup_entry(hass, entry)

    names = _language(language)
    account = names["device", "account", "name"].format(account="example.com")
    expected = {
        f"{account} {names['entity', platform, key, 'name']}"
        for platform, key in [
            ("sensor", "public_ipv4"),
            ("sensor", "last_sync"),
            ("sensor", "token_expires"),
            ("binary_sensor", "dns_up_to_date"),
            ("button", "sync_now"),
        ]
    } | {
        f"home.example.com {names['entity', platform, key, 'name'].format(type='A')}"
        for platform, key in [
            ("sensor", "record_value"),
            ("binary_sensor", "drift"),
            ("button", "sync_now"),
        ]
    }
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    states = [hass.states.get(entity.entity_id) for entity in entities]
    shown = {state.attributes["friendly_name"] for state in states if state is not None}
    assert len(shown) == len(entities)
    assert shown == expected
    assert f"{account} {public_ipv4}" in shown


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
async def test_home_assistant_serves_every_string_in_the_language(
    hass: HomeAssistant, language: str
) -> None:
    """What the frontend asks Home Assistant for is this language's text, key for key."""
    served: dict[str, str] = {}
    for category in STRINGS:
        served |= await async_get_translations(hass, language, category, [DOMAIN])
    expected = {
        ".".join(("component", DOMAIN, *path)): text for path, text in _language(language).items()
    }
    assert served == expected
