"""The call log counts every AWS call the emulator receives, per service and operation."""

from __future__ import annotations

import urllib.request

import boto3
import pytest
from emulator_harness import BUCKET, Harness, control

from sagemaker_eval_emulator.server import ACCESS_KEY_ID, SECRET_ACCESS_KEY


def test_sagemaker_calls_are_counted_in_process_and_over_http(harness: Harness) -> None:
    harness.emu.calls.reset()
    name = harness.create()
    arn = harness.start(name)
    for _ in range(3):
        harness.sm.describe_pipeline_execution(PipelineExecutionArn=arn)

    calls = harness.emu.calls
    assert calls.count("sagemaker", "DescribePipelineExecution") == 3
    assert calls.count("sagemaker", "CreatePipeline") == 1
    assert calls.count("sagemaker", "StartPipelineExecution") == 1
    over_http = control(harness, "GET", "calls")
    assert over_http["calls"]["sagemaker"] == {
        "CreatePipeline": 1,
        "DescribePipelineExecution": 3,
        "StartPipelineExecution": 1,
    }
    assert over_http["total"] == 5


def test_calls_passed_to_moto_are_counted_by_operation(harness: Harness) -> None:
    harness.emu.calls.reset()
    harness.s3.put_object(Bucket=BUCKET, Key="a/b.json", Body=b"{}")
    harness.s3.get_object(Bucket=BUCKET, Key="a/b.json")
    harness.s3.head_object(Bucket=BUCKET, Key="a/b.json")
    harness.s3.list_objects_v2(Bucket=BUCKET, Prefix="a/")
    harness.s3.copy_object(Bucket=BUCKET, Key="c.json", CopySource={"Bucket": BUCKET, "Key": "a/b.json"})
    harness.s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "c.json"}]})
    harness.s3.list_buckets()
    harness.emu.client("sts").get_caller_identity()
    harness.emu.client("iam").list_roles()
    events = harness.emu.client("events")
    events.list_rules()
    sqs = harness.emu.client("sqs")
    sqs.create_queue(QueueName="calls")

    assert harness.emu.calls.counts() == {
        "events": {"ListRules": 1},
        "iam": {"ListRoles": 1},
        "s3": {
            "CopyObject": 1,
            "DeleteObjects": 1,
            "GetObject": 1,
            "HeadObject": 1,
            "ListBuckets": 1,
            "ListObjectsV2": 1,
            "PutObject": 1,
        },
        "sqs": {"CreateQueue": 1},
        "sts": {"GetCallerIdentity": 1},
    }


def test_presigned_urls_are_counted(harness: Harness) -> None:
    harness.s3.put_object(Bucket=BUCKET, Key="p.json", Body=b"{}")
    harness.emu.calls.reset()
    url = harness.s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "p.json"})
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"{}"
    assert harness.emu.calls.counts() == {"s3": {"GetObject": 1}}


def test_faulted_calls_are_counted_and_the_emulators_own_writes_are_not(harness: Harness) -> None:
    name = harness.create()
    harness.emu.calls.reset()
    harness.emu.faults.throttle(share=1.0, operations=["ListPipelines"])
    for _ in range(2):
        with pytest.raises(harness.sm.exceptions.ClientError, match="Throttling"):
            harness.sm.list_pipelines()
    harness.emu.faults.clear()
    harness.wait_terminal(harness.start(name))  # the steps write result files to S3

    counts = harness.emu.calls.counts()
    assert counts["sagemaker"]["ListPipelines"] == 2
    assert "s3" not in counts


def test_calls_reset_over_http_and_with_the_emulator(harness: Harness) -> None:
    harness.sm.list_pipelines()
    assert control(harness, "DELETE", "calls") == {"calls": {}, "total": 0}
    assert harness.emu.calls.total() == 0
    harness.sm.list_pipelines()
    assert harness.emu.calls.actions() == ["sagemaker:ListPipelines"]
    harness.emu.reset()
    assert harness.emu.calls.total() == 0


def test_clients_of_other_regions_are_counted(harness: Harness) -> None:
    harness.emu.calls.reset()
    sm = boto3.session.Session().client(
        "sagemaker",
        endpoint_url=harness.emu.endpoint_url,
        region_name="eu-west-1",
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    )
    sm.list_pipelines()
    assert harness.emu.calls.counts() == {"sagemaker": {"ListPipelines": 1}}
