"""The emulator used as DAG authors would: aiobotocore, the amazon provider's hook, the CLI,
the pytest plugin's environment fixture, and moto behind the same endpoint."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from emulator_harness import BUCKET, ROLE_ARN, Harness, definition, pipeline_name, token

from airflow_provider_sm_eval.evaluation.constants import EvalType, StepName
from sagemaker_eval_emulator import EvaluationEmulator
from sagemaker_eval_emulator.control import CONTROL_TOKEN_HEADER, control_request

REPO = Path(__file__).resolve().parents[2]


async def test_aiobotocore_runs_the_whole_lifecycle(sm_eval_emulator: EvaluationEmulator) -> None:
    from aiobotocore.session import get_session

    options = {
        "endpoint_url": sm_eval_emulator.endpoint_url,
        "region_name": sm_eval_emulator.region,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    session = get_session()
    async with (
        session.create_client("sagemaker", **options) as sm,
        session.create_client("s3", **options) as s3,
    ):
        await s3.create_bucket(Bucket=BUCKET)
        name = pipeline_name(EvalType.BENCHMARK)
        await sm.create_pipeline(
            PipelineName=name,
            PipelineDefinition=definition("benchmark"),
            RoleArn=ROLE_ARN,
            ClientRequestToken=token(),
        )
        arn = (
            await sm.start_pipeline_execution(
                PipelineName=name,
                PipelineParameters=[{"Name": "S3OutputPath", "Value": f"s3://{BUCKET}/async"}],
                ClientRequestToken=token(),
            )
        )["PipelineExecutionArn"]
        for _ in range(500):
            described = await sm.describe_pipeline_execution(PipelineExecutionArn=arn)
            if described["PipelineExecutionStatus"] != "Executing":
                break
            await asyncio.sleep(0.02)
        assert described["PipelineExecutionStatus"] == "Succeeded"

        steps = []
        async for page in sm.get_paginator("list_pipeline_execution_steps").paginate(
            PipelineExecutionArn=arn, PaginationConfig={"PageSize": 2}
        ):
            steps.extend(page["PipelineExecutionSteps"])
        assert {s["StepName"] for s in steps} == {
            s.value for s in StepName if "Inference" not in s.value and "Metrics" not in s.value
        }
        custom = next(s for s in steps if s["StepName"] == StepName.EVALUATE_CUSTOM_MODEL.value)
        job = await sm.describe_training_job(
            TrainingJobName=custom["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[1]
        )
        assert job["OutputDataConfig"]["S3OutputPath"] == f"s3://{BUCKET}/async"

        listed = await s3.list_objects_v2(
            Bucket=BUCKET, Prefix=f"async/{job['TrainingJobName']}/output/output/"
        )
        assert len(listed["Contents"]) == 1

        with pytest.raises(ClientError) as info:
            await sm.describe_pipeline(PipelineName="missing")
        assert info.value.response["Error"]["Code"] == "ResourceNotFound"


def test_environment_fixture_points_default_clients_at_the_emulator(
    sm_eval_aws_env: EvaluationEmulator,
) -> None:
    assert os.environ["AWS_ENDPOINT_URL"] == sm_eval_aws_env.endpoint_url
    sm = boto3.client("sagemaker")
    assert sm.list_pipelines()["PipelineSummaries"] == []
    assert boto3.client("sts").get_caller_identity()["Account"] == sm_eval_aws_env.account_id


def test_amazon_provider_hook_talks_to_the_emulator(sm_eval_aws_env: EvaluationEmulator) -> None:
    from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook

    hook = SageMakerHook(aws_conn_id=None)
    name = pipeline_name(EvalType.LLM_AS_JUDGE)
    hook.conn.create_pipeline(
        PipelineName=name,
        PipelineDefinition=definition("llm_as_judge"),
        RoleArn=ROLE_ARN,
        ClientRequestToken=token(),
    )
    assert hook.conn.describe_pipeline(PipelineName=name)["PipelineName"] == name


def test_moto_serves_everything_else_on_the_same_endpoint(harness: Harness) -> None:
    iam = harness.emu.client("iam")
    role = iam.create_role(RoleName="EvalRole", AssumeRolePolicyDocument="{}")["Role"]
    assert role["Arn"] == "arn:aws:iam::123456789012:role/EvalRole"
    assert harness.emu.client("sts").get_caller_identity()["Account"] == "123456789012"
    assert harness.sm.list_training_jobs()["TrainingJobSummaries"] == []  # a moto SageMaker call
    with pytest.raises(ClientError) as info:
        harness.sm.describe_training_job(TrainingJobName="not-a-pipeline-job")  # moto answers
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert "Could not find training job" in info.value.response["Error"]["Message"]


def test_tags_on_pipelines_add_and_list(harness: Harness) -> None:
    name = harness.create(Tags=[{"Key": "SagemakerModelEvaluation", "Value": "true"}])
    arn = harness.sm.describe_pipeline(PipelineName=name)["PipelineArn"]
    harness.sm.add_tags(
        ResourceArn=arn,
        Tags=[{"Key": "owner", "Value": "ml"}, {"Key": "SagemakerModelEvaluation", "Value": "yes"}],
    )
    assert harness.sm.list_tags(ResourceArn=arn, MaxResults=50)["Tags"] == [
        {"Key": "SagemakerModelEvaluation", "Value": "yes"},
        {"Key": "owner", "Value": "ml"},
    ]
    harness.sm.delete_tags(ResourceArn=arn, TagKeys=["owner"])
    assert harness.sm.list_tags(ResourceArn=arn)["Tags"] == [
        {"Key": "SagemakerModelEvaluation", "Value": "yes"}
    ]


def test_region_comes_from_the_request_signature(harness: Harness) -> None:
    west = harness.emu.client("sagemaker", region_name="eu-west-1")
    name = f"regional-{uuid.uuid4().hex[:8]}"
    arn = west.create_pipeline(
        PipelineName=name,
        PipelineDefinition=definition("benchmark"),
        RoleArn=ROLE_ARN,
        ClientRequestToken=token(),
    )["PipelineArn"]
    assert arn.startswith("arn:aws:sagemaker:eu-west-1:123456789012:pipeline/")
    assert harness.sm.list_pipelines()["PipelineSummaries"] == []  # us-east-1 sees nothing


def test_cli_prints_its_control_token_and_endpoint_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sagemaker_eval_emulator", "--port", "0", "--step-seconds", "0.05"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert process.stdout is not None
        token_line, line = process.stdout.readline().strip(), process.stdout.readline().strip()
        assert token_line.startswith("control token: ")
        assert line.startswith("endpoint: http://127.0.0.1:")
        endpoint = line.removeprefix("endpoint: ")
        assert control_request(endpoint, token_line.removeprefix("control token: "), "GET", "health") == {
            "status": "ok"
        }
        sm = boto3.client(
            "sagemaker",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        assert sm.list_pipelines()["PipelineSummaries"] == []
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_cli_help_documents_the_control_token() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sagemaker_eval_emulator", "--help"],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert "control token: TOKEN" in " ".join(result.stdout.split())
    assert CONTROL_TOKEN_HEADER in result.stdout


def test_cli_rejects_bad_arguments() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sagemaker_eval_emulator", "--step-seconds", "-1"],
        check=False,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 2
    assert "step_seconds" in result.stderr


def test_pytest_plugin_serves_other_test_suites(tmp_path: Path) -> None:
    (tmp_path / "test_author.py").write_text(
        textwrap.dedent(
            """
            import boto3

            def test_uses_the_emulator(sm_eval_aws_env):
                assert boto3.client("sagemaker").list_pipelines()["PipelineSummaries"] == []
                sm_eval_aws_env.faults.throttle(share=1.0)
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
