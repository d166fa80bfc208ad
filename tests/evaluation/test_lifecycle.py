"""The execution lifecycle against the SageMaker evaluation emulator over HTTP."""

from __future__ import annotations

import json
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config

from airflow_provider_sm_eval.evaluation import (
    BenchmarkEvaluationExecution,
    EvalType,
    EvaluationAWSError,
    EvaluationCompletedWithFailuresError,
    EvaluationFailedError,
    EvaluationPipelineExecution,
    EvaluationStoppedError,
    EvaluationTimeoutError,
    ExecutionStatus,
    LLMAJEvaluationExecution,
    ResultsNotAvailableError,
    StepStatus,
)
from airflow_provider_sm_eval.evaluation.clients import AwsClients
from airflow_provider_sm_eval.evaluation.constants import EVALUATION_TAG_KEY, EVALUATION_TAG_VALUE
from airflow_provider_sm_eval.evaluation.types.registry import kind_of
from sagemaker_eval_emulator import EvaluationEmulator

DEFINITIONS = Path(__file__).parents[2] / "example_dags" / "pipeline_definitions"
DEFINITION_FILES = {
    EvalType.BENCHMARK: "benchmark.json",
    EvalType.CUSTOM_SCORER: "custom_scorer.json",
    EvalType.LLM_AS_JUDGE: "llm_as_judge.json",
}
ROLE = "arn:aws:iam::123456789012:role/SageMakerEvaluationRole"
POLL = 0.02
TIMEOUT = 60


def definition(eval_type: EvalType = EvalType.BENCHMARK) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DEFINITIONS / DEFINITION_FILES[eval_type]).read_text())
    return document


def with_extra_steps(document: dict[str, Any], count: int) -> dict[str, Any]:
    """``document`` with ``count`` more Lineage steps, each depending on the first step."""
    first = document["Steps"][0]
    for index in range(count):
        extra = json.loads(json.dumps(first))
        extra["Name"] = f"ExtraLineage{index:02d}"
        extra["DependsOn"] = [first["Name"]]
        document["Steps"].append(extra)
    return document


@pytest.fixture
def emu(sm_eval_emulator: EvaluationEmulator) -> EvaluationEmulator:
    return sm_eval_emulator


@pytest.fixture
def clients(emu: EvaluationEmulator) -> AwsClients:
    return AwsClients(sagemaker_client=emu.client("sagemaker"), s3_client=emu.client("s3"))


@pytest.fixture
def output(emu: EvaluationEmulator) -> str:
    bucket = f"eval-{uuid.uuid4().hex[:12]}"
    emu.client("s3").create_bucket(Bucket=bucket)
    return f"s3://{bucket}/evaluations"


def start(
    clients: AwsClients,
    output: str | None,
    eval_type: EvalType = EvalType.BENCHMARK,
    pipeline_definition: Any = None,
    **kwargs: Any,
) -> EvaluationPipelineExecution:
    return EvaluationPipelineExecution.start(
        eval_type,
        "my-eval",
        pipeline_definition if pipeline_definition is not None else definition(eval_type),
        ROLE,
        output,
        **kwargs,
        clients=clients,
    )


@pytest.mark.parametrize("eval_type", list(EvalType))
def test_start_wait_and_summarize_each_type(clients: AwsClients, output: str, eval_type: EvalType) -> None:
    execution = start(clients, output, eval_type, tags={"team": "ml"})
    assert isinstance(
        execution,
        LLMAJEvaluationExecution if eval_type is EvalType.LLM_AS_JUDGE else BenchmarkEvaluationExecution,
    )
    assert execution.eval_type is eval_type
    assert execution.name == "my-eval"
    assert execution.display_name is not None and execution.display_name.startswith("my-eval-")
    assert execution.description == "Evaluation execution: my-eval"
    assert execution.pipeline_name.startswith(kind_of(eval_type).pipeline_name_prefix)
    assert execution.s3_output_path == output
    assert execution.pipeline_version_id is not None

    assert execution.wait(poll=POLL, timeout=TIMEOUT) is execution
    assert execution.status.is_succeeded
    assert {step.name for step in execution.steps} >= {s.value for s in kind_of(eval_type).result_steps}
    assert all(step.status is StepStatus.SUCCEEDED for step in execution.steps)

    summary = execution.summary()
    assert set(summary.metrics) == {"custom", "base"}
    assert summary.deltas
    assert len(summary.artifact_uris) == (4 if eval_type is EvalType.LLM_AS_JUDGE else 2)
    assert all(uri.startswith(output) for uri in summary.artifact_uris)
    if eval_type is EvalType.LLM_AS_JUDGE:
        assert summary.win_rates is not None and summary.win_rates.pairs > 0
        assert set(summary.example_counts) == {"custom", "base"}
    text = execution.render_results(limit=2)
    assert f"Type: {eval_type.value}" in text


def test_start_without_output_path_finds_it_from_the_training_jobs(
    emu: EvaluationEmulator, clients: AwsClients, output: str
) -> None:
    document = definition()
    for parameter in document["Parameters"]:
        if parameter["Name"] == "S3OutputPath":
            parameter["DefaultValue"] = output
    execution = start(clients, None, pipeline_definition=document)
    assert execution.s3_output_path is None or execution.s3_output_path == output
    execution.wait(poll=POLL, timeout=TIMEOUT)
    assert execution.s3_output_path == output

    again = EvaluationPipelineExecution.get(execution.arn, clients=clients)
    assert again.s3_output_path == output
    assert again.summary().metrics["custom"]


def test_get_reads_status_steps_and_output_root(clients: AwsClients, output: str) -> None:
    started = start(clients, output, EvalType.LLM_AS_JUDGE).wait(poll=POLL, timeout=TIMEOUT)
    execution = EvaluationPipelineExecution.get(started.arn, clients=clients)
    assert type(execution) is LLMAJEvaluationExecution
    assert execution.status.is_succeeded
    assert execution.s3_output_path == output
    assert execution.name == "my-eval"
    assert [s.name for s in execution.steps] == [s.name for s in started.steps]
    round_tripped = EvaluationPipelineExecution.from_dict(execution.model_dump(mode="json"))
    assert round_tripped == execution


def test_get_validates_the_arn_before_calling_aws(clients: AwsClients) -> None:
    with pytest.raises(ValueError, match="arn 'not-an-arn'"):
        EvaluationPipelineExecution.get("not-an-arn", clients=clients)
    other = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/my-training/execution/abc123"
    with pytest.raises(ValueError, match="not a SageMaker evaluation pipeline"):
        EvaluationPipelineExecution.get(other, clients=clients)


def test_get_of_a_missing_execution_is_an_aws_error(clients: AwsClients) -> None:
    arn = (
        "arn:aws:sagemaker:us-east-1:123456789012:pipeline/"
        "sagemakerevaluation-benchmarkevaluation-missing/execution/abc123"
    )
    with pytest.raises(EvaluationAWSError) as caught:
        EvaluationPipelineExecution.get(arn, clients=clients)
    assert caught.value.operation == "DescribePipelineExecution"
    assert caught.value.resource == arn


def test_steps_are_read_past_one_page(clients: AwsClients, output: str) -> None:
    execution = start(clients, output, pipeline_definition=with_extra_steps(definition(), 12))
    execution.wait(poll=POLL, timeout=TIMEOUT)
    assert len(execution.steps) == 16
    assert {f"ExtraLineage{i:02d}" for i in range(12)} <= {s.name for s in execution.steps}


def test_get_all_pages_newest_first_and_refresh_fills_steps(
    emu: EvaluationEmulator, clients: AwsClients, output: str
) -> None:
    started = [start(clients, output).arn for _ in range(12)]
    llmaj = start(clients, output, EvalType.LLM_AS_JUDGE).arn

    benchmark = list(EvaluationPipelineExecution.get_all(EvalType.BENCHMARK, clients=clients))
    assert [e.arn for e in benchmark] == list(reversed(started))
    assert all(type(e) is BenchmarkEvaluationExecution for e in benchmark)
    assert all(e.steps == [] for e in benchmark)

    everything = list(EvaluationPipelineExecution.get_all(clients=clients))
    assert {e.arn for e in everything} == {*started, llmaj}
    assert everything[0].arn == llmaj
    times = [e.creation_time for e in everything]
    assert times == sorted(times, reverse=True)  # type: ignore[type-var]

    newest = benchmark[0].refresh()
    assert newest.steps
    assert newest.status.overall_status in set(ExecutionStatus)


def test_get_all_keeps_only_tagged_pipelines_with_the_exact_prefix(clients: AwsClients, output: str) -> None:
    sagemaker = clients.sagemaker
    prefix = kind_of(EvalType.BENCHMARK).pipeline_name_prefix
    text = json.dumps(definition())
    for name, tags in [
        (f"{prefix}-untagged", []),
        (f"My{prefix}-substring", [{"Key": EVALUATION_TAG_KEY, "Value": EVALUATION_TAG_VALUE}]),
    ]:
        sagemaker.create_pipeline(
            PipelineName=name,
            PipelineDefinition=text,
            RoleArn=ROLE,
            Tags=tags,
            ClientRequestToken=uuid.uuid4().hex,
        )
        sagemaker.start_pipeline_execution(
            PipelineName=name,
            ClientRequestToken=uuid.uuid4().hex,
            PipelineParameters=[{"Name": "S3OutputPath", "Value": output}],
        )
    ours = start(clients, output)
    assert [e.arn for e in EvaluationPipelineExecution.get_all("benchmark", clients=clients)] == [ours.arn]
    assert ours.pipeline_name.startswith(prefix + "-")


def test_pipeline_is_reused_and_found_past_one_page_of_pipelines(clients: AwsClients, output: str) -> None:
    sagemaker = clients.sagemaker
    prefix = kind_of(EvalType.BENCHMARK).pipeline_name_prefix
    text = json.dumps(definition())
    for index in range(11):
        sagemaker.create_pipeline(
            PipelineName=f"{prefix}-aaa-untagged-{index:02d}",
            PipelineDefinition=text,
            RoleArn=ROLE,
            ClientRequestToken=uuid.uuid4().hex,
        )
    first = start(clients, output)
    second = start(clients, output)
    changed = start(clients, output, pipeline_definition=with_extra_steps(definition(), 1))
    assert first.pipeline_name == second.pipeline_name == changed.pipeline_name
    assert first.pipeline_version_id is not None and changed.pipeline_version_id is not None
    assert second.pipeline_version_id == first.pipeline_version_id
    assert changed.pipeline_version_id > first.pipeline_version_id


def test_sdk_rule_finds_started_executions(clients: AwsClients, output: str) -> None:
    """The SDK lists pipelines by prefix, keeps the tagged ones and lists their executions."""
    started = {start(clients, output, eval_type).arn: eval_type for eval_type in EvalType}
    sagemaker = clients.sagemaker
    for arn, eval_type in started.items():
        prefix = kind_of(eval_type).pipeline_name_prefix
        found = []
        for page in sagemaker.get_paginator("list_pipelines").paginate(PipelineNamePrefix=prefix):
            for pipeline in page["PipelineSummaries"]:
                tags = sagemaker.list_tags(ResourceArn=pipeline["PipelineArn"])["Tags"]
                if {"Key": EVALUATION_TAG_KEY, "Value": EVALUATION_TAG_VALUE} in tags:
                    summaries = sagemaker.list_pipeline_executions(PipelineName=pipeline["PipelineName"])
                    found += [s["PipelineExecutionArn"] for s in summaries["PipelineExecutionSummaries"]]
        assert arn in found


def test_concurrent_starts_run_their_own_definitions(clients: AwsClients, output: str) -> None:
    shared = start(clients, output).pipeline_name
    documents = [with_extra_steps(definition(), count) for count in (1, 2, 3, 4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        executions = list(pool.map(lambda d: start(clients, output, pipeline_definition=d), documents))
    assert {e.pipeline_name for e in executions} == {shared}
    assert len({e.pipeline_version_id for e in executions}) == 4
    sagemaker = clients.sagemaker
    for document, execution in zip(documents, executions, strict=True):
        ran = sagemaker.describe_pipeline_definition_for_execution(PipelineExecutionArn=execution.arn)
        assert json.loads(ran["PipelineDefinition"]) == document
    for document, execution in zip(documents, executions, strict=True):
        execution.wait(poll=POLL, timeout=TIMEOUT)
        assert len(execution.steps) == len(document["Steps"])


def test_start_with_the_same_token_returns_the_same_execution(clients: AwsClients, output: str) -> None:
    token = f"airflow-{uuid.uuid4().hex}"
    first = start(clients, output, client_request_token=token)
    second = start(clients, output, client_request_token=token)
    assert second.arn == first.arn
    assert len(list(EvaluationPipelineExecution.get_all(EvalType.BENCHMARK, clients=clients))) == 1
    other = start(clients, output, client_request_token=f"airflow-{uuid.uuid4().hex}")
    assert other.arn != first.arn


def test_start_passes_pipeline_parameters(clients: AwsClients, output: str) -> None:
    execution = start(
        clients, output, pipeline_parameters={"Benchmark": "gpqa"}, display_name="explicit-name"
    )
    assert execution.display_name == "explicit-name"
    execution.wait(poll=POLL, timeout=TIMEOUT)
    job = next(s.job_name for s in execution.steps if s.name == "EvaluateCustomModel")
    described = clients.sagemaker.describe_training_job(TrainingJobName=job)
    assert described["HyperParameters"]["task"] == "gpqa"
    assert described["OutputDataConfig"]["S3OutputPath"] == output


def test_failed_execution_raises_with_failed_step(
    emu: EvaluationEmulator, clients: AwsClients, output: str
) -> None:
    emu.faults.fail_step("EvaluateCustomModel", "ClientError: dataset not found")
    execution = start(clients, output)
    with pytest.raises(EvaluationFailedError) as caught:
        execution.wait(poll=POLL, timeout=TIMEOUT)
    error = caught.value
    assert error.execution_arn == execution.arn
    assert error.status is ExecutionStatus.FAILED
    assert [s.name for s in error.failed_steps] == ["EvaluateCustomModel"]
    assert error.failed_steps[0].job_arn
    assert "ClientError: dataset not found" in str(error)
    with pytest.raises(ResultsNotAvailableError):
        execution.summary()


def test_completed_with_failures_raises_its_own_error(
    emu: EvaluationEmulator, clients: AwsClients, output: str
) -> None:
    emu.faults.fail_step("AssociateLineage", "lineage unavailable", continue_on_failure=True)
    execution = start(clients, output)
    with pytest.raises(EvaluationCompletedWithFailuresError) as caught:
        execution.wait(poll=POLL, timeout=TIMEOUT)
    assert [s.name for s in caught.value.failed_steps] == ["AssociateLineage"]
    assert execution.wait("CompletedWithFailures", poll=POLL, timeout=TIMEOUT) is execution


def test_stop_then_wait_raises_stopped_and_retry_resumes(
    emu: EvaluationEmulator, clients: AwsClients, output: str
) -> None:
    emu.step_seconds = 2  # long enough to stop mid-run; stopping takes a share of it
    execution = start(clients, output)
    execution.stop()
    assert execution.status.overall_status in {ExecutionStatus.STOPPING, ExecutionStatus.STOPPED}
    emu.step_seconds = 0.02
    with pytest.raises(EvaluationStoppedError):
        execution.wait(poll=POLL, timeout=TIMEOUT)
    assert execution.wait("Stopped", poll=POLL, timeout=TIMEOUT) is execution

    execution.retry()
    assert execution.wait(poll=POLL, timeout=TIMEOUT).status.is_succeeded


def test_stop_of_a_finished_execution_returns_its_terminal_status(clients: AwsClients, output: str) -> None:
    execution = start(clients, output).wait(poll=POLL, timeout=TIMEOUT)
    assert execution.stop() is execution
    assert execution.status.overall_status is ExecutionStatus.SUCCEEDED


def test_stop_refused_for_another_reason_raises_the_aws_error(emu: EvaluationEmulator, output: str) -> None:
    sagemaker = emu.client("sagemaker", config=Config(retries={"total_max_attempts": 1}))
    clients = AwsClients(sagemaker_client=sagemaker, s3_client=emu.client("s3"))
    execution = start(clients, output)
    emu.faults.throttle(share=1.0, operations=["StopPipelineExecution"])
    with pytest.raises(EvaluationAWSError) as caught:
        execution.stop()
    assert caught.value.operation == "StopPipelineExecution"
    assert caught.value.resource == execution.arn
    assert caught.value.code == "ThrottlingException"


def test_an_output_path_that_is_not_an_s3_uri_never_blocks_reading_or_stopping(
    clients: AwsClients, output: str
) -> None:
    """Such an execution can no longer be started here (the start refuses it), but another tool
    (the SDK, the console) can start one on the shared pipeline: it must stay readable and stoppable."""
    with pytest.raises(ValueError, match="is not an S3 URI"):
        start(clients, None, pipeline_parameters={"S3OutputPath": "not-an-s3-uri"})
    first = start(clients, output)
    arn = clients.sagemaker.start_pipeline_execution(
        PipelineName=first.pipeline_name,
        # An https:// output path passes CreateTrainingJob's pattern, so the job exists, but it is
        # no S3 URI to read results from.
        PipelineParameters=[{"Name": "S3OutputPath", "Value": "https://not-s3.example.com/out"}],
        ClientRequestToken=uuid.uuid4().hex,
    )["PipelineExecutionArn"]
    execution = EvaluationPipelineExecution.get(arn, clients=clients)
    with pytest.raises(EvaluationFailedError):
        execution.wait(poll=POLL, timeout=TIMEOUT)
    assert any(step.job_arn for step in execution.steps)
    again = EvaluationPipelineExecution.get(execution.arn, clients=clients)
    assert again.s3_output_path is None
    assert again.stop().status.overall_status is ExecutionStatus.FAILED


def test_retry_after_failure_runs_failed_steps_again(
    emu: EvaluationEmulator, clients: AwsClients, output: str
) -> None:
    emu.faults.fail_step("EvaluateBaseModel", "transient capacity error", times=1)
    execution = start(clients, output)
    with pytest.raises(EvaluationFailedError):
        execution.wait(poll=POLL, timeout=TIMEOUT)
    execution.retry(client_request_token=f"retry-{uuid.uuid4().hex}")
    execution.wait(poll=POLL, timeout=TIMEOUT)
    assert execution.status.is_succeeded
    assert execution.summary().metrics["base"]
    with pytest.raises(ValueError, match="client_request_token"):
        execution.retry(client_request_token="short")


def test_wait_timeout_leaves_execution_running_unless_asked(
    emu: EvaluationEmulator, clients: AwsClients, output: str
) -> None:
    emu.step_seconds = 30
    execution = start(clients, output)
    with pytest.raises(EvaluationTimeoutError) as caught:
        execution.wait(poll=POLL, timeout=0.1)
    assert caught.value.status is ExecutionStatus.EXECUTING
    assert execution.refresh().status.overall_status is ExecutionStatus.EXECUTING

    with pytest.raises(EvaluationTimeoutError):
        execution.wait(poll=POLL, timeout=0, stop_on_timeout=True)
    assert execution.status.overall_status in {ExecutionStatus.STOPPING, ExecutionStatus.STOPPED}


def test_wait_reports_progress_through_callback_and_logging(
    clients: AwsClients, output: str, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[tuple[str, ...]] = []
    execution = start(clients, output)
    with caplog.at_level(logging.INFO, logger="airflow_provider_sm_eval.evaluation.lifecycle"):
        execution.wait(
            poll=POLL,
            timeout=TIMEOUT,
            on_progress=lambda e: seen.append(
                (e.status.overall_status.value, *(f"{s.name}={s.status.value}" for s in e.steps))
            ),
        )
    assert seen, "on_progress was never called"
    assert len(set(seen)) == len(seen)
    assert len(execution.steps) == 4
    assert all(f"{s.name}={s.status.value}" in seen[-1] for s in execution.steps)
    assert any("EvaluateCustomModel" in record.getMessage() for record in caplog.records)


def test_wait_validates_its_arguments(clients: AwsClients, output: str) -> None:
    execution = start(clients, output)
    with pytest.raises(ValueError, match="target_status 'Executing'"):
        execution.wait("Executing")
    with pytest.raises(ValueError, match="poll"):
        execution.wait(poll=0)


def test_results_of_a_running_execution_are_not_available(
    emu: EvaluationEmulator, clients: AwsClients, output: str
) -> None:
    emu.step_seconds = 30
    execution = start(clients, output)
    with pytest.raises(ResultsNotAvailableError, match="Executing"):
        execution.render_results()


def test_execution_rebuilt_from_xcom_json_works_with_given_clients(clients: AwsClients, output: str) -> None:
    started = start(clients, output, EvalType.LLM_AS_JUDGE)
    payload = json.dumps(started.model_dump(mode="json"))
    rebuilt = EvaluationPipelineExecution.from_dict(json.loads(payload))
    assert type(rebuilt) is LLMAJEvaluationExecution
    rebuilt.wait(poll=POLL, timeout=TIMEOUT, clients=clients)
    summary = rebuilt.summary(clients=clients)
    assert summary.execution_arn == started.arn
    assert json.loads(summary.model_dump_json())["win_rates"]["pairs"] > 0


def test_tags_given_when_the_pipeline_exists_are_added_to_it(clients: AwsClients, output: str) -> None:
    first = start(clients, output, tags={"team": "ml"})
    second = start(clients, output, tags={"cost-center": "42"})
    assert second.pipeline_name == first.pipeline_name
    arn = clients.sagemaker.describe_pipeline(PipelineName=first.pipeline_name)["PipelineArn"]
    tags = {t["Key"]: t["Value"] for t in clients.sagemaker.list_tags(ResourceArn=arn)["Tags"]}
    assert tags == {EVALUATION_TAG_KEY: EVALUATION_TAG_VALUE, "team": "ml", "cost-center": "42"}


def test_a_start_whose_first_status_read_is_throttled_returns_the_running_execution(
    emu: EvaluationEmulator, output: str
) -> None:
    sagemaker = emu.client("sagemaker", config=Config(retries={"total_max_attempts": 1}))
    clients = AwsClients(sagemaker_client=sagemaker, s3_client=emu.client("s3"))
    emu.faults.throttle(share=1.0, operations=["DescribePipelineExecution"])
    try:
        execution = start(clients, output)
    finally:
        emu.faults.clear()

    assert execution.status.overall_status is ExecutionStatus.EXECUTING
    assert execution.pipeline_name.startswith("SagemakerEvaluation-")
    assert execution.wait(poll=POLL, timeout=TIMEOUT).status.overall_status is ExecutionStatus.SUCCEEDED


def test_a_start_whose_first_status_read_is_refused_raises_the_aws_error(
    emu: EvaluationEmulator, output: str
) -> None:
    emu.faults.fail_call("DescribePipelineExecution", "AccessDeniedException", "not allowed", times=1)
    try:
        with pytest.raises(EvaluationAWSError) as caught:
            start(AwsClients(sagemaker_client=emu.client("sagemaker"), s3_client=emu.client("s3")), output)
    finally:
        emu.faults.clear()
    assert caught.value.code == "AccessDeniedException"
