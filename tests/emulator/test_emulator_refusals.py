"""The emulator refuses what SageMaker refuses: unknown operations, wrong member types, constraint
violations and oversized definitions get SageMaker's 400 errors, never a 200 or an HTML 500."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from emulator_harness import BUCKET, ROLE_ARN, Harness, definition, token

from sagemaker_eval_emulator.validation import max_definition_length

AUTHORIZATION = (
    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sagemaker/aws4_request, "
    "SignedHeaders=host;x-amz-target, Signature=0"
)
#: A client that sends whatever it is given, as a client of another SDK or a hand-written one might.
UNCHECKED = Config(parameter_validation=False, retries={"total_max_attempts": 1, "mode": "standard"})


def raw_call(harness: Harness, target: str, body: bytes) -> tuple[int, str, dict[str, Any]]:
    url = urlsplit(harness.emu.endpoint_url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
    headers = {
        "X-Amz-Target": target,
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": AUTHORIZATION,
    }
    connection.request("POST", "/", body=body, headers=headers)
    response = connection.getresponse()
    content_type, payload = response.getheader("Content-Type", ""), response.read()
    connection.close()
    return response.status, content_type, json.loads(payload)


def error_of(call: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as info:
        call()
    error, metadata = info.value.response["Error"], info.value.response["ResponseMetadata"]
    return error["Code"], error["Message"], metadata["HTTPStatusCode"]


@pytest.mark.parametrize("operation", ["NoSuchOperation", "ListBuckets", "describePipeline", ""])
def test_operations_sagemaker_does_not_have_are_unknown(harness: Harness, operation: str) -> None:
    status, content_type, payload = raw_call(harness, f"SageMaker.{operation}", b"{}")
    assert (status, content_type) == (400, "application/x-amz-json-1.1")
    assert payload["__type"] == "UnknownOperationException"


def test_operations_nobody_implements_say_so_without_retries(harness: Harness) -> None:
    sm = harness.emu.client("sagemaker")  # default retries: a 5xx other than 501 would be retried
    code, message, status = error_of(
        lambda: sm.send_pipeline_execution_step_success(CallbackToken="t" * 10, ClientRequestToken=token())
    )
    assert (code, status) == ("NotImplementedException", 501)
    assert "SendPipelineExecutionStepSuccess" in message
    assert harness.emu.calls.count("sagemaker", "SendPipelineExecutionStepSuccess") == 1


@pytest.mark.parametrize(
    ("call", "where"),
    [
        (lambda sm: sm.describe_pipeline_execution(PipelineExecutionArn=123), "PipelineExecutionArn"),
        (lambda sm: sm.list_pipelines(MaxResults="10"), "MaxResults"),
        (lambda sm: sm.list_pipelines(MaxResults=True), "MaxResults"),
        (lambda sm: sm.describe_pipeline(PipelineName=["p"]), "PipelineName"),
        (
            lambda sm: sm.start_pipeline_execution(
                PipelineName="p", ClientRequestToken=token(), PipelineParameters=[{"Name": "x", "Value": 3}]
            ),
            "PipelineParameters.1.member.Value",
        ),
        (lambda sm: sm.list_training_jobs(MaxResults="many"), "MaxResults"),  # an operation moto serves
    ],
)
def test_members_of_the_wrong_type_are_serialization_errors(harness: Harness, call: Any, where: str) -> None:
    sm = harness.emu.client("sagemaker", config=UNCHECKED)
    code, message, status = error_of(lambda: call(sm))
    assert (code, status) == ("SerializationException", 400)
    assert f"'{where}'" in message


def test_bodies_that_do_not_fit_the_input_are_serialization_errors(harness: Harness) -> None:
    object_for_a_list = {
        "PipelineName": "p",
        "ClientRequestToken": token(),
        "PipelineParameters": {"Name": "x"},
    }
    for target, body in (
        ("SageMaker.ListPipelines", b"{not json"),
        ("SageMaker.ListPipelines", b"[]"),
        ("SageMaker.ListPipelines", b"\xff"),
        ("SageMaker.StartPipelineExecution", json.dumps(object_for_a_list).encode()),
    ):
        status, _, payload = raw_call(harness, target, body)
        assert (status, payload["__type"]) == (400, "SerializationException")


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda sm: sm.list_pipelines(MaxResults=1000), "at 'MaxResults' failed to satisfy constraint"),
        (lambda sm: sm.list_pipelines(SortOrder="Sideways"), "enum value set: [Ascending, Descending]"),
        (lambda sm: sm.describe_pipeline(), "Value null at 'PipelineName'"),
        (
            lambda sm: sm.start_pipeline_execution(PipelineName="p", ClientRequestToken="short"),
            "at 'ClientRequestToken' failed to satisfy constraint: Member must have length greater than",
        ),
        (
            lambda sm: sm.describe_pipeline_execution(PipelineExecutionArn="arn:aws:s3:::bucket"),
            "Member must satisfy regular expression pattern",
        ),
    ],
)
def test_constraint_violations_are_validation_errors(harness: Harness, call: Any, expected: str) -> None:
    sm = harness.emu.client("sagemaker", config=UNCHECKED)
    code, message, status = error_of(lambda: call(sm))
    assert (code, status) == ("ValidationException", 400)
    assert expected in message


def test_every_violation_is_reported_at_once(harness: Harness) -> None:
    sm = harness.emu.client("sagemaker", config=UNCHECKED)
    _, message, _ = error_of(lambda: sm.list_pipelines(MaxResults=0, SortOrder="Up", SortBy="Size"))
    assert message.startswith("3 validation errors detected: ")


def oversized_definition() -> str:
    document = json.loads(definition("benchmark"))
    text = json.dumps(document)
    document["Metadata"] = {"padding": "x" * (max_definition_length() - len(text) + 100)}
    return json.dumps(document)


def test_definitions_over_sagemakers_size_limit_are_refused(harness: Harness) -> None:
    big = oversized_definition()
    assert len(big) > max_definition_length() == 1_048_576
    code, message, status = error_of(
        lambda: harness.sm.create_pipeline(
            PipelineName="too-big", PipelineDefinition=big, RoleArn=ROLE_ARN, ClientRequestToken=token()
        )
    )
    assert (code, status) == ("ValidationException", 400)
    assert "PipelineDefinition" in message and "less than or equal to 1048576" in message

    harness.s3.put_object(Bucket=BUCKET, Key="definitions/big.json", Body=big.encode())
    code, message, _ = error_of(
        lambda: harness.sm.create_pipeline(
            PipelineName="too-big",
            PipelineDefinitionS3Location={"Bucket": BUCKET, "ObjectKey": "definitions/big.json"},
            RoleArn=ROLE_ARN,
            ClientRequestToken=token(),
        )
    )
    assert code == "ValidationException"
    assert "at most 1048576" in message
    assert harness.sm.list_pipelines()["PipelineSummaries"] == []


def test_a_definition_at_the_limit_is_accepted(harness: Harness) -> None:
    document = json.loads(definition("benchmark"))
    document["Metadata"] = {"padding": ""}
    document["Metadata"]["padding"] = "x" * (max_definition_length() - len(json.dumps(document)))
    text = json.dumps(document)
    assert len(text) == max_definition_length()
    harness.sm.create_pipeline(
        PipelineName="at-the-limit", PipelineDefinition=text, RoleArn=ROLE_ARN, ClientRequestToken=token()
    )
    assert harness.sm.describe_pipeline(PipelineName="at-the-limit")["PipelineDefinition"] == text
