"""What HACS and Home Assistant read before any of our code runs: manifest, hacs.json, brand."""

from __future__ import annotations

import ast
from importlib import metadata
import json
from pathlib import Path
import re
import sys
import tomllib
from typing import Any

import homeassistant
from homeassistant import const as ha_const
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from PIL import Image
import pytest

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "esddns"
BRAND = INTEGRATION / "brand"

# The oldest Home Assistant we support (see HA_COMPAT.md and requirements_test.txt).
HA_FLOOR = "2025.4.4"

MANIFEST_KEYS = {
    "after_dependencies",
    "domain",
    "name",
    "codeowners",
    "config_flow",
    "documentation",
    "integration_type",
    "iot_class",
    "issue_tracker",
    "loggers",
    "requirements",
    "version",
}
# The keys documented at https://hacs.xyz/docs/publish/start (section "hacs.json").
HACS_KEYS = {
    "name",
    "content_in_root",
    "zip_release",
    "filename",
    "render_readme",
    "hide_default_branch",
    "country",
    "homeassistant",
    "hacs",
    "persistent_directory",
}
# Semantic Versioning 2.0.0, the regular expression published at https://semver.org.
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
RELEASE_HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>\d{4}-\d{2}-\d{2}))?")


def _load_json(path: Path) -> dict[str, Any]:
    """Load a JSON object, refusing duplicate keys (json.loads would keep the last silently)."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        assert len(keys) == len(set(keys)), f"duplicate keys in {path.name}: {keys}"
        return dict(pairs)

    data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=no_duplicates)
    assert isinstance(data, dict)
    return data


@pytest.fixture(name="manifest")
def manifest_fixture() -> dict[str, Any]:
    return _load_json(INTEGRATION / "manifest.json")


@pytest.fixture(name="hacs")
def hacs_fixture() -> dict[str, Any]:
    return _load_json(ROOT / "hacs.json")


def _is_https_url(value: object) -> bool:
    return (
        isinstance(value, str)
        and re.fullmatch(r"https://[^\s/]+\.[^\s/]+(/\S*)?", value) is not None
    )


def test_manifest_keys_and_order(manifest: dict[str, Any]) -> None:
    keys = list(manifest)
    assert set(keys) == MANIFEST_KEYS
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:]), "after domain and name, keys go in alphabetical order"


def test_manifest_values(manifest: dict[str, Any]) -> None:
    assert manifest["domain"] == INTEGRATION.name == "esddns"
    assert manifest["name"] == "ESDDNS"
    assert manifest["codeowners"]
    assert all(re.fullmatch(r"@[\w.-]+(/[\w.-]+)?", owner) for owner in manifest["codeowners"])
    assert manifest["config_flow"] is True
    assert _is_https_url(manifest["documentation"]), manifest["documentation"]
    assert _is_https_url(manifest["issue_tracker"]), manifest["issue_tracker"]
    assert manifest["integration_type"] == "service"
    assert manifest["iot_class"] == "cloud_polling"
    assert manifest["loggers"]
    assert all(isinstance(logger, str) and logger for logger in manifest["loggers"])
    assert isinstance(manifest["requirements"], list)
    assert SEMVER.fullmatch(manifest["version"]), f"not a semantic version: {manifest['version']}"


def _home_assistant_pins() -> list[Requirement]:
    """What the installed Home Assistant itself requires: its Requires-Dist, and the first block
    of its package_constraints.txt.

    The blocks after the first only constrain packages that some integration might pull in
    (pandas, pubnub, ...); they are not installed with Home Assistant.
    """
    first_block: list[Requirement] = []
    text = (Path(homeassistant.__file__).parent / "package_constraints.txt").read_text("utf-8")
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            continue
        if not line:
            if first_block:
                break
            continue
        first_block.append(Requirement(line))
    own = [Requirement(line) for line in metadata.requires("homeassistant") or []]
    return [pin for pin in own + first_block if _applies(pin)]


def _applies(requirement: Requirement) -> bool:
    """Installed here: no extra asked for, and the markers hold for this Python."""
    return requirement.marker is None or requirement.marker.evaluate({"extra": ""})


def shipped_by_home_assistant() -> dict[str, str]:
    """Every distribution that installing Home Assistant brings, canonical name -> how.

    Its own requirements, and theirs in turn (found in the installed metadata): a package only
    brought by a dependency ("via aiodns") is installed all the same, for as long as that
    dependency needs it.
    """
    shipped = {canonicalize_name(pin.name): "Home Assistant" for pin in _home_assistant_pins()}
    todo = list(shipped)
    while todo:
        parent = todo.pop()
        try:
            lines = metadata.requires(parent) or []
        except metadata.PackageNotFoundError:
            continue  # pinned by Home Assistant, not installed with it (an integration's)
        for line in lines:
            requirement = Requirement(line)
            name = canonicalize_name(requirement.name)
            if name not in shipped and _applies(requirement):
                shipped[name] = f"via {parent}"
                todo.append(name)
    return shipped


def third_party_imports(package: Path) -> dict[str, set[str]]:
    """The top-level modules `package`'s modules import, anywhere in them (functions and
    TYPE_CHECKING blocks too), that are neither the standard library, Home Assistant, nor the
    package itself -> the files importing each."""
    own = {"custom_components", package.name, "homeassistant"}
    found: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue  # relative imports are the package's own
            for module in modules:
                top = module.partition(".")[0]
                if top not in own and top not in sys.stdlib_module_names:
                    found.setdefault(top, set()).add(path.relative_to(package).as_posix())
    return found


def unshipped_imports(package: Path, shipped: dict[str, str]) -> dict[str, str]:
    """Each third-party module `package` imports that Home Assistant does not install -> why."""
    providers = metadata.packages_distributions()
    problems: dict[str, str] = {}
    for module, files in sorted(third_party_imports(package).items()):
        distributions = {canonicalize_name(name) for name in providers.get(module, ())}
        where = ", ".join(sorted(files))
        if not distributions:
            problems[module] = f"imported by {where}: no installed distribution provides it"
        elif not distributions & shipped.keys():
            problems[module] = (
                f"imported by {where}: {', '.join(sorted(distributions))} is not installed with "
                f"Home Assistant {ha_const.__version__}; it would need a manifest requirement"
            )
    return problems


def test_requirements_are_shipped_by_home_assistant(manifest: dict[str, Any]) -> None:
    """What the code imports is what the installed Home Assistant installs (on the floor and on
    the newest release alike), so manifest.json needs no requirements; any it lists must be
    ones Home Assistant ships, at a version it allows."""
    shipped = shipped_by_home_assistant()
    imports = third_party_imports(INTEGRATION)
    # wan/ and gandi/ are built on aiohttp: not finding it means the code or metadata was misread.
    assert "aiohttp" in imports
    assert shipped.get("aiohttp") == "Home Assistant"
    assert unshipped_imports(INTEGRATION, shipped) == {}

    pins: dict[str, list[str]] = {}
    for pin in _home_assistant_pins():
        exact = [spec.version for spec in pin.specifier if spec.operator == "=="]
        pins.setdefault(canonicalize_name(pin.name), []).extend(exact)
    installed = ha_const.__version__
    for line in manifest["requirements"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in shipped, f"{line}: Home Assistant {installed} does not ship {name}"
        for version in pins.get(name, []):
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{line}: Home Assistant {installed} ships {name}=={version}"
            )


def test_an_import_home_assistant_does_not_ship_is_caught(tmp_path: Path) -> None:
    """The check above fails for a module importing an unknown package, or one that is
    installed here (pytest) but not with Home Assistant; the rest passes."""
    package = tmp_path / "custom_components" / "demo"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text(
        "from __future__ import annotations\n"
        "import os.path\n"
        "import aiohttp\n"
        "import voluptuous as vol\n"
        "from homeassistant.core import HomeAssistant\n"
        "from custom_components.demo import sub\n"
        "from . import sub as same\n"
    )
    (package / "sub" / "__init__.py").write_text(
        "def later():\n    import numpylike_unknown.linalg\n    from pytest import fixture\n"
    )
    problems = unshipped_imports(package, shipped_by_home_assistant())
    assert set(problems) == {"numpylike_unknown", "pytest"}
    assert problems["numpylike_unknown"] == (
        "imported by sub/__init__.py: no installed distribution provides it"
    )
    assert "pytest is not installed with Home Assistant" in problems["pytest"]


def test_hacs_json(hacs: dict[str, Any], manifest: dict[str, Any]) -> None:
    assert set(hacs) <= HACS_KEYS, f"undocumented keys: {set(hacs) - HACS_KEYS}"
    assert hacs["name"] == manifest["name"]
    assert hacs["homeassistant"] == HA_FLOOR
    assert hacs.get("render_readme") is True
    # The integration ships as the repository's files, not as a zipped release asset.
    assert "zip_release" not in hacs
    assert "content_in_root" not in hacs


def _newest_release() -> tuple[str, str | None]:
    for line in (ROOT / "CHANGELOG.md").read_text("utf-8").splitlines():
        heading = RELEASE_HEADING.match(line)
        if heading and heading["version"] != "Unreleased":
            return heading["version"], heading["date"]
    pytest.fail("CHANGELOG.md has no released version")


def test_version_matches_changelog_and_pyproject(manifest: dict[str, Any]) -> None:
    version, date = _newest_release()
    assert date is not None, f"CHANGELOG.md: release {version} has no date"
    assert manifest["version"] == version
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert pyproject["project"]["version"] == version


# Home Assistant (2026.3+) reads these names from brand/; sizes follow its brand guidelines.
BRAND_NAMES = {
    f"{dark}{kind}{hidpi}.png"
    for dark in ("", "dark_")
    for kind in ("icon", "logo")
    for hidpi in ("", "@2x")
}
BRAND_REQUIRED = {"icon.png", "icon@2x.png", "logo.png"}
BRAND_PRESENT = {path.name for path in BRAND.glob("*")} if BRAND.is_dir() else set()


def test_brand_has_no_stray_files() -> None:
    strays = BRAND_PRESENT - BRAND_NAMES
    assert not strays, f"Home Assistant does not read {strays}"


@pytest.mark.parametrize("name", sorted(BRAND_REQUIRED | (BRAND_PRESENT & BRAND_NAMES)))
def test_brand_image(name: str) -> None:
    path = BRAND / name
    assert path.is_file(), f"missing {name}; run scripts/make-brand"
    scale = 2 if "@2x" in name else 1
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.mode == "RGBA"
        width, height = image.size
        alpha_low, _ = image.getchannel("A").getextrema()
    assert alpha_low == 0, "the background must be transparent"
    if "icon" in name:
        assert (width, height) == (256 * scale, 256 * scale)
    else:
        assert width >= height
        assert 128 * scale <= height <= 256 * scale
    if name.startswith("dark_"):
        with Image.open(BRAND / name.removeprefix("dark_")) as light:
            assert light.size == (width, height), "a dark variant has the size of its light one"
