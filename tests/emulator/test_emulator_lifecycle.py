"""The whole lifecycle of evaluation pipelines over real HTTP with boto3."""

from __future__ import annotations

import pytest
from emulator_harness import ROLE_ARN, Harness, definition, token

from airflow_provider_sm_eval.evaluation.constants import (
    EvalType,
    StepName,
)
from airflow_provider_sm_eval.evaluation.types.registry import kind_of


@pytest.mark.parametrize("eval_type", list(EvalType))
def test_execution_runs_every_step_to_succeeded(harness: Harness, eval_type: EvalType) -> None:
    name = harness.create(eval_type)
    arn = harness.start(name)
    assert harness.status(arn) == "Executing"

    final = harness.wait_terminal(arn)

    assert final["PipelineExecutionStatus"] == "Succeeded"
    assert "FailureReason" not in final
    steps = harness.steps(arn)
    result_steps = kind_of(eval_type).result_steps
    assert {s.value for s in result_steps} <= set(steps)
    assert all(s["StepStatus"] == "Succeeded" for s in steps.values())
    for step in result_steps:
        job_arn = steps[step.value]["Metadata"]["TrainingJob"]["Arn"]
        assert ":training-job/" in job_arn
        job_name = job_arn.rsplit("/", 1)[1]
        assert len(job_name) <= 63
        job = harness.sm.describe_training_job(TrainingJobName=job_name)
        assert job["TrainingJobStatus"] == "Completed"
        assert job["OutputDataConfig"]["S3OutputPath"] == "s3://eval-results/run"


def test_steps_wait_for_their_dependencies(harness: Harness) -> None:
    arn = harness.start(harness.create(EvalType.LLM_AS_JUDGE))
    harness.wait_terminal(arn)
    steps = harness.steps(arn)

    def ends(name: StepName) -> float:
        return steps[name.value]["EndTime"].timestamp()

    def starts(name: StepName) -> float:
        return steps[name.value]["StartTime"].timestamp()

    assert starts(StepName.EVALUATE_BASE_INFERENCE_MODEL) >= ends(StepName.CREATE_EVALUATION_ACTION)
    assert starts(StepName.EVALUATE_BASE_MODEL_METRICS) >= ends(StepName.EVALUATE_BASE_INFERENCE_MODEL)
    assert starts(StepName.EVALUATE_CUSTOM_MODEL_METRICS) >= ends(StepName.EVALUATE_CUSTOM_INFERENCE_MODEL)
    assert starts(StepName.ASSOCIATE_LINEAGE) >= max(
        ends(StepName.EVALUATE_BASE_MODEL_METRICS), ends(StepName.EVALUATE_CUSTOM_MODEL_METRICS)
    )


def test_create_describe_list_delete_pipeline(harness: Harness) -> None:
    name = harness.create(
        EvalType.BENCHMARK, PipelineDescription="nightly", Tags=[{"Key": "team", "Value": "ml"}]
    )
    described = harness.sm.describe_pipeline(PipelineName=name)
    assert described["PipelineName"] == name
    assert described["PipelineDefinition"] == definition("benchmark")
    assert described["RoleArn"] == ROLE_ARN
    assert described["PipelineStatus"] == "Active"
    assert described["PipelineDescription"] == "nightly"
    tags = harness.sm.list_tags(ResourceArn=described["PipelineArn"])["Tags"]
    assert tags == [{"Key": "team", "Value": "ml"}]

    listed = harness.sm.list_pipelines(PipelineNamePrefix=kind_of(EvalType.BENCHMARK).pipeline_name_prefix)
    assert [p["PipelineName"] for p in listed["PipelineSummaries"]] == [name]

    deleted = harness.sm.delete_pipeline(PipelineName=name, ClientRequestToken=token())
    assert deleted["PipelineArn"] == described["PipelineArn"]
    assert harness.sm.list_pipelines()["PipelineSummaries"] == []
