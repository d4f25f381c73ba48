"""The code's import structure (docs/architecture.md, "How the code is layered").

Imports run one way between the project's packages (a package imports only from the layers
below it) and no module of the project is part of an import circle. Read from the source
with :mod:`ast`: every ``import``/``from`` of a project module, also those inside functions
and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

#: Each package and the packages it may import from (besides itself).
LAYERS: dict[str, set[str]] = {
    "platform_contracts": set(),
    "platform_config": {"platform_contracts"},
    "pipeline_definitions": {"platform_config", "platform_contracts"},
    "aws_rules": {"platform_config", "platform_contracts"},
    "ml_constructs": {"pipeline_definitions", "platform_config", "platform_contracts"},
    "stacks": {"ml_constructs", "pipeline_definitions", "platform_config", "platform_contracts"},
    "scripts": {
        "aws_rules",
        "stacks",
        "ml_constructs",
        "pipeline_definitions",
        "platform_config",
        "platform_contracts",
    },
}
PACKAGES = set(LAYERS)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _project_imports(path: Path, modules: set[str]) -> set[str]:
    """The project modules ``path`` imports (``from a.b import c`` counts ``a.b.c`` when
    that is a module, else ``a.b``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in modules)
    return found


def _graph() -> dict[str, set[str]]:
    files = {
        _module_name(path): path
        for package in PACKAGES
        for path in (REPO / package).rglob("*.py")
        if "tests" not in path.relative_to(REPO).parts
    }
    modules = set(files)
    graph = {name: _project_imports(path, modules) for name, path in files.items()}
    # A package's __init__ is imported whenever one of its modules is: not an edge of its own.
    return {name: {t for t in targets if t != name} for name, targets in graph.items()}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def _is_package_init(module: str, target: str) -> bool:
    """``a.b`` importing its own package ``a`` (its ``__init__`` re-exports): not a circle."""
    return module.startswith(target + ".")


def test_no_module_is_part_of_an_import_circle() -> None:
    graph = {
        module: {t for t in targets if not _is_package_init(module, t)}
        for module, targets in _graph().items()
    }
    assert _circles(graph) == []


def test_packages_import_only_from_the_layers_below() -> None:
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if (source := module.split(".")[0]) != (destination := target.split(".")[0])
        and destination not in LAYERS[source]
    )
    assert upward == []


def test_the_checks_find_a_circle_and_an_upward_import() -> None:
    graph = {"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "a.w": {"a.x"}}
    assert _circles(graph) == [["a.x", "a.y", "a.z"]]
    assert "platform_config" not in LAYERS["platform_contracts"]
