"""The lifecycle core's import graph: imports flow one way, at the top of each module."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "airflow_provider_sm_eval.evaluation"
ROOT = Path(__file__).parents[2] / "airflow_provider_sm_eval" / "evaluation"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join((PACKAGE, *parts[:-1])) if parts[-1] == "__init__" else ".".join((PACKAGE, *parts))


def is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def core_imports(tree: ast.Module) -> tuple[set[str], list[int]]:
    """Core modules imported at run time at module level, and the lines of function-local ones."""
    top: set[str] = set()
    local: list[int] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if is_type_checking_block(child):
                continue
            if isinstance(child, ast.ImportFrom) and (child.module or "").startswith(PACKAGE):
                if in_function:
                    local.append(child.lineno)
                else:
                    top.add(str(child.module))
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            visit(child, nested)

    visit(tree, False)
    return top, local


def test_core_modules_import_each_other_at_the_top_and_without_cycles() -> None:
    graph: dict[str, set[str]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        top, local = core_imports(ast.parse(path.read_text()))
        assert not local, f"{path.name} imports core modules inside functions (lines {local})"
        graph[module_name(path)] = {name for name in top if name != PACKAGE}
    assert graph.get(f"{PACKAGE}.execution"), "the façade imports the lifecycle and results at the top"

    visiting: list[str] = []
    done: set[str] = set()

    def walk(name: str) -> None:
        assert name not in visiting, "import cycle: " + " -> ".join([*visiting, name])
        if name in done:
            return
        visiting.append(name)
        for target in graph.get(name, ()):
            walk(target)
        visiting.pop()
        done.add(name)

    for name in graph:
        walk(name)
