"""Set-up shared by every test folder: an isolated Airflow home, its database, AWS connections.

Airflow reads its configuration when first imported, so AIRFLOW_HOME points at a temporary
folder here, before any test module imports Airflow.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="sm-eval-airflow-home-")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"

from sagemaker_eval_emulator import EvaluationEmulator
from sagemaker_eval_emulator.server import ACCESS_KEY_ID, SECRET_ACCESS_KEY
from tests.stack.stack_fixture import (
    STACK_GROUP,
    airflow_stack,  # noqa: F401  (the session's local Airflow stack)
    uses_stack,
)

# Each pytest process (each xdist worker) has its own home: gone when the process ends.
atexit.register(shutil.rmtree, os.environ["AIRFLOW_HOME"], ignore_errors=True)

#: AWS settings from the environment that would compete with a connection's.
AMBIENT_AWS_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's ``loadgroup`` reads the groups, and ``-m``
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Group and order the tests for ``pytest -n N --dist loadgroup`` (``make test``, ``make check``).

    The tests that use ``airflow_stack`` are one xdist group, on one worker, first (the longest
    group starts at once), those marked ``stack_audit`` last in it (they read what the others left);
    they must be marked ``stack``. Every other test goes to any worker, but for a module with
    module-scoped fixtures, which marks itself ``xdist_group``. The tests that use ``airflow_db``
    run whole DAGs and must be marked ``dag_run``. ``make check`` leaves both kinds out.
    """
    for item in items:
        if "airflow_db" in getattr(item, "fixturenames", ()) and item.get_closest_marker("dag_run") is None:
            raise pytest.UsageError(f"{item.nodeid} uses airflow_db: mark it `dag_run`")
        stack = uses_stack(item)
        if stack and item.get_closest_marker("stack") is None:
            raise pytest.UsageError(f"{item.nodeid} uses airflow_stack: mark it `stack`")
        if item.get_closest_marker("stack_audit") is not None and not stack:
            raise pytest.UsageError(f"{item.nodeid} is marked `stack_audit` but does not use airflow_stack")
        if stack:
            item.add_marker(pytest.mark.xdist_group(STACK_GROUP))
    items.sort(key=lambda item: (not uses_stack(item), item.get_closest_marker("stack_audit") is not None))


@pytest.fixture(scope="session")
def airflow_db(pytestconfig: pytest.Config) -> None:
    """The session's metadata database: a copy of one migrated once per set of Airflow distributions.

    ``airflow db migrate`` costs about 10 CPU-seconds; every xdist worker (and every later run with
    the same Airflow) copies the one migrated database of pytest's cache instead of migrating again.
    """
    database = Path(os.environ["AIRFLOW_HOME"]) / "airflow.db"
    if getattr(pytestconfig, "cache", None) is None:  # -p no:cacheprovider
        _migrate(database)
        return
    template = pytestconfig.cache.mkdir(f"airflow-db-{_airflow_distributions_key()}") / "airflow.db"
    with open(template.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one worker migrates, the others wait and copy
        if not template.exists():
            partial = template.with_suffix(".partial")
            partial.unlink(missing_ok=True)  # what a killed run left
            _migrate(partial)
            partial.replace(template)
    shutil.copyfile(template, database)


def _migrate(database: Path) -> None:
    """Create and migrate an Airflow metadata database (SQLite) at ``database``."""
    environment = {**os.environ, "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{database}"}
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True, env=environment
    )


def _airflow_distributions_key() -> str:
    """A digest of the installed ``apache-airflow*`` distributions and versions (their migrations)."""
    installed = sorted(
        f"{dist.metadata['Name']}=={dist.version}"
        for dist in importlib.metadata.distributions()
        if (dist.metadata["Name"] or "").lower().startswith("apache-airflow")
    )
    return hashlib.sha256("\n".join(installed).encode()).hexdigest()[:16]


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
