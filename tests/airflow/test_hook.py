"""SageMakerEvaluationHook over an ``aws`` connection to the emulator."""

from __future__ import annotations

import ast
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

import airflow_provider_sm_eval
from airflow_provider_sm_eval.evaluation.constants import ExecutionStatus, StepName
from airflow_provider_sm_eval.evaluation.exceptions import EvaluationFailedError
from airflow_provider_sm_eval.hooks.evaluation import DEFAULT_MAX_ATTEMPTS, SageMakerEvaluationHook
from sagemaker_eval_emulator import EvaluationEmulator
from tests.airflow.airflow_test_support import CONN_ID, start_execution

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def hook(emulator: EvaluationEmulator) -> SageMakerEvaluationHook:
    return SageMakerEvaluationHook(aws_conn_id=CONN_ID)


def start(hook: SageMakerEvaluationHook, description: str | None = None) -> str:
    return start_execution("hook-test", "hook", description=description, hook=hook)


def test_clients_come_from_the_connection(
    hook: SageMakerEvaluationHook, emulator: EvaluationEmulator
) -> None:
    assert hook.conn.meta.endpoint_url == emulator.endpoint_url
    assert hook.s3_client.meta.endpoint_url == emulator.endpoint_url
    assert hook.conn.meta.region_name == "us-east-1"
    assert hook.conn_type == "aws"


def test_new_hooks_do_not_parse_the_service_models_again(
    emulator: EvaluationEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every task, poke and UI view makes a new hook; its sessions share the process's botocore
    data instead of parsing SageMaker's service model (and the endpoint rules) once more."""
    from botocore.loaders import JSONFileLoader

    parsed: list[str] = []
    load_file = JSONFileLoader.load_file

    def counting_load_file(self: JSONFileLoader, file_path: str) -> object:
        parsed.append(file_path)
        return load_file(self, file_path)

    monkeypatch.setattr(JSONFileLoader, "load_file", counting_load_file)
    for _ in range(3):
        hook = SageMakerEvaluationHook(aws_conn_id=CONN_ID)
        assert hook.aws_clients.sagemaker.meta.endpoint_url == emulator.endpoint_url
        assert hook.aws_clients.s3.meta.endpoint_url == emulator.endpoint_url

    sagemaker_models = [path for path in parsed if path.endswith("sagemaker/2017-07-24/service-2")]
    endpoint_rules = [path for path in parsed if path.endswith("endpoints")]
    assert len(sagemaker_models) <= 1, parsed
    assert len(endpoint_rules) <= 1, parsed


def test_a_start_and_a_wait_build_no_s3_client(
    hook: SageMakerEvaluationHook, emulator: EvaluationEmulator
) -> None:
    """A client costs a task process a service model's parse and endpoint set-up: the start and
    the status checks need SageMaker only; the results need S3 as well."""
    emulator.step_seconds = 0.05
    execution = hook.get_execution(start(hook))
    hook.wait_for_execution(execution, poll_interval=0.05)
    assert "s3_client" not in vars(hook)  # the cached property was never built
    assert hook.aws_clients.sagemaker_client is hook.conn

    hook.get_summary(execution)
    assert "s3_client" in vars(hook)


def test_start_wait_and_summary(hook: SageMakerEvaluationHook, emulator: EvaluationEmulator) -> None:
    emulator.step_seconds = 0.5  # still running when the wait begins, so progress is reported
    execution = hook.get_execution(start(hook))
    progress: list[str] = []

    hook.wait_for_execution(
        execution, poll_interval=0.05, on_progress=lambda e: progress.append(e.status.overall_status.value)
    )
    summary = hook.get_summary(execution)

    assert execution.status.overall_status is ExecutionStatus.SUCCEEDED
    assert progress and progress[-1] == "Succeeded"
    assert summary.execution_arn == execution.arn
    assert set(summary.metrics) == {"custom", "base"}
    assert "custom" in hook.render_results(execution).lower()


def test_wait_raises_on_failure_unless_it_counts_as_success(
    hook: SageMakerEvaluationHook, emulator: EvaluationEmulator
) -> None:
    emulator.faults.fail_step(StepName.EVALUATE_BASE_MODEL.value, "boom")
    execution = hook.get_execution(start(hook))

    with pytest.raises(EvaluationFailedError, match="EvaluateBaseModel"):
        hook.wait_for_execution(execution, poll_interval=0.05)
    again = hook.wait_for_execution(
        hook.get_execution(execution.arn), success_statuses={ExecutionStatus.FAILED}, poll_interval=0.05
    )
    assert again.status.overall_status is ExecutionStatus.FAILED


def test_find_execution_by_description_marker(hook: SageMakerEvaluationHook) -> None:
    wanted = start(hook, description="Evaluation execution: a [airflow-ti:abc]")
    start(hook, description="Evaluation execution: b [airflow-ti:other]")

    found = hook.find_execution("benchmark", "[airflow-ti:abc]")

    assert [execution.arn for execution in found] == [wanted]
    assert hook.find_execution("llmasjudge", "[airflow-ti:abc]") == []


def test_stop_running_then_stop_again_is_harmless(
    hook: SageMakerEvaluationHook, emulator: EvaluationEmulator
) -> None:
    emulator.step_seconds = 3
    arn = start(hook)

    stopped = hook.stop_execution(arn)
    emulator.step_seconds = 0.05
    hook.wait_for_execution(stopped, success_statuses={ExecutionStatus.STOPPED}, poll_interval=0.05)
    again = hook.stop_execution(arn)

    assert again.status.overall_status is ExecutionStatus.STOPPED


def test_retry_resumes_a_failed_execution(
    hook: SageMakerEvaluationHook, emulator: EvaluationEmulator
) -> None:
    emulator.faults.fail_step(StepName.EVALUATE_CUSTOM_MODEL.value, "flaky", times=1)
    execution = hook.get_execution(start(hook))
    hook.wait_for_execution(execution, success_statuses={ExecutionStatus.FAILED}, poll_interval=0.05)

    retried = hook.retry_execution(execution.arn)
    hook.wait_for_execution(retried, poll_interval=0.05)

    assert retried.arn == execution.arn
    assert retried.status.overall_status is ExecutionStatus.SUCCEEDED


async def test_async_status_reads_every_step(hook: SageMakerEvaluationHook) -> None:
    execution = hook.get_execution(start(hook))
    hook.wait_for_execution(execution, poll_interval=0.05)
    async with hook.shared_async_client() as client:
        status = await hook.get_execution_status_async(client, execution.arn)

    assert status.overall_status is ExecutionStatus.SUCCEEDED
    assert sorted((step.name, step.status, step.job_arn) for step in status.step_details) == sorted(
        (step.name, step.status, step.job_arn) for step in execution.steps
    )
    assert {step.name for step in status.step_details} == {
        "CreateEvaluationAction",
        "EvaluateBaseModel",
        "EvaluateCustomModel",
        "AssociateLineage",
    }


def test_every_client_gets_the_throttling_retry_policy(hook: SageMakerEvaluationHook) -> None:
    expected = {"mode": "standard", "total_max_attempts": DEFAULT_MAX_ATTEMPTS}

    assert hook.conn.meta.config.retries == expected
    assert hook.s3_client.meta.config.retries == expected


async def test_async_clients_get_the_throttling_retry_policy(hook: SageMakerEvaluationHook) -> None:
    async with hook.shared_async_client() as client:
        assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": DEFAULT_MAX_ATTEMPTS}


@pytest.mark.parametrize("where", ["connection", "hook"])
def test_the_retry_policy_is_overridable(
    emulator: EvaluationEmulator, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    retries = {"mode": "legacy", "total_max_attempts": 2}
    connection = json.loads(os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"])
    connection["extra"]["config_kwargs"] = {"retries": retries, "read_timeout": 7}
    monkeypatch.setenv("AIRFLOW_CONN_OVERRIDDEN", json.dumps(connection))
    hook = (
        SageMakerEvaluationHook(aws_conn_id="overridden")
        if where == "connection"
        else SageMakerEvaluationHook(aws_conn_id=CONN_ID, config={"retries": retries})
    )

    assert hook.conn.meta.config.retries == retries
    assert hook.s3_client.meta.config.retries == retries
    if where == "connection":
        assert hook.conn.meta.config.read_timeout == 7


def test_the_airflow_layer_calls_the_core_not_the_sdk_facade() -> None:
    """The hook goes straight to the lifecycle core: the SDK-compatible façade is a sibling for
    users without Airflow, and nothing of the Airflow layer imports it."""
    package = Path(airflow_provider_sm_eval.__file__).parent
    facade = "airflow_provider_sm_eval.evaluation.execution"
    importers = []
    for folder in ("hooks", "operators", "sensors", "triggers", "links", "utils"):
        for path in sorted((package / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                names = {alias.name for alias in getattr(node, "names", [])}
                if (isinstance(node, ast.ImportFrom) and node.module == facade) or (
                    isinstance(node, ast.ImportFrom)
                    and node.module == "airflow_provider_sm_eval.evaluation"
                    and names & {"EvaluationPipelineExecution", "execution"}
                ):
                    importers.append(str(path.relative_to(package)))

    assert importers == []


class _Caller:
    """Stands for an operator whose ``execute`` builds a client."""

    def execute(self, find: Callable[[str], str | None], target: str) -> str | None:
        return find(target)


@pytest.mark.parametrize("target", ["execute", "poke"])
def test_the_caller_named_in_the_user_agent_is_the_amazon_hooks(
    target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hook finds the calling operator as the amazon hook does, without ``inspect.stack()``."""
    import inspect

    from airflow.providers.amazon.aws.hooks.base_aws import AwsGenericHook

    theirs = _Caller().execute(AwsGenericHook._find_operator_class_name, target)

    def no_stack(*args: object) -> None:
        raise AssertionError("inspect.stack() reads the source of every frame")

    monkeypatch.setattr(inspect, "stack", no_stack)
    ours = _Caller().execute(SageMakerEvaluationHook._find_operator_class_name, target)
    assert ours == theirs == ("_Caller" if target == "execute" else None)


def test_a_client_built_in_an_operator_names_it_in_its_user_agent(hook: SageMakerEvaluationHook) -> None:
    class StartSomething:
        def execute(self) -> str:
            return str(hook.conn.meta.config.user_agent_extra)

    assert "Caller/StartSomething" in StartSomething().execute()
