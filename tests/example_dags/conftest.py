"""Fixtures of the example DAG tests: an Airflow metadata database and the DAGs wired to the emulator.

Airflow reads its configuration when first imported, so a temporary AIRFLOW_HOME is set before
anything imports it, unless another conftest (``tests/airflow``) configured one already: then
that home is used. ``dag.test()`` needs a migrated database; it is migrated once per session.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

if "airflow" not in sys.modules:
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="sm-eval-example-dags-airflow-home-")
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"

from airflow_provider_sm_eval.emulator import EvaluationEmulator
from airflow_provider_sm_eval.emulator.server import ACCESS_KEY_ID, SECRET_ACCESS_KEY

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"
#: The bucket of the example DAGs' default ``s3_output_path``.
EXAMPLE_BUCKET = "sm-eval-example"


@pytest.fixture(scope="session")
def example_dags_airflow_db() -> None:
    """Migrate the metadata database of this session's AIRFLOW_HOME (about 10 s, once)."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )


@pytest.fixture
def example_dag_env(
    example_dags_airflow_db: None, sm_eval_emulator: EvaluationEmulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[EvaluationEmulator]:
    """The emulator with the examples' bucket, ``aws_default`` pointing at it, fast polling.

    ``dag.test()`` serializes the DAG from the DAG bundle first, so the bundle folder is
    pointed at ``example_dags/``. Ambient AWS variables are cleared: only the connection
    decides where calls go.
    """
    from airflow import settings

    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    connection = {
        "conn_type": "aws",
        "login": ACCESS_KEY_ID,
        "password": SECRET_ACCESS_KEY,
        "extra": {"endpoint_url": sm_eval_emulator.endpoint_url, "region_name": sm_eval_emulator.region},
    }
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(connection))
    monkeypatch.setenv("SM_EVAL_POLL_SECONDS", "0.05")
    monkeypatch.setattr(settings, "DAGS_FOLDER", str(EXAMPLE_DAGS))
    sm_eval_emulator.client("s3").create_bucket(Bucket=EXAMPLE_BUCKET)
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
