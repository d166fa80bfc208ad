"""A deferrable start, the deferrable sensor and the stop operator, in a real Airflow 3 deployment."""

from __future__ import annotations

import pytest

from devstack import AirflowStack
from tests.stack.conftest import SharedRun
from tests.stack.stack_support import execution_status, executions_of, run_to_end

pytestmark = pytest.mark.stack

TRIGGER_CLASSPATH = "airflow_provider_sm_eval.triggers.evaluation_execution.EvaluationExecutionTrigger"


def test_deferrable_start_defers_to_the_triggerer_and_returns_steps_and_metrics(
    airflow_stack: AirflowStack, shared_runs: dict[str, SharedRun]
) -> None:
    run = shared_runs["deferred"]
    assert run.deferred is not None
    assert run.deferred["trigger"]["classpath"] == TRIGGER_CLASSPATH
    assert run.deferred["trigger"]["id"] is not None

    run_to_end(airflow_stack, run.dag_id, run.run_id)
    value = airflow_stack.api.xcom(run.dag_id, run.run_id, "evaluate")
    (arn,) = executions_of(airflow_stack, run.dag_id, run.run_id)
    assert value["execution_arn"] == arn
    assert value["status"] == "Succeeded"
    assert {step["name"] for step in value["steps"]} >= {"EvaluateBaseModel", "EvaluateCustomModel"}
    metrics = value["results"]["metrics"]
    assert metrics, value["results"]


def test_deferrable_sensor_waits_for_the_execution(
    airflow_stack: AirflowStack, shared_runs: dict[str, SharedRun]
) -> None:
    run = shared_runs["sensor"]
    assert run.deferred is not None
    assert run.deferred["trigger"]["classpath"] == TRIGGER_CLASSPATH
    run_to_end(airflow_stack, run.dag_id, run.run_id)
    (arn,) = executions_of(airflow_stack, run.dag_id, run.run_id, "start")
    assert execution_status(airflow_stack, arn) == "Succeeded"


def test_stop_operator_stops_the_execution(
    airflow_stack: AirflowStack, long_step_runs: dict[str, SharedRun]
) -> None:
    run = long_step_runs["stop"]
    run_to_end(airflow_stack, run.dag_id, run.run_id)
    (arn,) = executions_of(airflow_stack, run.dag_id, run.run_id, "start")
    assert execution_status(airflow_stack, arn) == "Stopped"
    assert airflow_stack.api.xcom(run.dag_id, run.run_id, "stop")["status"] == "Stopped"
