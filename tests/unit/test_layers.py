"""Layers that import one way (breakwater/layers.py): no import of a higher layer, no import cycle, every module
placed. The imports are read from the source (ast), lazy imports inside functions and TYPE_CHECKING blocks too."""

from __future__ import annotations

import ast
from pathlib import Path

from breakwater.layers import LAYERS, layer_of
from breakwater.template import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "breakwater"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported(module: str, path: Path) -> set[str]:
    """The package's modules that ``module`` imports (a name imported from a package counts as its module when it is
    one, else as the package)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in MODULES:  # breakwater.local.stack.EmbeddedStack -> breakwater.local.stack
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


GRAPH = {module: imported(module, path) for module, path in MODULES.items()}


def test_every_module_has_a_layer():
    assert [module for module in MODULES if layer_of(module) is None] == []


def test_no_module_imports_a_higher_layer():
    upward = [
        f"{module} ({LAYERS[layer_of(module) or 0][0]}) imports {target} ({LAYERS[layer_of(target) or 0][0]})"
        for module, targets in GRAPH.items()
        for target in sorted(targets)
        if (layer_of(target) or 0) > (layer_of(module) or 0)
    ]
    assert upward == []


def in_cli(module: str) -> bool:
    return module == "breakwater.cli" or module.startswith("breakwater.cli.")


def test_only_the_entry_point_imports_the_cli():
    importers = sorted(m for m, targets in GRAPH.items() if not in_cli(m) and any(in_cli(t) for t in targets))
    assert importers == ["breakwater.docgen", "breakwater.entry"]  # docgen: the parser, for the command table


def cycle() -> list[str]:
    """One import cycle (its modules, the first repeated at the end), or [] when there is none."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(module: str) -> list[str]:
        state[module] = 1
        path.append(module)
        for target in sorted(GRAPH[module]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[module] = 2
        return []

    for module in sorted(GRAPH):
        if module not in state and (found := visit(module)):
            return found
    return []


def test_there_is_no_import_cycle():
    assert cycle() == []


def test_the_checks_see_a_cycle_and_an_upward_import():
    """The checks can fail: a made-up cycle is found, and the local stack ranks above the domain."""
    GRAPH["breakwater.errors"].add("breakwater.template")
    try:
        assert cycle() == ["breakwater.errors", "breakwater.template", "breakwater.errors"]
    finally:
        GRAPH["breakwater.errors"].discard("breakwater.template")
    assert (layer_of("breakwater.local.stack") or 0) > (layer_of("breakwater.executions") or 0)
    assert layer_of("breakwater.cli.parser") == layer_of("breakwater.cli")
