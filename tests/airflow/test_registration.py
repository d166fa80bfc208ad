"""Provider registration and the import cost of the DAG-facing modules."""

from __future__ import annotations

import importlib
import subprocess
import sys

from airflow_provider_sm_eval.get_provider_info import get_provider_info


def test_provider_info_lists_importable_classes() -> None:
    info = get_provider_info()

    for section in ("hooks", "operators", "sensors", "triggers"):
        modules = [m for entry in info[section] for m in entry["python-modules"]]
        assert modules, section
        for module in modules:
            importlib.import_module(module)
    for class_path in info["extra-links"]:
        module, _, name = class_path.rpartition(".")
        assert hasattr(importlib.import_module(module), name)


def test_provider_info_does_not_take_over_the_aws_connection_type() -> None:
    assert all(entry["connection-type"] != "aws" for entry in get_provider_info().get("connection-types", []))


def test_dag_facing_modules_import_without_boto() -> None:
    """Every operator and sensor module a DAG file imports stays free of boto3 and aiobotocore, and
    loads no OpenLineage module beyond those Airflow itself loads (lineage is imported lazily)."""
    info = get_provider_info()
    modules = [m for section in ("operators", "sensors") for e in info[section] for m in e["python-modules"]]
    code = (
        "import importlib, sys\n"
        "import airflow.sdk\n"
        "before = set(sys.modules)\n"
        f"for module in {modules!r}: importlib.import_module(module)\n"
        "import airflow_provider_sm_eval.links.evaluation\n"
        "loaded = sorted(m for m in ('boto3', 'botocore', 'aiobotocore') if m in sys.modules)\n"
        "lineage = sorted(m for m in set(sys.modules) - before if 'openlineage' in m)\n"
        "print('LOADED=' + ','.join(loaded + lineage))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert "airflow_provider_sm_eval.operators.evaluation_gate" in modules
    assert result.stdout.strip().splitlines()[-1] == "LOADED="


def test_airflow_discovers_the_provider_and_its_links() -> None:
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    manager = ProvidersManager()

    assert "airflow-provider-sm-eval" in manager.providers
    assert {
        "airflow_provider_sm_eval.links.evaluation.EvaluationExecutionLink",
        "airflow_provider_sm_eval.links.evaluation.EvaluationResultsLink",
    } <= set(manager.extra_links_class_names)
    hooks = ProvidersManagerTaskRuntime().hooks  # where tasks resolve connection types
    assert hooks["aws"].package_name == "apache-airflow-providers-amazon"
