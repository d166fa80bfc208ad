"""Set-up shared by every test folder: an isolated Airflow home, its database, AWS connections.

Airflow reads its configuration when first imported, so AIRFLOW_HOME points at a temporary
folder here, before any test module imports Airflow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from typing import Any

import pytest

os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="sm-eval-airflow-home-")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"

from airflow_provider_sm_eval.emulator import EvaluationEmulator
from airflow_provider_sm_eval.emulator.server import ACCESS_KEY_ID, SECRET_ACCESS_KEY
from tests.stack.stack_fixture import airflow_stack  # noqa: F401  (the session's local Airflow stack)

#: AWS settings from the environment that would compete with a connection's.
AMBIENT_AWS_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


#: Where the tests of the session's Airflow stack live: ``make test`` runs them on one worker.
STACK_TESTS = ("tests/stack/", "tests/plugins/test_evaluation_ui_browser.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The stack's tests first (the longest group: its worker starts at once), each part in order.

    A test that asks for the stack outside ``STACK_TESTS`` would start a second stack on another
    worker: refused.
    """
    for item in items:
        if "airflow_stack" in getattr(item, "fixturenames", ()) and not item.nodeid.startswith(STACK_TESTS):
            raise pytest.UsageError(f"{item.nodeid} uses airflow_stack: put it under one of {STACK_TESTS}")
    items.sort(key=lambda item: not item.nodeid.startswith(STACK_TESTS))  # stable


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``pytest -n N`` (``make test``): every stack test on one worker, in order (one stack per
    session; the secret-key scan after the rest); every other module whole on one worker."""
    from xdist.scheduler import LoadScopeScheduling

    class StackOnOneWorker(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "airflow-stack" if nodeid.startswith(STACK_TESTS) else nodeid.partition("::")[0]

    return StackOnOneWorker(config, log)


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Migrate the metadata database of the session's AIRFLOW_HOME once (about 10 s)."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )


def point_connection_at(
    monkeypatch: pytest.MonkeyPatch, conn_id: str, emulator: EvaluationEmulator
) -> EvaluationEmulator:
    """Define an ``aws`` connection (by its id) pointing at ``emulator``; clear ambient AWS variables.

    Only the connection then decides where calls go.
    """
    for name in AMBIENT_AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    connection = {
        "conn_type": "aws",
        "login": ACCESS_KEY_ID,
        "password": SECRET_ACCESS_KEY,
        "extra": {"endpoint_url": emulator.endpoint_url, "region_name": emulator.region},
    }
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(connection))
    return emulator


@pytest.fixture(scope="session")
def emulator_connection() -> Callable[[pytest.MonkeyPatch, str, EvaluationEmulator], EvaluationEmulator]:
    """``point_connection_at``, for fixtures of any scope (they bring their own MonkeyPatch)."""
    return point_connection_at


@pytest.fixture
def connect_to_emulator(
    sm_eval_emulator: EvaluationEmulator, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], EvaluationEmulator]:
    """Define an ``aws`` connection (by its id) pointing at the test's emulator."""

    def connect(conn_id: str) -> EvaluationEmulator:
        return point_connection_at(monkeypatch, conn_id, sm_eval_emulator)

    return connect
