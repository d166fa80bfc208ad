"""Concurrent CreatePipeline calls of one name create exactly one pipeline, as in SageMaker.

The losers get what SageMaker answers for a taken name: a ValidationException saying that
"Pipeline names must be unique within an AWS account and region" (the error AWS's own SDK examples
catch to fall back to the existing pipeline); the same ClientRequestToken is idempotent instead.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from emulator_harness import NO_RETRIES, ROLE_ARN, Harness, definition, pipeline_name, token

from airflow_provider_sm_eval.evaluation.constants import EvalType
from sagemaker_eval_emulator.server import ACCESS_KEY_ID, SECRET_ACCESS_KEY

WORKERS = 20


def race(harness: Harness, name: str, tokens: list[str]) -> list[dict[str, Any] | ClientError]:
    """Each worker, with its own client, calls CreatePipeline once all are released together."""
    session = boto3.session.Session()  # one session (its model cache), one client per worker
    options = {
        "endpoint_url": harness.emu.endpoint_url,
        "region_name": harness.emu.region,
        "aws_access_key_id": ACCESS_KEY_ID,
        "aws_secret_access_key": SECRET_ACCESS_KEY,
        "config": NO_RETRIES,
    }
    clients = [session.client("sagemaker", **options) for _ in tokens]
    barrier = threading.Barrier(len(tokens))

    def create(index: int) -> dict[str, Any] | ClientError:
        barrier.wait(timeout=60)
        try:
            return dict(
                clients[index].create_pipeline(
                    PipelineName=name,
                    PipelineDefinition=definition("benchmark"),
                    RoleArn=ROLE_ARN,
                    ClientRequestToken=tokens[index],
                )
            )
        except ClientError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        return list(pool.map(create, range(len(tokens))))


def pipelines_named(harness: Harness, name: str) -> list[str]:
    summaries = harness.sm.list_pipelines(PipelineNamePrefix=name, MaxResults=100)["PipelineSummaries"]
    return [s["PipelineName"] for s in summaries]


def test_distinct_tokens_create_one_pipeline_and_the_others_fail_as_aws_does(harness: Harness) -> None:
    name = pipeline_name(EvalType.BENCHMARK)
    outcomes = race(harness, name, [token() for _ in range(WORKERS)])

    successes = [o for o in outcomes if not isinstance(o, ClientError)]
    failures = [o for o in outcomes if isinstance(o, ClientError)]
    assert len(successes) == 1
    assert len(failures) == WORKERS - 1
    for failure in failures:
        assert failure.response["Error"]["Code"] == "ValidationException"
        assert "Pipeline names must be unique within an AWS account and region" in str(failure)
        assert failure.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert pipelines_named(harness, name) == [name]
    versions = harness.sm.list_pipeline_versions(PipelineName=name)["PipelineVersionSummaries"]
    assert [v["PipelineVersionId"] for v in versions] == [1]


def test_one_token_creates_one_pipeline_and_every_call_succeeds(harness: Harness) -> None:
    name = pipeline_name(EvalType.BENCHMARK)
    shared = token()
    outcomes = race(harness, name, [shared] * WORKERS)

    assert [o for o in outcomes if isinstance(o, ClientError)] == []
    arns = {o["PipelineArn"] for o in outcomes if not isinstance(o, ClientError)}
    assert len(arns) == 1
    assert pipelines_named(harness, name) == [name]
    for other_case in (name.lower(), name.upper()):  # names are unique regardless of case
        with pytest.raises(ClientError, match="must be unique"):
            harness.sm.create_pipeline(
                PipelineName=other_case,
                PipelineDefinition=definition("benchmark"),
                RoleArn=ROLE_ARN,
                ClientRequestToken=token(),
            )
