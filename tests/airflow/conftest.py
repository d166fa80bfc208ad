"""Fixtures of the Airflow layer tests: an isolated Airflow home, an ``aws`` connection to the emulator.

Airflow reads its configuration when first imported, so AIRFLOW_HOME points at a temporary
folder before anything imports it (unless another conftest did so already); the metadata
database (needed by ``dag.test()``) is migrated once per session, on first use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

#: DAG files run with ``dag.test()``, which needs them parsed from a DAG bundle.
DAGS_FOLDER = Path(__file__).resolve().parent / "dags"

if "airflow" not in sys.modules:  # else another conftest (tests/example_dags) configured Airflow
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="sm-eval-airflow-home-")
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"

from airflow_provider_sm_eval.emulator import EvaluationEmulator  # noqa: E402
from airflow_provider_sm_eval.emulator.server import ACCESS_KEY_ID, SECRET_ACCESS_KEY  # noqa: E402
from tests.airflow.airflow_test_support import BUCKET, CONN_ID  # noqa: E402


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Migrate the metadata database of the session's AIRFLOW_HOME once (about 10 s)."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )


@pytest.fixture
def test_dags_folder(airflow_db: None, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the DAG bundle that ``dag.test()`` parses at this folder's test DAGs."""
    from airflow import settings

    monkeypatch.setattr(settings, "DAGS_FOLDER", str(DAGS_FOLDER))
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS_FOLDER))
    return DAGS_FOLDER


@pytest.fixture
def emulator(
    sm_eval_emulator: EvaluationEmulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[EvaluationEmulator]:
    """A clean emulator, its results bucket, and the ``aws`` connection CONN_ID pointing at it.

    Ambient AWS variables are cleared so only the connection decides where calls go.
    """
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    connection = {
        "conn_type": "aws",
        "login": ACCESS_KEY_ID,
        "password": SECRET_ACCESS_KEY,
        "extra": {"endpoint_url": sm_eval_emulator.endpoint_url, "region_name": sm_eval_emulator.region},
    }
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(connection))
    sm_eval_emulator.client("s3").create_bucket(Bucket=BUCKET)
    yield sm_eval_emulator
