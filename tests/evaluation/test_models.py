"""Models: API parsing, JSON round trips, subclass choice, errors carrying failed steps."""

from __future__ import annotations

import pickle
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from airflow_provider_sm_eval.evaluation import (
    BenchmarkEvaluationExecution,
    EvalType,
    EvaluationAWSError,
    EvaluationCompletedWithFailuresError,
    EvaluationExecutionError,
    EvaluationFailedError,
    EvaluationPipelineExecution,
    EvaluationStoppedError,
    EvaluationTimeoutError,
    ExecutionStatus,
    LLMAJEvaluationExecution,
    PipelineExecutionStatus,
    ResultFileError,
    StepDetail,
    StepStatus,
    execution_error_for,
)
from airflow_provider_sm_eval.evaluation.models import name_from_display_name
from airflow_provider_sm_eval.evaluation.types.registry import kind_of_pipeline

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
JOB_ARN = "arn:aws:sagemaker:us-east-1:123456789012:training-job/eval-custom-1"


def step_entry(name: str, status: str, start: datetime, **extra: object) -> dict[str, object]:
    return {"StepName": name, "StepStatus": status, "StartTime": start, **extra}


def test_step_detail_from_api_reads_job_arn_and_name() -> None:
    step = StepDetail.from_api(
        step_entry(
            "EvaluateCustomModel",
            "Failed",
            T0,
            EndTime=T0 + timedelta(minutes=1),
            StepDisplayName="Evaluate custom",
            FailureReason="OOM",
            Metadata={"TrainingJob": {"Arn": JOB_ARN}},
        )
    )
    assert step.status is StepStatus.FAILED
    assert step.job_arn == JOB_ARN
    assert step.job_name == "eval-custom-1"
    assert step.failure_reason == "OOM"
    assert step.display_name == "Evaluate custom"


def test_step_without_job_has_no_job_name() -> None:
    step = StepDetail.from_api(
        step_entry("CreateEvaluationAction", "Succeeded", T0, Metadata={"Lineage": {}})
    )
    assert step.job_arn is None
    assert step.job_name is None


def test_status_keeps_latest_attempt_of_retried_steps() -> None:
    status = PipelineExecutionStatus.from_api(
        {"PipelineExecutionStatus": "Executing"},
        [
            step_entry("CreateEvaluationAction", "Succeeded", T0),
            step_entry("EvaluateCustomModel", "Failed", T0 + timedelta(seconds=1), FailureReason="boom"),
            step_entry("EvaluateCustomModel", "Executing", T0 + timedelta(seconds=5)),
        ],
    )
    assert [(s.name, s.status) for s in status.step_details] == [
        ("CreateEvaluationAction", StepStatus.SUCCEEDED),
        ("EvaluateCustomModel", StepStatus.EXECUTING),
    ]
    assert status.failed_steps == []
    assert not status.is_terminal


@pytest.mark.parametrize(
    ("overall", "terminal", "succeeded"),
    [
        ("Executing", False, False),
        ("Stopping", False, False),
        ("Succeeded", True, True),
        ("Failed", True, False),
        ("Stopped", True, False),
        ("CompletedWithFailures", True, False),
    ],
)
def test_status_properties(overall: str, terminal: bool, succeeded: bool) -> None:
    status = PipelineExecutionStatus.from_api({"PipelineExecutionStatus": overall}, [])
    assert status.is_terminal is terminal
    assert status.is_succeeded is succeeded


def test_status_reads_failure_reason_of_describe_and_of_summary() -> None:
    described = PipelineExecutionStatus.from_api({"PipelineExecutionStatus": "Failed", "FailureReason": "a"})
    summary = PipelineExecutionStatus.from_api(
        {"PipelineExecutionStatus": "Failed", "PipelineExecutionFailureReason": "b"}
    )
    assert (described.failure_reason, summary.failure_reason) == ("a", "b")


def _execution(eval_type: str) -> EvaluationPipelineExecution:
    status = PipelineExecutionStatus.from_api(
        {"PipelineExecutionStatus": "Failed", "FailureReason": "step failed"},
        [step_entry("EvaluateCustomModel", "Failed", T0, Metadata={"TrainingJob": {"Arn": JOB_ARN}})],
    )
    return EvaluationPipelineExecution.model_validate(
        {
            "arn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/abc123",
            "name": "my-eval",
            "eval_type": eval_type,
            "status": status,
            "pipeline_name": "p",
            "s3_output_path": "s3://bucket/prefix",
            "last_modified_time": T0,
        }
    )


@pytest.mark.parametrize(
    ("eval_type", "expected_class"),
    [
        ("benchmark", BenchmarkEvaluationExecution),
        ("customscorer", BenchmarkEvaluationExecution),
        ("llmasjudge", LLMAJEvaluationExecution),
    ],
)
def test_execution_json_round_trip_keeps_subclass(eval_type: str, expected_class: type) -> None:
    execution = _execution(eval_type)
    assert type(execution) is expected_class
    data = execution.model_dump(mode="json")
    assert data["eval_type"] == eval_type
    again = EvaluationPipelineExecution.from_dict(data)
    assert type(again) is expected_class
    assert again == execution
    assert EvaluationPipelineExecution.model_validate_json(execution.model_dump_json()) == execution
    assert again.steps[0].job_name == "eval-custom-1"


def test_subclass_rejects_an_eval_type_of_the_other_family() -> None:
    data = _execution("llmasjudge").model_dump(mode="json")
    with pytest.raises(ValidationError, match="belongs to LLMAJEvaluationExecution"):
        BenchmarkEvaluationExecution.model_validate(data)


def test_serialized_execution_carries_no_client() -> None:
    execution = _execution("benchmark")
    assert "client" not in execution.model_dump_json().lower()


def test_display_name_suffix_is_removed_from_name() -> None:
    assert name_from_display_name("my-eval-1764331200") == "my-eval"
    assert name_from_display_name("run-2") == "run-2"


@pytest.mark.parametrize(
    ("overall", "error_class"),
    [
        ("Failed", EvaluationFailedError),
        ("Stopped", EvaluationStoppedError),
        ("CompletedWithFailures", EvaluationCompletedWithFailuresError),
        ("Succeeded", EvaluationExecutionError),
    ],
)
def test_execution_error_for_names_failed_steps(overall: str, error_class: type) -> None:
    status = PipelineExecutionStatus.from_api(
        {"PipelineExecutionStatus": overall, "FailureReason": "pipeline reason"},
        [
            step_entry(
                "EvaluateCustomModel",
                "Failed",
                T0,
                FailureReason="ClientError: bad dataset",
                Metadata={"TrainingJob": {"Arn": JOB_ARN}},
            )
        ],
    )
    error = execution_error_for(status, "arn:x")
    assert type(error) is error_class
    assert error.status is ExecutionStatus(overall)
    assert [s.name for s in error.failed_steps] == ["EvaluateCustomModel"]
    message = str(error)
    assert "pipeline reason" in message
    assert "EvaluateCustomModel" in message
    assert "ClientError: bad dataset" in message
    assert JOB_ARN in message


def test_errors_survive_pickling() -> None:
    status = PipelineExecutionStatus.from_api({"PipelineExecutionStatus": "Stopped"}, [])
    errors: list[Exception] = [
        EvaluationAWSError("StopPipelineExecution", "arn:x", "ConflictException", "not executing"),
        execution_error_for(status, "arn:x"),
        EvaluationTimeoutError("arn:x", 1.5, ExecutionStatus.EXECUTING),
        ResultFileError("s3://b/k", "does not exist"),
    ]
    for error in errors:
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error)
        assert str(again) == str(error)


def test_aws_error_names_operation_and_resource() -> None:
    error = EvaluationAWSError("StopPipelineExecution", "arn:x", "ConflictException", "not executing")
    assert str(error) == "StopPipelineExecution on arn:x failed: ConflictException: not executing"


def test_eval_type_is_read_from_lowercase_pipeline_names() -> None:
    assert kind_of_pipeline("sagemakerevaluation-llmajevaluation-abc").eval_type is EvalType.LLM_AS_JUDGE


def test_importing_core_models_does_not_import_boto3_or_airflow() -> None:
    code = (
        "import sys\n"
        "import airflow_provider_sm_eval.evaluation.constants, airflow_provider_sm_eval.evaluation.models\n"
        "import airflow_provider_sm_eval.evaluation.exceptions, airflow_provider_sm_eval.evaluation\n"
        "heavy = [m for m in ('boto3', 'botocore', 'airflow') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
