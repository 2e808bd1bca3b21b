"""The house rules a reader can check with one command (README, Development):

    .venv/bin/python scripts/check_architecture.py

- no import cycle in custom_components/esddns, TYPE_CHECKING imports included;
- no file of the Home Assistant layer (outside wan/ and gandi/) over 400 lines;
- the coordinators (coordinator.py, detection.py) import neither issues nor reporting nor the
  syncer, and fire no event;
- wan/ and gandi/ import nothing from homeassistant.

It prints what it measured, and exits 1 when a rule is broken.
"""

from __future__ import annotations

import ast
from pathlib import Path
import sys

PACKAGE = Path(__file__).resolve().parents[1] / "custom_components" / "esddns"
MAX_LINES = 400
LIBRARIES = ("wan", "gandi")
FETCH_ONLY = ("coordinator", "detection")
NOT_FROM_COORDINATORS = {"issues", "reporting", "syncer", "sharing"}


def module_name(path: Path) -> str:
    """``wan.stun`` for custom_components/esddns/wan/stun.py; ``wan`` for its __init__."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or "__init__"


def imports_of(path: Path) -> tuple[set[str], set[str]]:
    """The package's modules ``path`` imports (TYPE_CHECKING ones too), and the top-level
    names of everything else it imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    ours: set[str] = set()
    others: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            others.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if not node.level:
                others.add((node.module or "").split(".")[0])
                continue
            base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            stem = [*base, *(node.module.split(".") if node.module else [])]
            for alias in node.names:
                candidate = ".".join([*stem, alias.name])
                ours.add(candidate if _exists(candidate) else ".".join(stem) or "__init__")
    return ours, others


def _exists(module: str) -> bool:
    path = PACKAGE.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module, or a module importing itself
    (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def main() -> int:
    """Measure, print, and say whether every rule holds."""
    files = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
    graph: dict[str, set[str]] = {}
    broken: list[str] = []
    for path in files:
        ours, others = imports_of(path)
        name = module_name(path)
        # A package's __init__ is imported with its modules: edges into it stand for them.
        graph[name] = {module for module in ours if module != name}
        if name.split(".")[0] in LIBRARIES and "homeassistant" in others:
            broken.append(f"{name} imports homeassistant")
        if name in FETCH_ONLY:
            if bad := sorted(ours & NOT_FROM_COORDINATORS):
                broken.append(f"{name} imports {', '.join(bad)}")
            if "async_fire" in path.read_text(encoding="utf-8"):
                broken.append(f"{name} fires an event")
    found = cycles(graph)
    broken += [f"import cycle: {' -> '.join(cycle)}" for cycle in found]
    sizes = {
        str(path.relative_to(PACKAGE)): len(path.read_text(encoding="utf-8").splitlines())
        for path in files
        if path.relative_to(PACKAGE).parts[0] not in LIBRARIES
    }
    broken += [
        f"{name} has {lines} lines (over {MAX_LINES})"
        for name, lines in sizes.items()
        if lines > MAX_LINES
    ]
    largest = max(sizes.items(), key=lambda item: item[1])
    print(f"modules: {len(graph)}; import cycles: {len(found)} (TYPE_CHECKING imports included)")
    print(
        f"Home Assistant layer: {sum(sizes.values())} lines in {len(sizes)} files; "
        f"largest {largest[0]} ({largest[1]} lines, limit {MAX_LINES})"
    )
    for problem in broken:
        print(f"BROKEN: {problem}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
