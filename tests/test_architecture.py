"""The house rules a reader checks with one command (README, Development), in the suite."""

from __future__ import annotations

from pathlib import Path
import subprocess
import sys

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import check_architecture  # noqa: E402 - a script, found through its folder


def test_the_house_rules_hold() -> None:
    """No import cycle (TYPE_CHECKING imports included), no HA-layer file over 400 lines,
    fetch-only coordinators, wan/ and gandi/ free of Home Assistant."""
    run = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(ROOT / "scripts" / "check_architecture.py")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "import cycles: 0 (TYPE_CHECKING imports included)" in run.stdout


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"a"}}, [["a"]]),
        ({"a": {"b"}, "b": set(), "c": {"b"}}, []),
    ],
)
def test_cycles_are_found(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    """The checker's cycle finder, on graphs with and without a cycle."""
    assert check_architecture.cycles(graph) == expected


def test_a_type_checking_import_is_an_edge(tmp_path: Path) -> None:
    """An import under TYPE_CHECKING counts: 0.2.0 hid its coordinator/syncer cycle that way."""
    module = tmp_path / "x.py"
    module.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .syncer import S\n"
    )
    original = check_architecture.PACKAGE
    check_architecture.PACKAGE = tmp_path
    (tmp_path / "syncer.py").write_text("")
    try:
        ours, _ = check_architecture.imports_of(module)
    finally:
        check_architecture.PACKAGE = original
    assert ours == {"syncer"}
