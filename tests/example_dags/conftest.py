"""Fixtures of the example DAG tests: the DAGs wired to the emulator.

The Airflow home and its database come from ``tests/conftest.py``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from example_dags.run_demo import put_example_data
from sagemaker_eval_emulator import EvaluationEmulator

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"


@pytest.fixture
def example_dag_env(
    airflow_db: None,
    connect_to_emulator: Callable[[str], EvaluationEmulator],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[EvaluationEmulator]:
    """The emulator with the examples' bucket and prompts, ``aws_default`` pointing at it, fast polling.

    ``dag.test()`` serializes the DAG from the DAG bundle first, so the bundle folder is
    pointed at ``example_dags/``.
    """
    from airflow import settings

    sm_eval_emulator = connect_to_emulator("aws_default")
    monkeypatch.setenv("SM_EVAL_POLL_SECONDS", "0.05")
    monkeypatch.setattr(settings, "DAGS_FOLDER", str(EXAMPLE_DAGS))
    put_example_data(sm_eval_emulator.client("s3"))
    yield sm_eval_emulator


@pytest.fixture
def load_example_dag(example_dag_env: EvaluationEmulator) -> Callable[[str], Any]:
    """Import an example DAG file afresh (so that a test may change its tasks) and return its DAG."""

    def load(dag_id: str) -> Any:
        path = EXAMPLE_DAGS / f"{dag_id}.py"
        spec = importlib.util.spec_from_file_location(f"_example_{dag_id}", path)
        assert spec is not None and spec.loader is not None
        module: ModuleType = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.dag

    return load
