"""A deferrable start, the deferrable sensor and the stop operator, in a real Airflow 3 deployment."""

from __future__ import annotations

import pytest

from devstack import AirflowStack
from tests.stack.stack_support import (
    emulator_step_seconds,
    execution_status,
    executions_of,
    run_to_end,
    trigger_named,
    unique_name,
    wait_for_deferred,
)

pytestmark = pytest.mark.stack

TRIGGER_CLASSPATH = "airflow_provider_sm_eval.triggers.evaluation_execution.EvaluationExecutionTrigger"


def test_deferrable_start_defers_to_the_triggerer_and_returns_steps_and_metrics(
    airflow_stack: AirflowStack,
) -> None:
    name = unique_name("deferred")
    run_id = trigger_named(airflow_stack, "stack_deferred", name)
    deferred = wait_for_deferred(airflow_stack, "stack_deferred", run_id)
    assert deferred["trigger"]["classpath"] == TRIGGER_CLASSPATH
    assert deferred["trigger"]["id"] is not None

    run_to_end(airflow_stack, "stack_deferred", run_id)
    value = airflow_stack.api.xcom("stack_deferred", run_id, "evaluate")
    (arn,) = executions_of(airflow_stack, "stack_deferred", run_id)
    assert value["execution_arn"] == arn
    assert value["status"] == "Succeeded"
    assert {step["name"] for step in value["steps"]} >= {"EvaluateBaseModel", "EvaluateCustomModel"}
    metrics = value["results"]["metrics"]
    assert metrics, value["results"]


def test_deferrable_sensor_waits_for_the_execution(airflow_stack: AirflowStack) -> None:
    name = unique_name("sensor")
    run_id = trigger_named(airflow_stack, "stack_sensor", name)
    deferred = wait_for_deferred(airflow_stack, "stack_sensor", run_id, "wait")
    assert deferred["trigger"]["classpath"] == TRIGGER_CLASSPATH
    run_to_end(airflow_stack, "stack_sensor", run_id)
    (arn,) = executions_of(airflow_stack, "stack_sensor", run_id, "start")
    assert execution_status(airflow_stack, arn) == "Succeeded"


def test_stop_operator_stops_the_execution(airflow_stack: AirflowStack) -> None:
    name = unique_name("stop")
    with emulator_step_seconds(airflow_stack, 30):
        run_id = trigger_named(airflow_stack, "stack_stop", name)
        run_to_end(airflow_stack, "stack_stop", run_id)
    (arn,) = executions_of(airflow_stack, "stack_stop", run_id, "start")
    assert execution_status(airflow_stack, arn) == "Stopped"
    assert airflow_stack.api.xcom("stack_stop", run_id, "stop")["status"] == "Stopped"
