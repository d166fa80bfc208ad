"""``start`` validates every input before any AWS call; AWS failures surface as EvaluationAWSError."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from airflow_provider_sm_eval.evaluation import EvalType, EvaluationAWSError, EvaluationPipelineExecution
from airflow_provider_sm_eval.evaluation.clients import AwsClients
from airflow_provider_sm_eval.evaluation.constants import EVALUATION_TAG_KEY
from airflow_provider_sm_eval.evaluation.exceptions import InvalidInputError
from airflow_provider_sm_eval.evaluation.request import StartRequest
from airflow_provider_sm_eval.evaluation.types.registry import kind_of
from sagemaker_eval_emulator import EvaluationEmulator

DEFINITION = json.loads(
    (Path(__file__).parents[2] / "example_dags" / "pipeline_definitions" / "benchmark.json").read_text()
)
ROLE = "arn:aws:iam::123456789012:role/SageMakerEvaluationRole"
OUTPUT = "s3://bucket/evaluations"


def sagemaker_nowhere(region: str = "us-east-1") -> Any:
    """A client whose every call fails fast: any AWS call made during validation would show."""
    return boto3.client(
        "sagemaker",
        endpoint_url="http://127.0.0.1:9",
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=1),
    )


@pytest.fixture
def unreachable_sagemaker() -> Any:
    return sagemaker_nowhere()


#: The benchmark definition with an Integer parameter without a default.
INTEGER_PARAMETER = {
    **DEFINITION,
    "Parameters": [*DEFINITION["Parameters"], {"Name": "Shots", "Type": "Integer"}],
}
#: The benchmark definition with the base and custom steps waiting for each other.
CYCLIC = {
    **DEFINITION,
    "Steps": [
        {
            **step,
            "DependsOn": [
                {"EvaluateBaseModel": "EvaluateCustomModel"}.get(step["Name"], "EvaluateBaseModel")
            ],
        }
        if step["Name"] in ("EvaluateBaseModel", "EvaluateCustomModel")
        else step
        for step in DEFINITION["Steps"]
    ],
}

VALID: dict[str, Any] = {
    "eval_type": "benchmark",
    "name": "my-eval",
    "pipeline_definition": DEFINITION,
    "role_arn": ROLE,
    "s3_output_path": OUTPUT,
}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"eval_type": "bench"}, "eval_type 'bench' is not one of"),
        ({"name": ""}, "name ''"),
        ({"name": "has spaces"}, "name 'has spaces'"),
        ({"name": "x" * 72}, "must be 1-71"),
        ({"pipeline_definition": "{nope"}, "pipeline_definition is not valid JSON"),
        ({"pipeline_definition": {"Steps": []}}, "non-empty 'Steps' list"),
        ({"role_arn": "my-role"}, "role_arn 'my-role' is not an IAM role ARN"),
        ({"s3_output_path": "bucket/prefix"}, "s3_output_path 'bucket/prefix' is not an S3 URI"),
        ({"tags": {EVALUATION_TAG_KEY: "false"}}, f"may not set {EVALUATION_TAG_KEY}"),
        ({"tags": {"k": 1}}, "tags value of 'k'"),
        ({"tags": [{"Key": "k"}]}, "tags[0] must be a dict"),
        ({"pipeline_parameters": {"Unknown": "x"}}, "does not declare"),
        ({"pipeline_parameters": {"Benchmark": ["mmlu"]}}, "must be a string or a number"),
        ({"pipeline_parameters": {"S3OutputPath": "s3://other/x"}}, "disagree"),
        ({"client_request_token": "too-short"}, "client_request_token must be a string of 32-128"),
        ({"display_name": "bad name"}, "display_name 'bad name'"),
        ({"description": "x" * 3073}, "description must be a string of at most 3072"),
        ({"tags": {"aws:team": "ml"}}, "keys starting with 'aws:' are reserved"),
        ({"tags": {"AWS:team": "ml"}}, "keys starting with 'aws:' are reserved"),
        ({"tags": {"team#1": "ml"}}, "tags key 'team#1' must be"),
        (
            {"pipeline_parameters": {"Benchmark": "mmlu"}, "s3_output_path": None},
            "gives no value for 'S3OutputPath'",
        ),
        (
            {"pipeline_parameters": {"S3OutputPath": "bucket/prefix"}, "s3_output_path": None},
            "is not an S3 URI",
        ),
        (
            {"pipeline_definition": INTEGER_PARAMETER, "pipeline_parameters": {"Shots": "five"}},
            "'five' is not a valid Integer",
        ),
        (
            {"pipeline_definition": CYCLIC},
            "cycle of step dependencies: EvaluateBaseModel -> EvaluateCustomModel -> EvaluateBaseModel",
        ),
        ({"eval_type": "llmasjudge"}, "cannot produce the results of a llmasjudge evaluation"),
        (
            {"role_arn": "arn:aws-cn:iam::123456789012:role/R"},
            "role_arn 'arn:aws-cn:iam::123456789012:role/R' is in partition 'aws-cn', but region 'us-east-1'",
        ),
    ],
)
def test_invalid_input_raises_before_any_aws_call(
    unreachable_sagemaker: Any, changes: dict[str, Any], message: str
) -> None:
    arguments = {**VALID, **changes}
    with pytest.raises(ValueError) as caught:
        EvaluationPipelineExecution.start(
            **arguments, clients=AwsClients(sagemaker_client=unreachable_sagemaker)
        )
    assert message in str(caught.value)


def test_same_output_path_in_both_places_is_accepted(sm_eval_emulator: EvaluationEmulator) -> None:
    execution = EvaluationPipelineExecution.start(
        **VALID,
        pipeline_parameters={"S3OutputPath": OUTPUT + "/"},
        clients=AwsClients(sagemaker_client=sm_eval_emulator.client("sagemaker")),
    )
    assert execution.s3_output_path == OUTPUT


def test_aws_error_during_start_names_operation_and_pipeline(sm_eval_emulator: EvaluationEmulator) -> None:
    sagemaker = sm_eval_emulator.client("sagemaker", config=Config(retries={"total_max_attempts": 1}))
    EvaluationPipelineExecution.start(**VALID, clients=AwsClients(sagemaker_client=sagemaker))
    sm_eval_emulator.faults.throttle(share=1.0, operations=["UpdatePipeline"])
    changed = {**DEFINITION, "Steps": [*DEFINITION["Steps"], {**DEFINITION["Steps"][0], "Name": "Extra"}]}
    with pytest.raises(EvaluationAWSError) as caught:
        EvaluationPipelineExecution.start(
            **{**VALID, "pipeline_definition": changed}, clients=AwsClients(sagemaker_client=sagemaker)
        )
    assert caught.value.operation == "UpdatePipeline"
    assert caught.value.resource.startswith(kind_of(EvalType.BENCHMARK).pipeline_name_prefix)
    assert caught.value.code == "ThrottlingException"
    assert "testing" not in str(caught.value)


def test_clients_come_from_the_environment_when_none_are_given(sm_eval_aws_env: EvaluationEmulator) -> None:
    sm_eval_aws_env.client("s3").create_bucket(Bucket="bucket")
    execution = EvaluationPipelineExecution.start(**VALID, region="us-east-1")
    execution.wait(poll=0.02, timeout=60)
    assert execution.summary().metrics["custom"]
    listed = list(EvaluationPipelineExecution.get_all(session=boto3.Session(region_name="us-east-1")))
    assert [e.arn for e in listed] == [execution.arn]


def test_get_all_rejects_unknown_eval_type(unreachable_sagemaker: Any) -> None:
    with pytest.raises(ValueError, match="eval_type 'judge'"):
        next(
            iter(
                EvaluationPipelineExecution.get_all(
                    "judge", clients=AwsClients(sagemaker_client=unreachable_sagemaker)
                )
            )
        )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"eval_type": "bench"}, "eval_type"),
        ({"name": "has spaces"}, "name"),
        ({"pipeline_definition": "{nope"}, "pipeline_definition"),
        ({"role_arn": "my-role"}, "role_arn"),
        ({"s3_output_path": "bucket/prefix"}, "s3_output_path"),
        ({"tags": {"k": 1}}, "tags"),
        ({"pipeline_parameters": {"S3OutputPath": "s3://other/x"}}, "pipeline_parameters"),
        ({"client_request_token": "too-short"}, "client_request_token"),
        ({"display_name": "bad name"}, "display_name"),
        ({"description": 3}, "description"),
        ({"unknown_argument": 1}, "unknown_argument"),
    ],
)
def test_start_request_errors_carry_the_field_they_refuse(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        StartRequest(**{**VALID, **changes})
    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)


def test_start_request_fills_the_sdk_defaults() -> None:
    request = StartRequest(**VALID, pipeline_parameters={"Benchmark": 5})
    assert request.display_name.startswith("my-eval-")
    assert request.description == "Evaluation execution: my-eval"
    assert 32 <= len(request.client_request_token) <= 128
    assert request.execution_parameters() == {"Benchmark": "5", "S3OutputPath": OUTPUT}


def test_declared_types_and_defaults_are_accepted(sm_eval_emulator: EvaluationEmulator) -> None:
    """The checks refuse only what the service would: typed values and defaults pass."""
    request = StartRequest(
        **{**VALID, "pipeline_definition": INTEGER_PARAMETER, "pipeline_parameters": {"Shots": 5}}
    )
    assert request.execution_parameters() == {"Shots": "5", "S3OutputPath": OUTPUT}


CN_ROLE = "arn:aws-cn:iam::123456789012:role/SageMakerEvaluationRole"
GOV_ROLE = "arn:aws-us-gov:iam::123456789012:role/SageMakerEvaluationRole"


@pytest.mark.parametrize(
    ("role_arn", "region", "partitions"),
    [
        (CN_ROLE, "us-east-1", "'aws-cn', but region 'us-east-1' is in partition 'aws'"),
        (ROLE, "cn-north-1", "'aws', but region 'cn-north-1' is in partition 'aws-cn'"),
        (ROLE, "us-gov-west-1", "'aws', but region 'us-gov-west-1' is in partition 'aws-us-gov'"),
        (GOV_ROLE, "cn-northwest-1", "'aws-us-gov', but region 'cn-northwest-1' is in partition 'aws-cn'"),
    ],
)
def test_role_of_another_partition_than_the_region_is_refused(
    role_arn: str, region: str, partitions: str
) -> None:
    with pytest.raises(InvalidInputError, match=f"is in partition {partitions}") as caught:
        StartRequest(**{**VALID, "role_arn": role_arn}, region=region)
    assert caught.value.field == "role_arn"
    assert role_arn in str(caught.value)

    sagemaker_in_region = sagemaker_nowhere(region)
    with pytest.raises(InvalidInputError, match=f"is in partition {partitions}"):
        EvaluationPipelineExecution.start(
            **{**VALID, "role_arn": role_arn}, clients=AwsClients(sagemaker_client=sagemaker_in_region)
        )
    with pytest.raises(InvalidInputError, match=f"is in partition {partitions}"):
        EvaluationPipelineExecution.start(**{**VALID, "role_arn": role_arn}, region=region)


@pytest.mark.parametrize(
    ("role_arn", "region"),
    [(ROLE, "us-east-1"), (CN_ROLE, "cn-north-1"), (GOV_ROLE, "us-gov-east-1"), (ROLE, "local-test-1")],
)
def test_role_of_the_region_partition_is_accepted(role_arn: str, region: str) -> None:
    """A region botocore does not know (an emulator's, a newer one) has no partition to check."""
    assert StartRequest(**{**VALID, "role_arn": role_arn}, region=region).role_arn == role_arn
