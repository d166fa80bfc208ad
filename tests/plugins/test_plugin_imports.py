"""The UI plugin's modules import one another in one direction (no cycle, not even a lazy one)."""

from __future__ import annotations

import ast
from pathlib import Path

from airflow_provider_sm_eval import plugins

PACKAGE = plugins.__name__
FOLDER = Path(plugins.__file__).parent


def plugin_imports(path: Path) -> set[str]:
    """The plugin modules ``path`` imports, at its top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    modules = {f"{PACKAGE}.{p.stem}" for p in FOLDER.glob("*.py")}
    return {name for name in names if name in modules} - {f"{PACKAGE}.{path.stem}"}


def test_the_plugin_modules_import_one_another_without_a_cycle() -> None:
    graph = {f"{PACKAGE}.{path.stem}": plugin_imports(path) for path in FOLDER.glob("*.py")}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module not in done:
            for imported in graph[module]:
                visit(imported, (*path, module))
            done.add(module)

    for module in graph:
        visit(module, ())
