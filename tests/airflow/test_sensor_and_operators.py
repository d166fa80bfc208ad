"""EvaluationExecutionSensor, StopEvaluationOperator and EvaluationResultsOperator against the emulator."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException, TaskDeferred

from airflow_provider_sm_eval.evaluation.constants import StepName
from airflow_provider_sm_eval.exceptions import EvaluationExecutionFailedException
from airflow_provider_sm_eval.hooks.evaluation import SageMakerEvaluationHook
from airflow_provider_sm_eval.operators.evaluation_results import EvaluationResultsOperator
from airflow_provider_sm_eval.operators.stop_evaluation import StopEvaluationOperator
from airflow_provider_sm_eval.sensors.evaluation_execution import EvaluationExecutionSensor
from sagemaker_eval_emulator import EvaluationEmulator
from tests.airflow.airflow_test_support import (
    CONN_ID,
    UNKNOWN_EXECUTION_ARN,
    RecordingTaskInstance,
    start_execution,
    task_context,
)

pytestmark = pytest.mark.timeout(120)


def start(kind: str = "benchmark", eval_type: str = "benchmark") -> str:
    return start_execution("sensor-test", "s", kind=kind, eval_type=eval_type)


def wait_terminal(arn: str) -> None:
    hook = SageMakerEvaluationHook(aws_conn_id=CONN_ID)
    execution = hook.get_execution(arn)
    hook.wait_for_execution(
        execution, success_statuses={"Succeeded", "Failed", "Stopped"}, poll_interval=0.05
    )  # type: ignore[arg-type]


def sensor(arn: str, **overrides: Any) -> EvaluationExecutionSensor:
    arguments: dict[str, Any] = {
        "task_id": "wait",
        "execution_arn": arn,
        "aws_conn_id": CONN_ID,
        "poke_interval": 0.05,
        "deferrable": False,
    }
    arguments.update(overrides)
    return EvaluationExecutionSensor(**arguments)


def test_poke_is_false_while_running_then_true(emulator: EvaluationEmulator) -> None:
    emulator.step_seconds = 2
    arn = start()
    ti = RecordingTaskInstance()

    assert sensor(arn).poke(task_context(ti)) is False
    emulator.step_seconds = 0.05
    wait_terminal(arn)
    assert sensor(arn).poke(task_context(ti)) is True
    assert {s["status"] for s in ti.xcom["steps"]} == {"Succeeded"}


def test_poke_fails_with_the_failed_step(emulator: EvaluationEmulator) -> None:
    emulator.faults.fail_step(StepName.EVALUATE_CUSTOM_MODEL.value, "no GPU left")
    arn = start()
    wait_terminal(arn)

    with pytest.raises(EvaluationExecutionFailedException, match="no GPU left"):
        sensor(arn).poke(task_context(RecordingTaskInstance()))
    assert sensor(arn, success_statuses=["Succeeded", "Failed"]).poke(task_context(RecordingTaskInstance()))


def test_deferrable_sensor_defers_then_completes(emulator: EvaluationEmulator) -> None:
    emulator.step_seconds = 30  # still running when the sensor looks, however loaded the machine
    arn = start()
    op = sensor(arn, deferrable=True, timeout=600)

    with pytest.raises(TaskDeferred) as deferred:
        op.execute(task_context(RecordingTaskInstance()))
    emulator.step_seconds = 0.05

    async def first_event() -> dict[str, Any]:
        async for event in deferred.value.trigger.run():
            return event.payload
        raise AssertionError("no event")

    ti = RecordingTaskInstance()
    op.execute_complete(task_context(ti), asyncio.run(first_event()))
    assert deferred.value.timeout is not None
    assert ti.xcom["steps"]


def test_deferrable_sensor_on_an_ended_execution_does_not_defer(emulator: EvaluationEmulator) -> None:
    arn = start()
    wait_terminal(arn)

    assert sensor(arn, deferrable=True).execute(task_context(RecordingTaskInstance())) is None


def test_sensor_rejects_a_bad_arn_before_any_call() -> None:
    with pytest.raises(AirflowFailException, match="execution_arn"):
        sensor("arn:aws:sagemaker:nope").poke(task_context(RecordingTaskInstance()))


def test_sensor_error_event_fails_with_its_message() -> None:
    event = {"status": "error", "execution_arn": UNKNOWN_EXECUTION_ARN, "message": "AccessDenied"}

    with pytest.raises(AirflowException, match="AccessDenied"):
        sensor(UNKNOWN_EXECUTION_ARN).execute_complete(task_context(RecordingTaskInstance()), event)


@pytest.mark.hostile("events")
@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({"status": "success", "execution_status": {"overall_status": "Succeeded"}}, "not the execution"),
        ({"status": "terminal", "execution_status": {"overall_status": "Succeeded"}}, "not one of"),
        ({"status": "success", "execution_status": {"overall_status": "Failed"}}, "contradicts"),
    ],
)
def test_sensor_refuses_an_event_that_is_not_one_of_its_wait(event: dict[str, Any], problem: str) -> None:
    ti = RecordingTaskInstance()
    if problem != "not the execution":
        event = {**event, "execution_arn": UNKNOWN_EXECUTION_ARN}

    with pytest.raises(AirflowException, match=problem):
        sensor(UNKNOWN_EXECUTION_ARN).execute_complete(task_context(ti), event)

    assert "steps" not in ti.xcom


def test_stop_operator_stops_and_waits(emulator: EvaluationEmulator) -> None:
    emulator.step_seconds = 3
    arn = start()
    op = StopEvaluationOperator(task_id="stop", execution_arn=arn, aws_conn_id=CONN_ID, poll_interval=0.05)

    result = op.execute(task_context(RecordingTaskInstance()))

    assert result["execution_arn"] == arn
    assert result["status"] == "Stopped"


def test_stop_operator_leaves_an_ended_execution_alone(emulator: EvaluationEmulator) -> None:
    arn = start()
    wait_terminal(arn)
    op = StopEvaluationOperator(task_id="stop", execution_arn=arn, aws_conn_id=CONN_ID)

    assert op.execute(task_context(RecordingTaskInstance()))["status"] == "Succeeded"


def test_stop_operator_rejects_a_bad_arn() -> None:
    op = StopEvaluationOperator(task_id="stop", execution_arn="not-an-arn", aws_conn_id=CONN_ID)
    with pytest.raises(AirflowFailException, match="execution_arn"):
        op.execute(task_context(RecordingTaskInstance()))


@pytest.mark.parametrize(
    ("kind", "eval_type"), [("custom_scorer", "customscorer"), ("llm_as_judge", "llmasjudge")]
)
def test_results_operator_returns_the_summary(
    emulator: EvaluationEmulator, kind: str, eval_type: str
) -> None:
    arn = start(kind, eval_type)
    wait_terminal(arn)
    ti = RecordingTaskInstance()
    op = EvaluationResultsOperator(task_id="results", execution_arn=arn, aws_conn_id=CONN_ID)

    summary = op.execute(task_context(ti))

    assert summary["execution_arn"] == arn
    assert summary["eval_type"] == eval_type
    assert set(summary["metrics"]) == {"custom", "base"}
    assert ti.xcom["evaluation_results_url"].startswith(
        "https://console.aws.amazon.com/s3/buckets/eval-results"
    )


def test_results_operator_refuses_an_unsucceeded_execution(emulator: EvaluationEmulator) -> None:
    emulator.faults.fail_step(StepName.EVALUATE_BASE_MODEL.value, "boom")
    arn = start()
    wait_terminal(arn)
    op = EvaluationResultsOperator(task_id="results", execution_arn=arn, aws_conn_id=CONN_ID)

    with pytest.raises(AirflowException, match="Failed"):
        op.execute(task_context(RecordingTaskInstance()))


def test_sensor_resumed_without_an_event_fails_clearly() -> None:
    with pytest.raises(AirflowException, match="without the trigger's event"):
        sensor(UNKNOWN_EXECUTION_ARN).execute_complete(task_context(RecordingTaskInstance()), None)


@pytest.mark.parametrize(
    ("build", "named"),
    [
        (lambda: sensor(UNKNOWN_EXECUTION_ARN, deferrable="yes"), "deferrable"),
        (lambda: sensor(UNKNOWN_EXECUTION_ARN, poke_interval=0), "poke_interval"),
        (lambda: StopEvaluationOperator(task_id="s", execution_arn="x", wait_for_stop=1), "wait_for_stop"),
        (
            lambda: StopEvaluationOperator(task_id="s", execution_arn="x", poll_interval=float("inf")),
            "poll_interval",
        ),
        (
            lambda: EvaluationResultsOperator(task_id="r", execution_arn="x", results_log_limit=-2),
            "results_log_limit",
        ),
    ],
)
def test_literal_arguments_are_checked_at_construction(build: Any, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        build()
