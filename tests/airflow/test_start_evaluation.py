"""StartEvaluationOperator against the emulator: validation, waits, failures, reattach, kill, timeout.

The task instance and ``task_state_store`` are test doubles (airflow_test_support); the
end-to-end runs through Airflow itself are in test_dags.py.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.bases.operator import TRIGGER_FAIL_REPR, TriggerFailureReason
from airflow.sdk.exceptions import AirflowException, AirflowFailException, TaskDeferralTimeout, TaskDeferred

from airflow_provider_sm_eval.evaluation.constants import EvalType, ExecutionStatus, StepName
from airflow_provider_sm_eval.evaluation.request import StartRequest
from airflow_provider_sm_eval.exceptions import EvaluationExecutionFailedException
from airflow_provider_sm_eval.hooks.evaluation import SageMakerEvaluationHook
from airflow_provider_sm_eval.operators.start_evaluation import _ARGUMENT_OF_FIELD, StartEvaluationOperator
from airflow_provider_sm_eval.triggers.evaluation_execution import EvaluationExecutionTrigger
from airflow_provider_sm_eval.utils.reattach import Attachment, TaskInstanceIdentity, decide_attachment
from sagemaker_eval_emulator import EvaluationEmulator
from tests.airflow.airflow_test_support import (
    BUCKET,
    CONN_ID,
    ROLE_ARN,
    UNKNOWN_EXECUTION_ARN,
    DictTaskStateStore,
    RecordingTaskInstance,
    definition_path,
    task_context,
)

pytestmark = pytest.mark.timeout(120)
_task_ids = iter(range(1_000_000))


def operator(**overrides: Any) -> StartEvaluationOperator:
    arguments: dict[str, Any] = {
        "task_id": f"start_evaluation_{next(_task_ids)}",
        "eval_type": "benchmark",
        "evaluation_name": "nightly",
        "pipeline_definition": definition_path("benchmark"),
        "role_arn": ROLE_ARN,
        "s3_output_path": f"s3://{BUCKET}/runs",
        "aws_conn_id": CONN_ID,
        "poll_interval": 0.05,
        "deferrable": False,
    }
    arguments.update(overrides)
    return StartEvaluationOperator(**arguments)


def executions(emulator: EvaluationEmulator) -> list[str]:
    hook = SageMakerEvaluationHook(aws_conn_id=CONN_ID)
    return [execution.arn for execution in hook.list_executions()]


def first_event(trigger: EvaluationExecutionTrigger) -> dict[str, Any]:
    """The trigger's event, from a trigger rebuilt from its serialized kwargs as the triggerer would."""
    _, kwargs = trigger.serialize()
    rebuilt = EvaluationExecutionTrigger(**json.loads(json.dumps(kwargs)))

    async def run() -> dict[str, Any]:
        async for event in rebuilt.run():
            return event.payload
        raise AssertionError("the trigger yielded no event")

    return asyncio.run(run())


def run_deferred(
    op: StartEvaluationOperator,
    context: dict[str, Any],
    before_event: Callable[[TaskDeferred], None] = lambda _: None,
) -> dict[str, Any]:
    """execute -> TaskDeferred -> the trigger's event -> execute_complete (which may defer again)."""
    deferred_calls = 0
    try:
        return op.execute(context)
    except TaskDeferred as first:
        deferred: TaskDeferred | None = first
    while deferred is not None and deferred_calls < 3:
        deferred_calls += 1
        assert deferred.method_name == "execute_complete"
        assert isinstance(deferred.trigger, EvaluationExecutionTrigger)
        json.dumps(deferred.kwargs)
        before_event(deferred)
        event = first_event(deferred.trigger)
        try:
            return op.execute_complete(context, event, **(deferred.kwargs or {}))
        except TaskDeferred as again:
            deferred = again
    raise AssertionError("deferred more than three times")


# Bad input ---------------------------------------------------------------------------------------


@pytest.fixture
def unreachable_connection(monkeypatch: pytest.MonkeyPatch) -> str:
    """An ``aws`` connection to a closed port: any AWS call would fail with a connection error."""
    connection = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing",
        "extra": {"endpoint_url": "http://127.0.0.1:9", "region_name": "us-east-1"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_UNREACHABLE", json.dumps(connection))
    return "unreachable"


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"pipeline_definition": "/nonexistent/definition.json"}, "pipeline_definition"),
        ({"pipeline_definition": "{not json"}, "pipeline_definition"),
        ({"pipeline_definition": {"Version": "2020-12-01", "Steps": []}}, "pipeline_definition"),
        ({"role_arn": "arn:aws:iam::123:user/bob"}, "role_arn"),
        ({"role_arn": "arn:aws-cn:iam::123456789012:role/R"}, "role_arn .* partition 'aws-cn'.* 'us-east-1'"),
        ({"region_name": "cn-north-1"}, "role_arn .* region 'cn-north-1' is in partition 'aws-cn'"),
        ({"region_name": "us-gov-west-1"}, "role_arn .* region 'us-gov-west-1' is in partition 'aws-us-gov'"),
        ({"s3_output_path": "https://bucket/prefix"}, "s3_output_path"),
        ({"eval_type": "vibes"}, "eval_type"),
        ({"evaluation_name": ""}, "evaluation_name"),
    ],
)
def test_bad_input_fails_before_any_aws_call(
    unreachable_connection: str, overrides: dict[str, Any], named: str
) -> None:
    op = operator(aws_conn_id=unreachable_connection, **overrides)

    with pytest.raises(AirflowFailException, match=named):
        op.execute(task_context(RecordingTaskInstance()))


def test_bad_input_is_reported_first_without_any_region(monkeypatch: pytest.MonkeyPatch) -> None:
    """The role's partition needs the region; without one, the other inputs are still checked first."""
    connection = {"conn_type": "aws", "login": "testing", "password": "testing", "extra": {}}
    monkeypatch.setenv("AIRFLOW_CONN_NO_REGION", json.dumps(connection))
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    op = operator(aws_conn_id="no_region", evaluation_name="not a valid name!")

    with pytest.raises(AirflowFailException, match="evaluation_name"):
        op.execute(task_context(RecordingTaskInstance()))


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"on_failed_execution": "shrug"}, "on_failed_execution"),
        ({"success_statuses": ["Executing"]}, "success_statuses"),
        ({"success_statuses": []}, "success_statuses"),
        ({"poll_interval": 0}, "poll_interval"),
    ],
)
def test_bad_arguments_fail_at_construction(overrides: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        operator(**overrides)


def test_template_fields_cover_every_start_input() -> None:
    """Every operator argument that becomes a StartRequest field is templated (a new one too)."""
    arguments = set(inspect.signature(StartEvaluationOperator.__init__).parameters)
    start_inputs = {_ARGUMENT_OF_FIELD.get(field, field) for field in StartRequest.model_fields} & arguments
    assert {"eval_type", "evaluation_name", "pipeline_definition", "role_arn"} <= start_inputs
    assert start_inputs - set(StartEvaluationOperator.template_fields) == set()


# Waiting, both modes ------------------------------------------------------------------------------


@pytest.mark.parametrize("deferrable", [False, True])
def test_success_pushes_arn_links_steps_and_results(emulator: EvaluationEmulator, deferrable: bool) -> None:
    ti = RecordingTaskInstance()
    op = operator(deferrable=deferrable, studio_domain_id="d-abc123")
    context = task_context(ti)

    summary = run_deferred(op, context) if deferrable else op.execute(context)

    arn = ti.xcom["execution_arn"]
    assert summary["execution_arn"] == arn
    assert summary["eval_type"] == "benchmark"
    assert summary["status"] == "Succeeded"
    assert summary["failure_reason"] is None
    assert summary["steps"] == ti.xcom["steps"]
    assert {s["name"] for s in summary["steps"]} >= {"EvaluateBaseModel", "EvaluateCustomModel"}
    assert summary["results"] == ti.xcom["results"]
    assert set(summary["results"]["metrics"]) == {"custom", "base"}
    assert summary["results"]["deltas"]
    assert ti.xcom["evaluation_execution_url"].startswith(
        "https://studio-d-abc123.studio.us-east-1.sagemaker.aws/"
    )
    assert "pipeline_name=SagemakerEvaluation-BenchmarkEvaluation" in ti.xcom["evaluation_execution_url"]
    assert ti.xcom["evaluation_results_url"].startswith(
        "https://console.aws.amazon.com/s3/buckets/eval-results?"
    )
    assert len(json.dumps(summary)) < 20_000


@pytest.mark.parametrize("form", ["dict", "json string", "file path"])
def test_definition_as_dict_json_string_or_file(emulator: EvaluationEmulator, form: str) -> None:
    path = definition_path("custom_scorer")
    text = Path(path).read_text()
    definition = {"dict": json.loads(text), "json string": text, "file path": path}[form]

    summary = operator(
        eval_type="customscorer", pipeline_definition=definition, wait_for_completion=False
    ).execute(task_context(RecordingTaskInstance()))

    assert "customscorerevaluation" in summary["execution_arn"]


def test_without_waiting_returns_right_after_the_start(emulator: EvaluationEmulator) -> None:
    emulator.step_seconds = 5
    ti = RecordingTaskInstance()

    summary = operator(wait_for_completion=False).execute(task_context(ti))

    assert summary["status"] == "Executing"
    assert summary["results"] is None
    assert ti.xcom["execution_arn"] == summary["execution_arn"]


def test_deferral_pushes_the_arn_before_waiting(emulator: EvaluationEmulator) -> None:
    emulator.step_seconds = 5
    ti = RecordingTaskInstance()
    queue = "https://sqs.us-east-1.amazonaws.com/123456789012/sm-eval-events"
    op = operator(deferrable=True, poll_interval=7, event_queue_url=queue)

    with pytest.raises(TaskDeferred) as deferred:
        op.execute(task_context(ti))

    assert ti.xcom["execution_arn"]
    assert ti.xcom["evaluation_execution_url"]
    _, kwargs = deferred.value.trigger.serialize()
    assert kwargs["execution_arn"] == ti.xcom["execution_arn"]
    assert (kwargs["poll_interval"], kwargs["aws_conn_id"]) == (7, CONN_ID)
    assert not {"max_poll_interval", "backoff_factor"} & set(kwargs)
    assert kwargs["event_queue_url"] == queue
    assert kwargs["stop_on_kill"] is True
    assert "testing" not in json.dumps(kwargs)


@pytest.mark.parametrize("deferrable", [False, True])
def test_failed_execution_names_step_reason_job_and_logs(
    emulator: EvaluationEmulator, deferrable: bool
) -> None:
    emulator.faults.fail_step(StepName.EVALUATE_CUSTOM_MODEL.value, "AlgorithmError: CUDA out of memory")
    ti = RecordingTaskInstance()
    op = operator(deferrable=deferrable)

    with pytest.raises(EvaluationExecutionFailedException) as raised:
        run_deferred(op, task_context(ti)) if deferrable else op.execute(task_context(ti))

    message = str(raised.value)
    assert "Failed" in message
    assert "EvaluateCustomModel" in message
    assert "AlgorithmError: CUDA out of memory" in message
    assert ":training-job/" in message
    assert "/aws/sagemaker/TrainingJobs;prefix=pipelines-" in message
    failed = [s for s in ti.xcom["steps"] if s["status"] == "Failed"]
    assert [s["name"] for s in failed] == ["EvaluateCustomModel"]


@pytest.mark.parametrize("deferrable", [False, True])
def test_completed_with_failures_fails_by_default(emulator: EvaluationEmulator, deferrable: bool) -> None:
    emulator.faults.fail_step(StepName.EVALUATE_BASE_MODEL.value, "base crashed", continue_on_failure=True)
    op = operator(deferrable=deferrable)
    context = task_context(RecordingTaskInstance())

    with pytest.raises(EvaluationExecutionFailedException, match="CompletedWithFailures"):
        run_deferred(op, context) if deferrable else op.execute(context)


@pytest.mark.parametrize("deferrable", [False, True])
def test_success_statuses_apply_the_same_in_both_modes(
    emulator: EvaluationEmulator, deferrable: bool
) -> None:
    emulator.faults.fail_step(StepName.EVALUATE_BASE_MODEL.value, "base crashed", continue_on_failure=True)
    op = operator(deferrable=deferrable, success_statuses=["Succeeded", "CompletedWithFailures"])
    context = task_context(RecordingTaskInstance())

    summary = run_deferred(op, context) if deferrable else op.execute(context)

    assert summary["status"] == "CompletedWithFailures"
    assert summary["results"] is None


def test_stopped_execution_fails_the_deferred_task(emulator: EvaluationEmulator) -> None:
    emulator.step_seconds = 3
    ti = RecordingTaskInstance()
    op = operator(deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(task_context(ti))
    SageMakerEvaluationHook(aws_conn_id=CONN_ID).stop_execution(ti.xcom["execution_arn"])

    async def first_event() -> dict[str, Any]:
        async for event in deferred.value.trigger.run():
            return event.payload
        raise AssertionError("no event")

    with pytest.raises(EvaluationExecutionFailedException, match="Stopped"):
        op.execute_complete(task_context(ti), asyncio.run(first_event()), **deferred.value.kwargs)


def test_error_event_fails_with_its_message() -> None:
    op = operator()
    event = {"status": "error", "execution_arn": UNKNOWN_EXECUTION_ARN, "message": "AccessDenied: no"}

    with pytest.raises(AirflowException, match="AccessDenied: no"):
        op.execute_complete(task_context(RecordingTaskInstance()), event, execution_arn=UNKNOWN_EXECUTION_ARN)


def test_resumed_without_knowing_the_deferred_execution_fails_clearly() -> None:
    event = {"status": "error", "execution_arn": UNKNOWN_EXECUTION_ARN, "message": "AccessDenied: no"}

    with pytest.raises(AirflowException, match="without the ARN of the execution this task deferred on"):
        operator().execute_complete(task_context(RecordingTaskInstance()), event)


@pytest.mark.hostile("events")
def test_an_event_of_another_execution_fails_naming_both(emulator: EvaluationEmulator) -> None:
    ti = RecordingTaskInstance()
    op = operator(deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(task_context(ti))
    event = {**first_event(deferred.value.trigger), "execution_arn": UNKNOWN_EXECUTION_ARN}

    with pytest.raises(AirflowException, match="is not the execution waited on") as failed:
        op.execute_complete(task_context(ti), event, **deferred.value.kwargs)

    assert UNKNOWN_EXECUTION_ARN in str(failed.value)
    assert ti.xcom["execution_arn"] in str(failed.value)
    assert "results" not in ti.xcom


@pytest.mark.hostile("events")
def test_an_event_of_the_old_terminal_vocabulary_fails_and_the_retry_reattaches(
    emulator: EvaluationEmulator,
) -> None:
    """No release sent ``terminal``: such an event fails the try by name, and the next try
    reattaches to the execution, which ran on, instead of starting another."""
    first = RecordingTaskInstance(try_number=1)
    op = operator(deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(task_context(first))
    event = {**first_event(deferred.value.trigger), "status": "terminal"}

    with pytest.raises(AirflowException, match="status 'terminal' is not one of: success, error"):
        op.execute_complete(task_context(first), event, **deferred.value.kwargs)
    summary = operator().execute(task_context(RecordingTaskInstance(try_number=2)))

    assert summary["execution_arn"] == first.xcom["execution_arn"]
    assert summary["status"] == "Succeeded"
    assert len(executions(emulator)) == 1


# Reattach -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_store", [True, False])
def test_retried_try_reattaches_to_the_running_execution(
    emulator: EvaluationEmulator, with_store: bool
) -> None:
    emulator.step_seconds = 0.3
    store = DictTaskStateStore() if with_store else None
    first = RecordingTaskInstance(try_number=1)
    operator(wait_for_completion=False).execute(task_context(first, store))
    started = first.xcom["execution_arn"]

    second = RecordingTaskInstance(try_number=2)
    summary = operator().execute(task_context(second, store))

    assert summary["execution_arn"] == started
    assert summary["status"] == "Succeeded"
    assert executions(emulator) == [started]


def test_reattach_reuses_a_succeeded_execution(emulator: EvaluationEmulator) -> None:
    first = RecordingTaskInstance(try_number=1)
    operator().execute(task_context(first))

    summary = operator().execute(task_context(RecordingTaskInstance(try_number=2)))

    assert summary["execution_arn"] == first.xcom["execution_arn"]
    assert len(executions(emulator)) == 1


def test_search_for_an_earlier_execution_is_bounded_by_the_run(emulator: EvaluationEmulator) -> None:
    now = datetime.now(timezone.utc)
    first = RecordingTaskInstance(try_number=1)
    operator().execute(task_context(first, run_after=now))

    in_window = operator().execute(task_context(RecordingTaskInstance(try_number=2), run_after=now))
    much_later = operator().execute(
        task_context(RecordingTaskInstance(try_number=3), run_after=now + timedelta(hours=2))
    )

    assert in_window["execution_arn"] == first.xcom["execution_arn"]
    assert much_later["execution_arn"] != first.xcom["execution_arn"]


def test_other_task_instances_do_not_reattach(emulator: EvaluationEmulator) -> None:
    operator().execute(task_context(RecordingTaskInstance(map_index=0)))
    operator().execute(task_context(RecordingTaskInstance(map_index=1)))
    operator().execute(task_context(RecordingTaskInstance(run_id="manual__2")))

    assert len(executions(emulator)) == 3


def test_first_tries_search_for_no_earlier_execution(emulator: EvaluationEmulator) -> None:
    """A mapped task's first tries: each listed every execution started since the run was due
    (10 per page), so N starts made O(N^2) calls."""
    for map_index in range(3):
        operator(wait_for_completion=False).execute(task_context(RecordingTaskInstance(map_index=map_index)))

    assert emulator.calls.count("sagemaker", "ListPipelineExecutions") == 0
    assert len(executions(emulator)) == 3


def test_a_first_try_run_twice_starts_one_execution(emulator: EvaluationEmulator) -> None:
    """A task message delivered twice: the second run of the try sends the same token and gets
    the execution the first run started."""
    emulator.step_seconds = 0.3
    first_run = RecordingTaskInstance(try_number=1)
    operator(wait_for_completion=False).execute(task_context(first_run))

    summary = operator().execute(task_context(RecordingTaskInstance(try_number=1)))

    assert summary["execution_arn"] == first_run.xcom["execution_arn"]
    assert summary["status"] == "Succeeded"
    assert len(executions(emulator)) == 1


def test_a_retry_finds_its_execution_among_a_mapped_runs_in_one_listing(emulator: EvaluationEmulator) -> None:
    """The search asks SageMaker for the run's window only, in pages of 100 (the API's default is 10)."""
    now = datetime.now(timezone.utc)
    tries = [RecordingTaskInstance(map_index=index) for index in range(12)]
    for ti in tries:
        operator(wait_for_completion=False).execute(task_context(ti, run_after=now))
    emulator.calls.reset()

    found = operator(wait_for_completion=False).execute(
        task_context(RecordingTaskInstance(try_number=2, map_index=0), run_after=now)
    )

    assert found["execution_arn"] == tries[0].xcom["execution_arn"]
    assert emulator.calls.count("sagemaker", "ListPipelineExecutions") == 1


def _failed_first_try(emulator: EvaluationEmulator, store: DictTaskStateStore | None) -> str:
    emulator.faults.fail_step(StepName.EVALUATE_CUSTOM_MODEL.value, "transient", times=1)
    first = RecordingTaskInstance(try_number=1)
    with pytest.raises(EvaluationExecutionFailedException):
        operator().execute(task_context(first, store))
    return str(first.xcom["execution_arn"])


def test_failed_execution_restarts_by_default(emulator: EvaluationEmulator) -> None:
    failed = _failed_first_try(emulator, None)

    summary = operator().execute(task_context(RecordingTaskInstance(try_number=2)))

    assert summary["execution_arn"] != failed
    assert summary["status"] == "Succeeded"
    assert len(executions(emulator)) == 2


@pytest.mark.parametrize("with_store", [True, False])
def test_failed_execution_resumes_with_retry(emulator: EvaluationEmulator, with_store: bool) -> None:
    store = DictTaskStateStore() if with_store else None
    failed = _failed_first_try(emulator, store)

    summary = operator(on_failed_execution="retry").execute(
        task_context(RecordingTaskInstance(try_number=2), store)
    )

    assert summary["execution_arn"] == failed
    assert summary["status"] == "Succeeded"
    assert executions(emulator) == [failed]


def test_failed_execution_fails_the_try_with_fail(emulator: EvaluationEmulator) -> None:
    failed = _failed_first_try(emulator, None)

    with pytest.raises(AirflowFailException, match=failed):
        operator(on_failed_execution="fail").execute(task_context(RecordingTaskInstance(try_number=2)))


@pytest.mark.parametrize(
    ("earlier", "success_statuses", "on_failed_execution", "decision"),
    [
        (None, {"Succeeded"}, "restart", Attachment.START),
        ("Executing", {"Succeeded"}, "fail", Attachment.REATTACH),
        ("Succeeded", {"Succeeded"}, "fail", Attachment.REATTACH),
        ("Failed", {"Succeeded", "Failed"}, "fail", Attachment.REATTACH),
        ("Failed", {"Succeeded"}, "restart", Attachment.RESTART),
        ("Stopped", {"Succeeded"}, "restart", Attachment.RESTART),
        ("Failed", {"Succeeded"}, "retry", Attachment.RETRY),
        ("Stopped", {"Succeeded"}, "retry", Attachment.RETRY),
        ("CompletedWithFailures", {"Succeeded"}, "retry", Attachment.RESTART),
        ("CompletedWithFailures", {"Succeeded"}, "fail", Attachment.FAIL),
        ("Stopped", {"Succeeded"}, "fail", Attachment.FAIL),
    ],
)
def test_the_reattach_or_replace_decision(
    earlier: str | None, success_statuses: set[str], on_failed_execution: Any, decision: Attachment
) -> None:
    assert (
        decide_attachment(
            None if earlier is None else ExecutionStatus(earlier),
            success_statuses={ExecutionStatus(status) for status in success_statuses},
            on_failed_execution=on_failed_execution,
        )
        is decision
    )


def test_an_earlier_execution_that_failed_is_reused_when_failed_counts_as_success(
    emulator: EvaluationEmulator,
) -> None:
    emulator.faults.fail_step(StepName.EVALUATE_CUSTOM_MODEL.value, "broken")
    accepting = {"success_statuses": ["Succeeded", "Failed"], "on_failed_execution": "fail"}
    first = RecordingTaskInstance(try_number=1)
    operator(**accepting).execute(task_context(first))

    summary = operator(**accepting).execute(task_context(RecordingTaskInstance(try_number=2)))

    assert summary["execution_arn"] == first.xcom["execution_arn"]
    assert summary["status"] == "Failed"
    assert len(executions(emulator)) == 1


def test_retry_restarts_an_execution_that_completed_with_failures(emulator: EvaluationEmulator) -> None:
    """RetryPipelineExecution does not resume a CompletedWithFailures execution: a new one is started."""
    emulator.faults.fail_step(
        StepName.EVALUATE_BASE_MODEL.value, "base crashed", continue_on_failure=True, times=1
    )
    first = RecordingTaskInstance(try_number=1)
    with pytest.raises(EvaluationExecutionFailedException, match="CompletedWithFailures"):
        operator(on_failed_execution="retry").execute(task_context(first))

    summary = operator(on_failed_execution="retry").execute(task_context(RecordingTaskInstance(try_number=2)))

    assert summary["execution_arn"] != first.xcom["execution_arn"]
    assert summary["status"] == "Succeeded"
    assert emulator.calls.count("sagemaker", "RetryPipelineExecution") == 0
    assert len(executions(emulator)) == 2


def test_identity_is_the_same_for_every_try_and_differs_per_task_instance() -> None:
    def identity(**kwargs: Any) -> TaskInstanceIdentity:
        return TaskInstanceIdentity.from_context(task_context(RecordingTaskInstance(**kwargs)))

    assert identity(try_number=1) == identity(try_number=3)
    assert identity().key != identity(map_index=2).key
    assert identity().key != identity(run_id="other").key
    token = identity().client_request_token("start", 12)
    assert 32 <= len(token) <= 128


# Kill and timeout ---------------------------------------------------------------------------------


def kill_while_blocking(
    op: StartEvaluationOperator, ti: RecordingTaskInstance
) -> BaseException | dict[str, Any]:
    """Run ``op`` blocking in a thread, kill it once its execution exists; what ``execute`` ended with."""
    outcome: list[BaseException | dict[str, Any]] = []

    def run() -> None:
        try:
            outcome.append(op.execute(task_context(ti)))
        except BaseException as error:
            outcome.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    while "execution_arn" not in ti.xcom and worker.is_alive():
        worker.join(0.02)
    op.on_kill()
    worker.join(60)
    return outcome[0]


def test_kill_while_blocking_stops_the_execution(emulator: EvaluationEmulator) -> None:
    emulator.step_seconds = 3
    ti = RecordingTaskInstance()

    outcome = kill_while_blocking(operator(), ti)

    hook = SageMakerEvaluationHook(aws_conn_id=CONN_ID)
    assert hook.get_execution(ti.xcom["execution_arn"]).status.overall_status in {
        ExecutionStatus.STOPPING,
        ExecutionStatus.STOPPED,
    }
    assert isinstance(outcome, EvaluationExecutionFailedException)
    assert "Stopped" in str(outcome)


def test_kill_leaves_the_execution_without_stop_on_kill(emulator: EvaluationEmulator) -> None:
    emulator.step_seconds = 3
    ti = RecordingTaskInstance()
    op = operator(wait_for_completion=False, stop_on_kill=False)
    op.execute(task_context(ti))

    op.on_kill()

    status = SageMakerEvaluationHook(aws_conn_id=CONN_ID).get_execution(ti.xcom["execution_arn"]).status
    assert status.overall_status is ExecutionStatus.EXECUTING


def test_timeout_while_deferred_stops_the_execution(emulator: EvaluationEmulator) -> None:
    emulator.step_seconds = 3
    ti = RecordingTaskInstance()
    op = operator(deferrable=True)
    with pytest.raises(TaskDeferred):
        op.execute(task_context(ti))

    with pytest.raises(TaskDeferralTimeout):
        op.resume_execution(
            TRIGGER_FAIL_REPR, {"error": TriggerFailureReason.TRIGGER_TIMEOUT}, task_context(ti)
        )

    status = SageMakerEvaluationHook(aws_conn_id=CONN_ID).get_execution(ti.xcom["execution_arn"]).status
    assert status.overall_status in {ExecutionStatus.STOPPING, ExecutionStatus.STOPPED}


def test_llm_as_judge_results_carry_win_rates(emulator: EvaluationEmulator) -> None:
    op = operator(eval_type=EvalType.LLM_AS_JUDGE, pipeline_definition=definition_path("llm_as_judge"))

    summary = op.execute(task_context(RecordingTaskInstance()))

    assert summary["eval_type"] == "llmasjudge"
    assert summary["results"]["win_rates"]["pairs"] > 0


# Refused input creates nothing --------------------------------------------------------------------

#: Calls that create or change something in SageMaker.
WRITES = ("CreatePipeline", "UpdatePipeline", "StartPipelineExecution", "RetryPipelineExecution")


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"evaluation_name": "not a valid name!"}, "evaluation_name"),
        ({"role_arn": "arn:aws:iam::123:user/bob"}, "role_arn"),
        ({"role_arn": "arn:aws-cn:iam::123456789012:role/R"}, "role_arn"),
        ({"s3_output_path": "https://bucket/prefix"}, "s3_output_path"),
        ({"pipeline_definition": "{not json"}, "pipeline_definition"),
        ({"pipeline_parameters": {"NotDeclared": "x"}}, "pipeline_parameters"),
    ],
)
def test_refused_input_creates_nothing_in_aws(
    emulator: EvaluationEmulator, overrides: dict[str, Any], named: str
) -> None:
    with pytest.raises(AirflowFailException, match=named):
        operator(**overrides).execute(task_context(RecordingTaskInstance()))

    assert {op: emulator.calls.count("sagemaker", op) for op in WRITES} == dict.fromkeys(WRITES, 0)


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"poll_interval": float("inf")}, "poll_interval"),
        ({"poll_interval": float("nan")}, "poll_interval"),
        ({"results_log_limit": -1}, "results_log_limit"),
        ({"stop_on_kill": "yes"}, "stop_on_kill"),
    ],
)
def test_more_bad_arguments_fail_at_construction(overrides: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        operator(**overrides)


def test_execute_complete_without_an_event_fails_clearly() -> None:
    with pytest.raises(AirflowException, match="without the trigger's event"):
        operator().execute_complete(
            task_context(RecordingTaskInstance()), None, execution_arn=UNKNOWN_EXECUTION_ARN
        )


# Deferred resume uses the event ---------------------------------------------------------------------


def test_deferred_resume_takes_the_status_from_the_event(emulator: EvaluationEmulator) -> None:
    ti = RecordingTaskInstance()
    op = operator(deferrable=True, read_results=False)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(task_context(ti))
    event = first_event(deferred.value.trigger)
    describes = emulator.calls.count("sagemaker", "DescribePipelineExecution")

    summary = op.execute_complete(task_context(ti), event, **(deferred.value.kwargs or {}))

    assert summary["status"] == "Succeeded"
    assert emulator.calls.count("sagemaker", "DescribePipelineExecution") == describes
    assert "pipelines/SagemakerEvaluation-BenchmarkEvaluation-" in summary["console_url"]


def test_a_resume_reads_results_without_building_a_sagemaker_client(emulator: EvaluationEmulator) -> None:
    """The resume runs in a new task process: the event and the defer kwargs tell it the status, the
    steps and the output path, so it builds the S3 client of the results and no SageMaker client
    (each costs the process a service model's parse)."""
    ti = RecordingTaskInstance()
    with pytest.raises(TaskDeferred) as deferred:
        operator(deferrable=True).execute(task_context(ti))
    event = first_event(deferred.value.trigger)
    resumed = operator(deferrable=True)  # as in the resume's own process

    summary = resumed.execute_complete(task_context(ti), event, **(deferred.value.kwargs or {}))

    assert summary["results"] is not None
    assert "s3_client" in vars(resumed.hook)
    assert "conn" not in vars(resumed.hook)  # AwsBaseHook's cached SageMaker client


# Throttling -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("deferrable", [False, True])
def test_throttled_calls_are_retried_and_the_task_succeeds(
    emulator: EvaluationEmulator, deferrable: bool
) -> None:
    emulator.faults.throttle(share=0.5)
    op = operator(deferrable=deferrable)
    context = task_context(RecordingTaskInstance())

    summary = run_deferred(op, context) if deferrable else op.execute(context)

    assert summary["status"] == "Succeeded"
    assert summary["results"]["metrics"]
    assert emulator.calls.count("sagemaker", "StartPipelineExecution") >= 1
    emulator.faults.clear()
    assert len(executions(emulator)) == 1


@pytest.mark.parametrize("deferrable", [False, True])
def test_a_burst_of_heavy_throttling_is_ridden_out(emulator: EvaluationEmulator, deferrable: bool) -> None:
    """Nine calls in ten throttled for 4 s: the retry policy's backoff outlasts the burst."""
    emulator.faults.throttle(share=0.9)
    burst = threading.Timer(4, emulator.faults.clear)
    burst.start()
    op = operator(deferrable=deferrable)
    context = task_context(RecordingTaskInstance())
    try:
        summary = run_deferred(op, context) if deferrable else op.execute(context)
    finally:
        burst.join()

    assert summary["status"] == "Succeeded"
    assert len(executions(emulator)) == 1


# Clearing a deferred task ---------------------------------------------------------------------------


def _killed_first_try(emulator: EvaluationEmulator, store: DictTaskStateStore | None) -> str:
    """Try 1 starts an execution and defers on it (steps of 60 s: it runs until the test speeds it up)."""
    emulator.step_seconds = 60
    first = RecordingTaskInstance(try_number=1)
    with pytest.raises(TaskDeferred):
        operator(deferrable=True).execute(task_context(first, store))
    return str(first.xcom["execution_arn"])


def _stop(arn: str) -> None:
    SageMakerEvaluationHook(aws_conn_id=CONN_ID).stop_execution(arn)


@pytest.mark.parametrize("deferrable", [False, True])
@pytest.mark.parametrize("with_store", [True, False])
def test_a_cleared_deferred_task_never_reattaches_to_the_execution_its_kill_stopped(
    emulator: EvaluationEmulator, deferrable: bool, with_store: bool
) -> None:
    store = DictTaskStateStore() if with_store else None
    killed = _killed_first_try(emulator, store)
    emulator.step_seconds = 0.05  # first: stopping takes a share of the step time at the stop
    _stop(killed)  # the user cleared the task: the old try's kill lands before the new try looks

    second = RecordingTaskInstance(try_number=2)
    op = operator(deferrable=deferrable)
    summary = (
        run_deferred(op, task_context(second, store))
        if deferrable
        else op.execute(task_context(second, store))
    )

    assert summary["status"] == "Succeeded"
    assert summary["execution_arn"] != killed
    assert sorted(executions(emulator)) == sorted([killed, summary["execution_arn"]])


@pytest.mark.parametrize("deferrable", [False, True])
def test_a_kill_landing_after_the_new_try_reattached_restarts(
    emulator: EvaluationEmulator, deferrable: bool
) -> None:
    store = DictTaskStateStore()
    killed = _killed_first_try(emulator, store)
    second = RecordingTaskInstance(try_number=2)
    op = operator(deferrable=deferrable)

    def old_kill_lands(*_: object) -> None:
        emulator.step_seconds = 0.05
        _stop(killed)

    if deferrable:
        # The old try's trigger stops the execution once the new try has deferred on it.
        summary = run_deferred(op, task_context(second, store), before_event=old_kill_lands)
    else:
        timer = threading.Timer(0.5, old_kill_lands)
        timer.start()
        try:
            summary = op.execute(task_context(second, store))
        finally:
            timer.join()

    assert summary["status"] == "Succeeded"
    assert summary["execution_arn"] != killed
    assert store.values["sm_eval_execution_arn"] == summary["execution_arn"]
    assert second.xcom["execution_arn"] == summary["execution_arn"]
    statuses = {
        arn: SageMakerEvaluationHook(aws_conn_id=CONN_ID).get_execution(arn).status.overall_status.value
        for arn in executions(emulator)
    }
    assert statuses == {killed: "Stopped", summary["execution_arn"]: "Succeeded"}


@pytest.mark.parametrize("deferrable", [False, True])
def test_a_kill_landing_after_the_new_try_reattached_is_kept_when_stopped_counts_as_success(
    emulator: EvaluationEmulator, deferrable: bool
) -> None:
    """The reattached execution the old try's kill stopped ended in a success status: nothing
    replaces it (the old code restarted it whatever ``success_statuses`` said)."""
    store = DictTaskStateStore()
    killed = _killed_first_try(emulator, store)
    op = operator(deferrable=deferrable, success_statuses=["Succeeded", "Stopped"])

    def old_kill_lands(*_: object) -> None:
        emulator.step_seconds = 0.05
        _stop(killed)

    context = task_context(RecordingTaskInstance(try_number=2), store)
    if deferrable:
        summary = run_deferred(op, context, before_event=old_kill_lands)
    else:
        timer = threading.Timer(0.5, old_kill_lands)
        timer.start()
        try:
            summary = op.execute(context)
        finally:
            timer.join()

    assert summary["execution_arn"] == killed
    assert summary["status"] == "Stopped"
    assert executions(emulator) == [killed]


def test_on_failed_execution_fail_applies_to_an_execution_the_kill_stopped(
    emulator: EvaluationEmulator,
) -> None:
    store = DictTaskStateStore()
    killed = _killed_first_try(emulator, store)
    emulator.step_seconds = 0.05
    _stop(killed)

    with pytest.raises(AirflowFailException, match=f"{killed} of an earlier try ended Stopped"):
        run_deferred(
            operator(deferrable=True, on_failed_execution="fail"),
            task_context(RecordingTaskInstance(try_number=2), store),
        )


# The SageMaker SDK's {{ pipeline_name }} placeholder ---------------------------------------------


def sdk_rendered_definition() -> dict[str, Any]:
    """The benchmark definition with the placeholder where the SDK's rendered templates have it."""
    definition: dict[str, Any] = json.loads(Path(definition_path("benchmark")).read_text())
    definition["PipelineExperimentConfig"] = {
        "ExperimentName": "{{ pipeline_name }}",
        "TrialName": "{{ pipeline_name }}-trial",
    }
    return definition


@pytest.mark.parametrize("form", ["dict", "json string"])
@pytest.mark.parametrize("context_has_pipeline_name", [True, False])
def test_the_sdk_placeholder_passes_airflow_rendering_untouched(
    form: str, context_has_pipeline_name: bool
) -> None:
    from airflow.sdk import DAG

    definition = sdk_rendered_definition()
    with DAG("placeholder_dag", schedule=None):  # DAG templates are strict: undefined names fail
        op = operator(
            pipeline_definition=definition if form == "dict" else json.dumps(definition),
            evaluation_name="{{ params.name }}",
        )
    context: dict[str, Any] = {"params": {"name": "nightly"}}
    if context_has_pipeline_name:
        context["pipeline_name"] = "rendered-by-airflow"

    op.render_template_fields(context)  # type: ignore[arg-type]

    rendered = op.pipeline_definition if form == "dict" else json.loads(op.pipeline_definition)
    assert rendered == definition
    assert op.evaluation_name == "nightly"


def test_dry_run_validates_and_starts_nothing(emulator: EvaluationEmulator) -> None:
    ti = RecordingTaskInstance()

    value = operator(dry_run=True).execute(task_context(ti))

    assert {op: emulator.calls.count("sagemaker", op) for op in WRITES} == dict.fromkeys(WRITES, 0)
    assert value["dry_run"] is True
    assert value["eval_type"] == "benchmark"
    assert value["definition"] == json.loads(Path(definition_path("benchmark")).read_text())
    assert value["parameters"]["S3OutputPath"] == f"s3://{BUCKET}/runs"
    assert ti.xcom == {}


def test_dry_run_still_refuses_bad_input(emulator: EvaluationEmulator) -> None:
    with pytest.raises(AirflowFailException, match="role_arn"):
        operator(dry_run=True, role_arn="arn:aws:iam::123:user/bob").execute(
            task_context(RecordingTaskInstance())
        )
