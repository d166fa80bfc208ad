"""A permission AWS refuses is visible: a kill that cannot stop the execution fails loudly, naming
the execution and the IAM action; results that cannot be located name the refused action."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest

from airflow_provider_sm_eval.evaluation.constants import ExecutionStatus
from airflow_provider_sm_eval.hooks.evaluation import SageMakerEvaluationHook
from airflow_provider_sm_eval.operators.evaluation_gate import EvaluationGateOperator
from airflow_provider_sm_eval.operators.start_evaluation import StartEvaluationOperator
from airflow_provider_sm_eval.triggers.evaluation_execution import EvaluationExecutionTrigger
from airflow_provider_sm_eval.version_compat import AirflowException
from sagemaker_eval_emulator import EvaluationEmulator
from tests.airflow.airflow_test_support import (
    BUCKET,
    CONN_ID,
    ROLE_ARN,
    RecordingTaskInstance,
    definition_path,
    start_execution,
    task_context,
)

pytestmark = pytest.mark.timeout(60)

STOP = "sagemaker:StopPipelineExecution"


def deny(emulator: EvaluationEmulator, operation: str) -> None:
    emulator.faults.fail_call(operation, "AccessDeniedException", "not authorized", times=None)


def status_of(arn: str) -> ExecutionStatus:
    return SageMakerEvaluationHook(aws_conn_id=CONN_ID).get_execution(arn).status.overall_status


async def polling_started(emulator: EvaluationEmulator, task: asyncio.Task[None]) -> None:
    """Until the trigger's wait is under way (its client open, a first poll made) or it ended."""
    # The emulator's call log is a counter, not something to await.
    while not emulator.calls.count("sagemaker", "ListPipelineExecutions") and not task.done():  # noqa: ASYNC110
        await asyncio.sleep(0.02)


def logged(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> tuple[list[str], list[str]]:
    """(every line, the lines at ERROR) logged: stdlib records and what Airflow's structlog printed."""
    printed = capsys.readouterr().out.splitlines()
    records = caplog.records
    every = [record.getMessage() for record in records] + printed
    errors = [r.getMessage() for r in records if r.levelno >= logging.ERROR] + [
        line for line in printed if "[error" in line
    ]
    return every, errors


@pytest.mark.hostile("kill")
async def test_trigger_on_kill_that_cannot_stop_raises_and_logs_an_error_naming_the_action(
    emulator: EvaluationEmulator, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hostile tester: on AccessDenied the trigger's on_kill logged and returned; the execution ran on.

    Airflow 3.3's triggerer logs "on_kill() raised an exception" into the task's log for the raise.
    """
    emulator.step_seconds = 30
    arn = start_execution("kill-denied", "k")
    deny(emulator, "StopPipelineExecution")
    trigger = EvaluationExecutionTrigger(arn, aws_conn_id=CONN_ID, poll_interval=0.05, stop_on_kill=True)

    with caplog.at_level(logging.INFO), pytest.raises(Exception, match=STOP) as raised:
        await trigger.on_kill()

    assert arn in str(raised.value) and "keeps running" in str(raised.value)
    every, errors = logged(caplog, capsys)
    assert any(arn in line and STOP in line for line in errors), errors
    assert not any("Asked to stop" in line for line in every)
    assert status_of(arn) is ExecutionStatus.EXECUTING


@pytest.mark.hostile("kill")
async def test_a_killed_deferred_task_before_airflow_3_3_logs_the_failed_stop_and_stays_cancelled(
    emulator: EvaluationEmulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Before 3.3 the trigger stops the execution itself when cancelled: a refusal is an ERROR line
    naming the action, and the cancellation still ends the trigger."""
    from airflow_provider_sm_eval.utils import deferred_kill

    emulator.step_seconds = 30
    arn = start_execution("kill-denied-old", "k")
    deny(emulator, "StopPipelineExecution")
    monkeypatch.setattr(deferred_kill, "_task_state", lambda _ti: (True, "failed"))
    trigger = EvaluationExecutionTrigger(arn, aws_conn_id=CONN_ID, poll_interval=0.05, stop_on_kill=True)
    trigger.task_instance = SimpleNamespace(  # type: ignore[assignment]
        dag_id="d", task_id="evaluate", run_id="r", map_index=-1
    )

    async def consume() -> None:
        async for _ in trigger.run():
            pass

    running = asyncio.create_task(consume())
    await polling_started(emulator, running)
    with caplog.at_level(logging.INFO):
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running

    _, errors = logged(caplog, capsys)
    assert any(arn in line and STOP in line for line in errors), errors
    assert status_of(arn) is ExecutionStatus.EXECUTING


@pytest.mark.hostile("kill")
def test_operator_on_kill_that_cannot_stop_raises_naming_the_action(emulator: EvaluationEmulator) -> None:
    emulator.step_seconds = 30
    ti = RecordingTaskInstance()
    op = StartEvaluationOperator(
        task_id="evaluate",
        eval_type="benchmark",
        evaluation_name="nightly",
        pipeline_definition=definition_path("benchmark"),
        role_arn=ROLE_ARN,
        s3_output_path=f"s3://{BUCKET}/runs",
        aws_conn_id=CONN_ID,
        wait_for_completion=False,
        deferrable=False,
    )
    op.execute(task_context(ti))  # type: ignore[arg-type]
    arn = ti.xcom["execution_arn"]
    deny(emulator, "StopPipelineExecution")

    with pytest.raises(Exception, match=f"AccessDeniedException on {STOP} for {arn}: grant {STOP}"):
        op.on_kill()

    assert status_of(arn) is ExecutionStatus.EXECUTING


@pytest.mark.hostile("gate")
def test_results_that_cannot_be_located_name_the_refused_describe_training_job(
    emulator: EvaluationEmulator,
) -> None:
    """Hostile tester: AccessDenied on DescribeTrainingJob became "no known S3 output path"."""
    emulator.step_seconds = 0.05
    hook = SageMakerEvaluationHook(aws_conn_id=CONN_ID)
    arn = start_execution("results-denied", "r", hook=hook)
    hook.wait_for_execution(hook.get_execution(arn), poll_interval=0.05, timeout=30)
    deny(emulator, "DescribeTrainingJob")
    gate = EvaluationGateOperator(
        task_id="gate", execution_arn=arn, thresholds={"acc": 0}, aws_conn_id=CONN_ID
    )

    with pytest.raises(AirflowException) as raised:
        gate.execute(task_context(RecordingTaskInstance()))  # type: ignore[arg-type]

    action = "sagemaker:DescribeTrainingJob"
    assert f"AccessDeniedException on {action} for job " in str(raised.value)
    assert f"grant {action}" in str(raised.value)


@pytest.mark.hostile("kill")
async def test_airflow_3_3_triggerer_reports_the_failed_stop_of_a_user_kill(
    emulator: EvaluationEmulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The installed triggerer's own code (TriggerRunner.cancel_triggers / run_trigger) cancels the
    trigger as a user's kill does and calls on_kill: its failure reaches the task's log as the
    triggerer's "on_kill() raised an exception" with our error, not as a clean kill."""
    runner_module = pytest.importorskip("airflow.jobs.triggerer_job_runner")
    if not hasattr(runner_module, "_USER_ACTION_CANCEL_MSG"):
        pytest.skip("this Airflow does not call a trigger's on_kill (before 3.3)")
    monkeypatch.setenv("AIRFLOW_DISABLE_GREENBACK_PORTAL", "true")
    emulator.step_seconds = 30
    arn = start_execution("kill-denied-runner", "k")
    deny(emulator, "StopPipelineExecution")
    trigger = EvaluationExecutionTrigger(arn, aws_conn_id=CONN_ID, poll_interval=0.05, stop_on_kill=True)
    trigger.task_instance = None  # type: ignore[assignment]
    runner = runner_module.TriggerRunner()
    task = asyncio.create_task(runner.run_trigger(1, trigger))
    runner.triggers[1] = {"task": task, "name": "evaluate", "events": 0, "is_watcher": False}
    await polling_started(emulator, task)

    runner.to_cancel.append(1)
    await runner.cancel_triggers()
    with pytest.raises(asyncio.CancelledError):
        await task

    printed = capsys.readouterr().out
    assert "on_kill() raised an exception" in printed
    assert f"Could not stop evaluation execution {arn}; it keeps running" in printed
    assert STOP in printed
    assert status_of(arn) is ExecutionStatus.EXECUTING
