"""Bad requests get the error codes AWS gives, and botocore parses every error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError
from emulator_harness import BUCKET, NO_RETRIES, ROLE_ARN, Harness, definition, token

from airflow_provider_sm_eval.evaluation.constants import EvalType
from airflow_provider_sm_eval.evaluation.types.registry import kind_of

MISSING_ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/nope/execution/abc123abc123"


def error_code(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def with_steps(*steps: dict[str, Any]) -> str:
    return json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": list(steps)})


@pytest.mark.parametrize(
    "operation",
    [
        lambda sm: sm.describe_pipeline(PipelineName="nope"),
        lambda sm: sm.update_pipeline(PipelineName="nope", PipelineDefinition=definition("benchmark")),
        lambda sm: sm.delete_pipeline(PipelineName="nope", ClientRequestToken=token()),
        lambda sm: sm.start_pipeline_execution(PipelineName="nope", ClientRequestToken=token()),
        lambda sm: sm.list_pipeline_executions(PipelineName="nope"),
        lambda sm: sm.describe_pipeline_execution(PipelineExecutionArn=MISSING_ARN),
        lambda sm: sm.list_pipeline_execution_steps(PipelineExecutionArn=MISSING_ARN),
        lambda sm: sm.stop_pipeline_execution(PipelineExecutionArn=MISSING_ARN, ClientRequestToken=token()),
        lambda sm: sm.retry_pipeline_execution(PipelineExecutionArn=MISSING_ARN, ClientRequestToken=token()),
        lambda sm: sm.describe_pipeline_definition_for_execution(PipelineExecutionArn=MISSING_ARN),
        lambda sm: sm.list_tags(ResourceArn="arn:aws:sagemaker:us-east-1:123456789012:pipeline/nope"),
    ],
)
def test_unknown_resources_are_resource_not_found(harness: Harness, operation: Any) -> None:
    code, message = error_code(lambda: operation(harness.sm))
    assert code == "ResourceNotFound"
    assert "nope" in message


def test_pipeline_arn_works_as_pipeline_name(harness: Harness) -> None:
    name = harness.create()
    arn = harness.sm.describe_pipeline(PipelineName=name)["PipelineArn"]
    assert harness.sm.describe_pipeline(PipelineName=arn)["PipelineName"] == name


def test_malformed_execution_arn_is_a_validation_error(harness: Harness) -> None:
    code, message = error_code(
        lambda: harness.sm.describe_pipeline_execution(PipelineExecutionArn="not-an-arn")
    )
    assert code == "ValidationException"
    assert "not-an-arn" in message


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("{not json", "invalid JSON"),
        ("[]", "not a JSON object"),
        (json.dumps({"Version": "2020-12-01", "Steps": []}), "non-empty"),
        (with_steps({"Name": "A", "Type": "Training", "DependsOn": ["Missing"]}), "'Missing'"),
        (with_steps({"Name": "A", "Type": "Lineage"}, {"Name": "A", "Type": "Lineage"}), "duplicate step"),
        (with_steps({"Name": "A", "Type": "Lineage", "DependsOn": ["A"]}), "itself"),
        (
            with_steps(
                {"Name": "A", "Type": "Lineage", "DependsOn": ["B"]},
                {"Name": "B", "Type": "Lineage", "Arguments": {"x": {"Get": "Steps.A.TrainingJobName"}}},
            ),
            "cyclic",
        ),
        (
            with_steps({"Name": "A", "Type": "Lineage", "Arguments": {"x": {"Get": "Parameters.Nope"}}}),
            "Nope",
        ),
        (
            with_steps({"Name": "A", "Type": "Lineage", "Arguments": {"x": {"Get": "Steps.Ghost.Arn"}}}),
            "Ghost",
        ),
        (with_steps({"Name": "A"}), "Type"),
        (
            json.dumps(
                {
                    "Parameters": [{"Name": "N", "Type": "Integer", "DefaultValue": "x"}],
                    "Steps": [{"Name": "A", "Type": "T"}],
                }
            ),
            "Integer",
        ),
    ],
)
def test_invalid_definitions_are_validation_errors(harness: Harness, document: str, expected: str) -> None:
    code, message = error_code(
        lambda: harness.sm.create_pipeline(
            PipelineName="bad-definition",
            PipelineDefinition=document,
            RoleArn=ROLE_ARN,
            ClientRequestToken=token(),
        )
    )
    assert code == "ValidationException"
    assert expected in message
    assert harness.sm.list_pipelines()["PipelineSummaries"] == []


def test_invalid_definition_on_update_keeps_the_old_version(harness: Harness) -> None:
    name = harness.create()
    code, _ = error_code(lambda: harness.sm.update_pipeline(PipelineName=name, PipelineDefinition="{"))
    assert code == "ValidationException"
    assert harness.sm.describe_pipeline(PipelineName=name)["PipelineDefinition"] == definition("benchmark")


def test_duplicate_pipeline_name_is_a_validation_error_unless_same_token(harness: Harness) -> None:
    request = {
        "PipelineName": "dup-pipeline",
        "PipelineDefinition": definition("benchmark"),
        "RoleArn": ROLE_ARN,
        "ClientRequestToken": token(),
    }
    arn = harness.sm.create_pipeline(**request)["PipelineArn"]
    assert harness.sm.create_pipeline(**request)["PipelineArn"] == arn
    code, message = error_code(
        lambda: harness.sm.create_pipeline(**{**request, "ClientRequestToken": token()})
    )
    assert code == "ValidationException"
    assert "must be unique" in message


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"PipelineName": "bad_name!"}, "PipelineName"),
        ({"RoleArn": "arn:aws:iam::123:user/x"}, "RoleArn"),
        (
            {"Tags": [{"Key": "k", "Value": "v"}] * 1 + [{"Key": f"k{i}", "Value": "v"} for i in range(50)]},
            "length less than or equal to 50",  # the model's limit of Tags, in AWS's wording
        ),
    ],
)
def test_bad_create_arguments_are_validation_errors(harness: Harness, overrides: dict, expected: str) -> None:
    request = {
        "PipelineName": "good-name",
        "PipelineDefinition": definition("benchmark"),
        "RoleArn": ROLE_ARN,
        "ClientRequestToken": token(),
        **overrides,
    }
    code, message = error_code(lambda: harness.sm.create_pipeline(**request))
    assert code == "ValidationException"
    assert expected in message


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ([], "S3OutputPath"),
        (
            [{"Name": "S3OutputPath", "Value": f"s3://{BUCKET}/x"}, {"Name": "Unknown", "Value": "1"}],
            "Unknown",
        ),
        ([{"Name": "S3OutputPath", "Value": "a"}, {"Name": "S3OutputPath", "Value": "b"}], "more than once"),
    ],
)
def test_pipeline_parameters_are_checked_against_the_definition(
    harness: Harness, parameters: list, expected: str
) -> None:
    name = harness.create()
    code, message = error_code(lambda: harness.start(name, PipelineParameters=parameters))
    assert code == "ValidationException"
    assert expected in message
    assert harness.sm.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"] == []


def test_typed_parameters_are_checked(harness: Harness) -> None:
    document = json.dumps(
        {
            "Version": "2020-12-01",
            "Parameters": [{"Name": "Count", "Type": "Integer", "DefaultValue": 3}],
            "Steps": [{"Name": "Only", "Type": "Lineage", "Arguments": {"n": {"Get": "Parameters.Count"}}}],
        }
    )
    name = harness.create(PipelineDefinition=document)
    code, message = error_code(
        lambda: harness.start(name, PipelineParameters=[{"Name": "Count", "Value": "three"}])
    )
    assert (code, "Integer" in message) == ("ValidationException", True)
    assert (
        harness.wait_terminal(harness.start(name, PipelineParameters=[]))["PipelineExecutionStatus"]
        == "Succeeded"
    )


def test_short_client_request_token_is_a_validation_error(harness: Harness) -> None:
    name = harness.create()
    unchecked = harness.emu.client("sagemaker", config=Config(parameter_validation=False))
    code, message = error_code(
        lambda: unchecked.start_pipeline_execution(PipelineName=name, ClientRequestToken="short")
    )
    assert code == "ValidationException"
    assert "ClientRequestToken" in message


def test_bad_pagination_arguments_are_validation_errors(harness: Harness) -> None:
    code, _ = error_code(lambda: harness.sm.list_pipelines(NextToken="garbage"))
    assert code == "ValidationException"
    with pytest.raises(ParamValidationError):  # botocore checks the minimum itself
        harness.sm.list_pipelines(MaxResults=0)


def test_pipeline_definition_is_read_from_s3(harness: Harness) -> None:
    harness.s3.put_object(
        Bucket=BUCKET, Key="definitions/benchmark.json", Body=definition("benchmark").encode()
    )
    harness.sm.create_pipeline(
        PipelineName="from-s3",
        PipelineDefinitionS3Location={"Bucket": BUCKET, "ObjectKey": "definitions/benchmark.json"},
        RoleArn=ROLE_ARN,
        ClientRequestToken=token(),
    )
    assert harness.sm.describe_pipeline(PipelineName="from-s3")["PipelineDefinition"] == definition(
        "benchmark"
    )
    arn = harness.start("from-s3")
    assert harness.wait_terminal(arn)["PipelineExecutionStatus"] == "Succeeded"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ({"PipelineDefinitionS3Location": {"Bucket": BUCKET, "ObjectKey": "missing.json"}}, "missing.json"),
        ({}, "exactly one"),
        (
            {
                "PipelineDefinition": "{}",
                "PipelineDefinitionS3Location": {"Bucket": BUCKET, "ObjectKey": "x.json"},
            },
            "exactly one",
        ),
    ],
)
def test_unreadable_or_ambiguous_definition_source_is_a_validation_error(
    harness: Harness, source: dict, expected: str
) -> None:
    code, message = error_code(
        lambda: harness.sm.create_pipeline(
            PipelineName="bad-source", RoleArn=ROLE_ARN, ClientRequestToken=token(), **source
        )
    )
    assert code == "ValidationException"
    assert expected in message


def test_list_pipelines_prefix_is_not_a_substring_match(harness: Harness) -> None:
    harness.create(PipelineName=f"x-{kind_of(EvalType.BENCHMARK).pipeline_name_prefix}")
    listed = harness.sm.list_pipelines(PipelineNamePrefix=kind_of(EvalType.BENCHMARK).pipeline_name_prefix)
    assert listed["PipelineSummaries"] == []


def test_execution_arn_of_another_region_is_not_found(harness: Harness) -> None:
    arn = harness.start(harness.create())
    assert harness.status(arn)  # found in its own region
    elsewhere = harness.emu.client("sagemaker", region_name="eu-west-1", config=NO_RETRIES)
    for call in (
        lambda: elsewhere.describe_pipeline_execution(PipelineExecutionArn=arn),
        lambda: elsewhere.list_pipeline_execution_steps(PipelineExecutionArn=arn),
        lambda: elsewhere.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token()),
    ):
        code, message = error_code(call)
        assert code == "ResourceNotFound"
        assert arn in message
