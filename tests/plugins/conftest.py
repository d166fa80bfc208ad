"""Fixtures of the UI plugin's API tests: example DAG runs against the emulator, and Airflow's api-server app.

The api-server app is Airflow's own (``create_app``), built in this process: it loads the
plugin from the installed ``airflow.plugins`` entry point and checks every request against the
auth manager (``DagScopedAuthManager``: the simple auth manager, with users limited to a DAG).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from example_dags.run_demo import put_example_data
from sagemaker_eval_emulator import EvaluationEmulator

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"
SCHEDULED_DAG = "example_sm_eval_scheduled_gate"
JUDGE_DAG = "example_sm_eval_llm_as_judge"
#: Runs of the scheduled DAG: nights in a row, each with its own evaluation.
SCHEDULED_NIGHTS = [datetime(2026, 11, day, 2, tzinfo=timezone.utc) for day in (25, 26)]


@dataclass
class UiRuns:
    """The runs the tests read, and a client of the api-server app."""

    emulator: EvaluationEmulator
    scheduled_runs: list[Any]
    judge_run: Any
    running_judge_run: Any
    client: Any

    def token(self, username: str, role: str | None = "viewer") -> dict[str, str]:
        """Authorization header of a user of the auth manager."""
        from airflow.api_fastapi.app import get_auth_manager
        from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

        jwt = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username=username, role=role))
        return {"Authorization": f"Bearer {jwt}"}


def load_example_dag(dag_id: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"_ui_example_{dag_id}", EXAMPLE_DAGS / f"{dag_id}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def forget_runs(*dag_ids: str) -> None:
    """Delete earlier runs of these DAGs (other test folders run them too) and the promoted baseline."""
    from airflow.models.dagrun import DagRun
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        session.execute(delete(DagRun).where(DagRun.dag_id.in_(dag_ids)))
    Variable.delete("sm_eval_promoted_summary")


@pytest.fixture(scope="module")
def ui_runs(
    airflow_db: None,
    sm_eval_emulator_session: EvaluationEmulator,
    emulator_connection: Callable[[pytest.MonkeyPatch, str, EvaluationEmulator], EvaluationEmulator],
) -> Iterator[UiRuns]:
    """Three nights of the scheduled gate DAG, a finished and a still running LLM-as-judge run, the app."""
    from airflow import settings
    from airflow.api_fastapi import app as api_app
    from fastapi.testclient import TestClient

    emulator = sm_eval_emulator_session
    emulator.reset()
    with pytest.MonkeyPatch.context() as monkeypatch:
        emulator_connection(monkeypatch, "aws_default", emulator)
        monkeypatch.setenv("SM_EVAL_POLL_SECONDS", "0.05")
        monkeypatch.setenv("AIRFLOW__CORE__AUTH_MANAGER", "dag_scoped_auth_manager.DagScopedAuthManager")
        # 64 bytes: the HS512 minimum (RFC 7518 3.2); a shorter key makes PyJWT warn on every token.
        monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "sm-eval-ui-tests-" + "k" * 47)
        monkeypatch.setattr(settings, "DAGS_FOLDER", str(EXAMPLE_DAGS))
        put_example_data(emulator.client("s3"))
        forget_runs(SCHEDULED_DAG, JUDGE_DAG)
        scheduled = load_example_dag(SCHEDULED_DAG)
        scheduled_runs = [scheduled.test(logical_date=night) for night in SCHEDULED_NIGHTS]
        judge_run = load_example_dag(JUDGE_DAG).test()
        # An execution still running when its page is read: only ``start`` runs, the steps take long.
        step_seconds, emulator.step_seconds = emulator.step_seconds, 60
        try:
            running_judge_run = (
                load_example_dag(JUDGE_DAG)
                .partial_subset(task_ids=["start"])
                .test(run_after=datetime.now(timezone.utc))
            )
            app = api_app.create_app(apps="core")
            with TestClient(app) as client:
                yield UiRuns(emulator, scheduled_runs, judge_run, running_judge_run, client)
        finally:
            emulator.step_seconds = step_seconds
            api_app.purge_cached_app()
