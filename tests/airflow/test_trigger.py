"""EvaluationExecutionTrigger: serialization, and runs against the emulator over aiobotocore."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from airflow_provider_sm_eval.evaluation.constants import ExecutionStatus, StepName
from airflow_provider_sm_eval.evaluation.wait_events import WaitEventStatus
from airflow_provider_sm_eval.hooks.evaluation import SageMakerEvaluationHook
from airflow_provider_sm_eval.triggerer.runtime import RUNTIME
from airflow_provider_sm_eval.triggers.evaluation_execution import EvaluationExecutionTrigger
from sagemaker_eval_emulator import EvaluationEmulator
from tests.airflow.airflow_test_support import (
    CONN_ID,
    UNKNOWN_EXECUTION_ARN,
    start_execution,
)

pytestmark = pytest.mark.timeout(60)

FAST = {"aws_conn_id": CONN_ID, "poll_interval": 0.02}


def start(kind: str = "benchmark", eval_type: str = "benchmark") -> str:
    return start_execution("trigger-test", "t", kind=kind, eval_type=eval_type)


async def run_to_event(trigger: EvaluationExecutionTrigger) -> dict[str, Any]:
    events = [event async for event in trigger.run()]
    assert len(events) == 1
    return events[0].payload


def test_serialize_round_trip_is_json_and_secret_free() -> None:
    trigger = EvaluationExecutionTrigger(
        UNKNOWN_EXECUTION_ARN,
        aws_conn_id="my_aws",
        region_name="eu-west-1",
        verify=False,
        botocore_config={"retries": {"mode": "standard"}},
        poll_interval=5,
        stop_on_kill=True,
        event_queue_url="https://sqs.eu-west-1.amazonaws.com/123456789012/sm-eval-events",
    )
    classpath, kwargs = trigger.serialize()
    text = json.dumps(kwargs)

    assert classpath == "airflow_provider_sm_eval.triggers.evaluation_execution.EvaluationExecutionTrigger"
    assert not {"aws_access_key_id", "aws_secret_access_key", "password", "login"} & set(kwargs)
    assert "testing" not in text
    rebuilt = EvaluationExecutionTrigger(**json.loads(text))
    assert rebuilt.serialize() == (classpath, kwargs)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"execution_arn": "arn:aws:sagemaker:oops"}, "execution_arn"),
        ({"execution_arn": UNKNOWN_EXECUTION_ARN, "poll_interval": 0}, "poll_interval"),
        ({"execution_arn": UNKNOWN_EXECUTION_ARN, "poll_interval": float("inf")}, "poll_interval"),
        ({"execution_arn": UNKNOWN_EXECUTION_ARN, "poll_interval": float("nan")}, "poll_interval"),
    ],
)
def test_bad_arguments_are_named(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EvaluationExecutionTrigger(**arguments)


@pytest.mark.parametrize(("kind", "eval_type"), [("benchmark", "benchmark"), ("llm_as_judge", "llmasjudge")])
async def test_succeeded_event_carries_every_step(
    emulator: EvaluationEmulator, kind: str, eval_type: str
) -> None:
    arn = start(kind, eval_type)

    payload = await run_to_event(EvaluationExecutionTrigger(arn, **FAST))

    assert payload["status"] == WaitEventStatus.SUCCESS.value == "success"
    assert payload["execution_arn"] == arn
    status = payload["execution_status"]
    assert status["overall_status"] == "Succeeded"
    assert len(status["step_details"]) >= 4
    assert all(step["status"] == "Succeeded" for step in status["step_details"])
    json.dumps(payload)


async def test_failed_execution_is_an_event_with_the_failed_step(emulator: EvaluationEmulator) -> None:
    emulator.faults.fail_step(StepName.EVALUATE_CUSTOM_MODEL.value, "AlgorithmError: out of memory")
    arn = start()

    payload = await run_to_event(EvaluationExecutionTrigger(arn, **FAST))

    assert payload["status"] == WaitEventStatus.ERROR.value == "error"
    status = payload["execution_status"]
    assert status["overall_status"] == ExecutionStatus.FAILED.value
    failed = [s for s in status["step_details"] if s["status"] == "Failed"]
    assert [s["name"] for s in failed] == [StepName.EVALUATE_CUSTOM_MODEL.value]
    assert failed[0]["failure_reason"] == "AlgorithmError: out of memory"
    assert ":training-job/" in failed[0]["job_arn"]


async def test_completed_with_failures_ends_the_wait(emulator: EvaluationEmulator) -> None:
    emulator.faults.fail_step(
        StepName.EVALUATE_BASE_MODEL.value, "base model crashed", continue_on_failure=True
    )
    arn = start()

    payload = await run_to_event(EvaluationExecutionTrigger(arn, **FAST))

    assert payload["status"] == "error"
    assert payload["execution_status"]["overall_status"] == ExecutionStatus.COMPLETED_WITH_FAILURES.value


async def test_stopped_execution_ends_the_wait(emulator: EvaluationEmulator) -> None:
    emulator.step_seconds = 3
    arn = start()
    SageMakerEvaluationHook(aws_conn_id=CONN_ID).stop_execution(arn)
    emulator.step_seconds = 0.02

    payload = await run_to_event(EvaluationExecutionTrigger(arn, **FAST))

    assert payload["status"] == "error"
    assert payload["execution_status"]["overall_status"] == "Stopped"


async def test_throttling_is_waited_out(
    emulator: EvaluationEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.step_seconds = 1.0  # long enough for several polls
    arn = start()
    for operation in ("ListPipelineExecutions", "DescribePipelineExecution", "ListPipelineExecutionSteps"):
        emulator.faults.throttle(share=0.5, operations=[operation])
    no_botocore_retries = {"retries": {"total_max_attempts": 1, "mode": "standard"}}

    payload = await run_to_event(EvaluationExecutionTrigger(arn, botocore_config=no_botocore_retries, **FAST))

    assert payload["status"] == "success"
    assert payload["execution_status"]["overall_status"] == "Succeeded"
    retried = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert retried
    assert all("ThrottlingException" in message for message in retried)


async def test_unknown_execution_is_an_error_event(emulator: EvaluationEmulator) -> None:
    payload = await run_to_event(EvaluationExecutionTrigger(UNKNOWN_EXECUTION_ARN, **FAST))

    assert payload["status"] == "error"
    assert "execution_status" not in payload
    assert payload["execution_arn"] == UNKNOWN_EXECUTION_ARN
    # The pipeline's shared watch finds the pipeline missing (ListPipelineExecutions).
    assert payload["message"].startswith("ResourceNotFound")
    assert "sagemakerevaluation-benchmarkevaluation-nothere" in payload["message"]
    assert "does not exist" in payload["message"]


async def test_missing_connection_is_an_error_event(
    emulator: EvaluationEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    # No connection and nothing in boto3's default chain either: no credentials, so no request is sent.
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    trigger = EvaluationExecutionTrigger(UNKNOWN_EXECUTION_ARN, **FAST, region_name="us-east-1", verify=None)
    trigger.aws_conn_id = "no_such_connection_and_no_credentials"

    payload = await run_to_event(trigger)

    assert payload["status"] == "error"
    assert payload["message"].startswith("NoCredentialsError"), payload["message"]


async def test_concurrent_triggers_share_one_client_and_close_it(emulator: EvaluationEmulator) -> None:
    arns = [start() for _ in range(3)]
    opened: list[Any] = []
    original = SageMakerEvaluationHook.get_async_conn

    async def counting_get_async_conn(self: SageMakerEvaluationHook) -> Any:
        opened.append(self)
        return await original(self)

    triggers = [EvaluationExecutionTrigger(arn, **FAST) for arn in arns]
    SageMakerEvaluationHook.get_async_conn = counting_get_async_conn  # type: ignore[method-assign]
    try:
        payloads = await asyncio.gather(*(run_to_event(t) for t in triggers))
    finally:
        SageMakerEvaluationHook.get_async_conn = original  # type: ignore[method-assign]

    assert [p["execution_status"]["overall_status"] for p in payloads] == ["Succeeded"] * 3
    assert len(opened) == 1
    assert len(RUNTIME.clients) == 0


async def test_on_kill_stops_a_running_execution(emulator: EvaluationEmulator) -> None:
    emulator.step_seconds = 30
    arn = start()
    trigger = EvaluationExecutionTrigger(arn, stop_on_kill=True, **FAST)

    await trigger.on_kill()

    status = SageMakerEvaluationHook(aws_conn_id=CONN_ID).get_execution(arn).status.overall_status
    assert status in {ExecutionStatus.STOPPING, ExecutionStatus.STOPPED}


async def test_on_kill_leaves_the_execution_without_the_flag(emulator: EvaluationEmulator) -> None:
    emulator.step_seconds = 30
    arn = start()

    await EvaluationExecutionTrigger(arn, stop_on_kill=False, **FAST).on_kill()

    status = SageMakerEvaluationHook(aws_conn_id=CONN_ID).get_execution(arn).status.overall_status
    assert status is ExecutionStatus.EXECUTING


async def test_rebuilt_after_a_triggerer_restart_it_carries_on(emulator: EvaluationEmulator) -> None:
    emulator.step_seconds = 0.5
    arn = start()
    first = EvaluationExecutionTrigger(arn, **FAST)
    _, kwargs = first.serialize()

    async def consume() -> None:
        async for _ in first.run():
            raise AssertionError("no event expected before the restart")

    task = asyncio.ensure_future(consume())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(RUNTIME.clients) == 0

    payload = await run_to_event(EvaluationExecutionTrigger(**json.loads(json.dumps(kwargs))))

    assert payload["execution_status"]["overall_status"] == "Succeeded"


async def test_step_table_is_logged_when_a_step_changes(
    emulator: EvaluationEmulator, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # Steps that last an hour hold the first table until the trigger has logged it; then a stop
    # changes the steps, however loaded the machine is.
    emulator.step_seconds = 3600
    arn = start()
    first = f"Evaluation execution {arn} is Executing"
    task = asyncio.create_task(run_to_event(EvaluationExecutionTrigger(arn, **FAST)))
    logged = ""
    while first not in logged + caplog.text:
        assert not task.done(), "the trigger ended before logging the running execution"
        await asyncio.sleep(0.02)
        logged += capsys.readouterr().out
    emulator.step_seconds = 0.05
    emulator.client("sagemaker").stop_pipeline_execution(PipelineExecutionArn=arn)

    await task

    logged += capsys.readouterr().out + caplog.text
    assert logged.count(f"Evaluation execution {arn} is") >= 2
    assert "CreateEvaluationAction" in logged  # the step table, with the step the stop ended
