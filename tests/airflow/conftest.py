"""Fixtures of the Airflow layer tests: test DAGs, an ``aws`` connection to the emulator.

The Airflow home and its database come from ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sagemaker_eval_emulator import EvaluationEmulator
from tests.airflow.airflow_test_support import BUCKET, CONN_ID

#: DAG files run with ``dag.test()``, which needs them parsed from a DAG bundle.
DAGS_FOLDER = Path(__file__).resolve().parent / "dags"


@pytest.fixture
def test_dags_folder(airflow_db: None, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the DAG bundle that ``dag.test()`` parses at this folder's test DAGs."""
    from airflow import settings

    monkeypatch.setattr(settings, "DAGS_FOLDER", str(DAGS_FOLDER))
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS_FOLDER))
    return DAGS_FOLDER


@pytest.fixture
def emulator(connect_to_emulator: Callable[[str], EvaluationEmulator]) -> Iterator[EvaluationEmulator]:
    """A clean emulator, its results bucket, and the ``aws`` connection CONN_ID pointing at it."""
    emulator = connect_to_emulator(CONN_ID)
    emulator.client("s3").create_bucket(Bucket=BUCKET)
    yield emulator
