"""version_compat.py: every Airflow name resolves, and the Airflow layer imports Airflow only through it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import airflow_provider_sm_eval
from airflow_provider_sm_eval import version_compat

PACKAGE = Path(airflow_provider_sm_eval.__file__).parent
AIRFLOW_LAYER = ("hooks", "operators", "sensors", "triggers", "links", "utils")
#: Optional OpenLineage support, imported lazily and only when that provider is installed.
OPTIONAL = ("airflow.providers.openlineage", "airflow.providers.common.compat.openlineage")


@pytest.mark.parametrize("name", version_compat.__all__)
def test_every_name_resolves(name: str) -> None:
    assert getattr(version_compat, name) is not None


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = version_compat.Nope  # type: ignore[attr-defined]


def test_task_deferral_timeout_is_the_one_a_timed_out_deferral_raises() -> None:
    from airflow.sdk.bases.operator import TRIGGER_FAIL_REPR, TriggerFailureReason

    operator = version_compat.BaseOperator(task_id="deferred")

    with pytest.raises(version_compat.TaskDeferralTimeout):
        operator.resume_execution(TRIGGER_FAIL_REPR, {"error": TriggerFailureReason.TRIGGER_TIMEOUT}, {})


def _airflow_imports(path: Path) -> list[str]:
    modules = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.append(node.module)
        elif isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
    return [m for m in modules if m == "airflow" or m.startswith("airflow.")]


def test_airflow_layer_imports_airflow_only_through_version_compat() -> None:
    direct = {
        f"{path.relative_to(PACKAGE)}: {module}"
        for folder in AIRFLOW_LAYER
        for path in (PACKAGE / folder).rglob("*.py")
        for module in _airflow_imports(path)
        if not module.startswith(OPTIONAL)
    }

    assert not direct, "import these through airflow_provider_sm_eval.version_compat"
