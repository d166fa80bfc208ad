"""Injected faults, in-process and over the HTTP control API, and reset."""

from __future__ import annotations

import json
import time
import urllib.error
from typing import Any

import pytest
from botocore.exceptions import ClientError
from emulator_harness import Harness, control

from airflow_provider_sm_eval.evaluation.constants import EvalType, StepName
from sagemaker_eval_emulator import FaultController


def test_failed_step_fails_the_execution_with_its_reason(harness: Harness) -> None:
    harness.emu.faults.fail_step(StepName.EVALUATE_BASE_MODEL.value, "ClientError: image not found")
    arn = harness.start(harness.create())

    final = harness.wait_terminal(arn)

    assert final["PipelineExecutionStatus"] == "Failed"
    assert "EvaluateBaseModel" in final["FailureReason"]
    assert "ClientError: image not found" in final["FailureReason"]
    steps = harness.steps(arn)
    assert steps[StepName.EVALUATE_BASE_MODEL.value]["StepStatus"] == "Failed"
    assert steps[StepName.EVALUATE_BASE_MODEL.value]["FailureReason"] == "ClientError: image not found"
    assert steps[StepName.EVALUATE_CUSTOM_MODEL.value]["StepStatus"] == "Succeeded"  # ran in parallel
    assert StepName.ASSOCIATE_LINEAGE.value not in steps
    summary = harness.sm.list_pipeline_executions(PipelineName=arn.split("/")[1])[
        "PipelineExecutionSummaries"
    ][0]
    assert summary["PipelineExecutionFailureReason"] == final["FailureReason"]


def test_step_fault_can_target_one_pipeline(harness: Harness) -> None:
    target, other = harness.create(), harness.create()
    harness.emu.faults.fail_step(StepName.EVALUATE_CUSTOM_MODEL.value, "boom", pipeline_name=target)
    failing, passing = harness.start(target), harness.start(other)
    assert harness.wait_terminal(failing)["PipelineExecutionStatus"] == "Failed"
    assert harness.wait_terminal(passing)["PipelineExecutionStatus"] == "Succeeded"


def test_tolerated_failure_ends_completed_with_failures(harness: Harness) -> None:
    harness.emu.faults.fail_step(
        StepName.EVALUATE_BASE_INFERENCE_MODEL.value, "judge quota", continue_on_failure=True
    )
    arn = harness.start(harness.create(EvalType.LLM_AS_JUDGE))

    final = harness.wait_terminal(arn)

    assert final["PipelineExecutionStatus"] == "CompletedWithFailures"
    assert "EvaluateBaseInferenceModel" in final["FailureReason"]
    steps = harness.steps(arn)
    assert steps[StepName.EVALUATE_CUSTOM_MODEL_METRICS.value]["StepStatus"] == "Succeeded"
    assert StepName.EVALUATE_BASE_MODEL_METRICS.value not in steps


def test_injected_call_errors_reach_the_client_with_their_code(harness: Harness) -> None:
    name = harness.create()
    harness.emu.faults.fail_call(
        "StartPipelineExecution", "ResourceLimitExceeded", "too many executions", times=2
    )
    for _ in range(2):
        with pytest.raises(harness.sm.exceptions.ResourceLimitExceeded, match="too many executions"):
            harness.start(name)
    assert harness.status(harness.start(name)) == "Executing"


def test_injected_call_errors_over_http(harness: Harness) -> None:
    name = harness.create()
    control(
        harness, "POST", "faults/fail-call", {"operation": "DescribePipeline", "code": "ConflictException"}
    )
    with pytest.raises(harness.sm.exceptions.ConflictException, match="Injected fault"):
        harness.sm.describe_pipeline(PipelineName=name)
    assert harness.sm.describe_pipeline(PipelineName=name)["PipelineName"] == name


def test_throttle_share_of_calls_deterministically(harness: Harness) -> None:
    name = harness.create()
    harness.emu.faults.throttle(share=0.5, operations=["DescribePipeline"])
    outcomes = []
    for _ in range(6):
        try:
            harness.sm.describe_pipeline(PipelineName=name)
            outcomes.append("ok")
        except ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])
    assert outcomes == ["ok", "ThrottlingException"] * 3
    harness.sm.list_pipelines()  # other operations are not throttled


def test_throttle_calls_above_a_rate() -> None:
    now = [100.0]
    faults = FaultController(clock=lambda: now[0])
    faults.throttle(above_per_second=2, operations=["ListPipelines"])

    first_second = [faults.should_throttle("ListPipelines") for _ in range(4)]
    other_operation = faults.should_throttle("DescribePipeline")
    now[0] += 1.0
    next_second = [faults.should_throttle("ListPipelines") for _ in range(3)]

    assert first_second == [False, False, True, True]
    assert other_operation is False
    assert next_second == [False, False, True]


def test_rate_throttle_over_http(harness: Harness) -> None:
    harness.emu.faults.throttle(above_per_second=0, operations=["ListPipelines"])
    with pytest.raises(ClientError, match="ThrottlingException"):
        harness.sm.list_pipelines()


def test_throttled_calls_are_retried_by_botocore(harness: Harness) -> None:
    harness.emu.faults.throttle(share=0.5)
    retrying = harness.emu.client("sagemaker")  # default retry configuration
    assert retrying.list_pipelines()["PipelineSummaries"] == []


def test_delay_holds_matching_responses(harness: Harness) -> None:
    harness.emu.faults.delay(0.3, operations=["ListPipelines"])
    started = time.monotonic()
    harness.sm.list_pipelines()
    assert time.monotonic() - started >= 0.3


def test_clear_removes_every_fault(harness: Harness) -> None:
    harness.emu.faults.throttle(share=1.0)
    harness.emu.faults.fail_step("EvaluateBaseModel", "x")
    harness.emu.faults.clear()
    assert harness.emu.faults.describe() == {
        "step_failures": [],
        "call_failures": [],
        "throttles": [],
        "delays": [],
    }
    arn = harness.start(harness.create())
    assert harness.wait_terminal(arn)["PipelineExecutionStatus"] == "Succeeded"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: f.fail_step("", "reason"), "step_name"),
        (lambda f: f.fail_step("S", "reason", times=0), "times"),
        (lambda f: f.throttle(), "exactly one"),
        (lambda f: f.fail_call("StartPipelineExecution", ""), "code"),
        (lambda f: f.throttle(share=1.5), "share"),
        (lambda f: f.delay(-1), "seconds"),
    ],
)
def test_bad_fault_settings_are_rejected(harness: Harness, call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(harness.emu.faults)


def test_faults_over_http(harness: Harness) -> None:
    name = harness.create()
    control(harness, "POST", "faults/fail-step", {"step_name": "EvaluateCustomModel", "reason": "http fault"})
    control(harness, "POST", "faults/throttle", {"share": 1.0, "operations": ["ListPipelines"]})
    described = control(
        harness, "POST", "faults/delay", {"seconds": 0.01, "operations": ["DescribePipeline"]}
    )
    assert described["step_failures"][0]["reason"] == "http fault"
    assert described["throttles"] == [
        {"share": 1.0, "above_per_second": None, "operations": ["ListPipelines"]}
    ]
    assert described["delays"] == [{"seconds": 0.01, "operations": ["DescribePipeline"]}]

    with pytest.raises(ClientError, match="ThrottlingException"):
        harness.sm.list_pipelines()
    arn = harness.start(name)
    assert "http fault" in harness.wait_terminal(arn)["FailureReason"]

    assert control(harness, "DELETE", "faults") == {
        "step_failures": [],
        "call_failures": [],
        "throttles": [],
        "delays": [],
    }
    harness.sm.list_pipelines()


def test_control_api_rejects_bad_requests(harness: Harness) -> None:
    with pytest.raises(urllib.error.HTTPError) as info:
        control(harness, "POST", "faults/throttle", {"share": 2})
    assert info.value.code == 400
    assert "share" in json.loads(info.value.read())["error"]
    with pytest.raises(urllib.error.HTTPError) as info:
        control(harness, "POST", "faults/fail-step", {"step": "x"})
    assert info.value.code == 400
    with pytest.raises(urllib.error.HTTPError) as info:
        control(harness, "GET", "nothing-here")
    assert info.value.code == 404


def test_config_over_http_and_in_process(harness: Harness) -> None:
    assert control(harness, "GET", "health") == {"status": "ok"}
    assert control(harness, "PUT", "config", {"step_seconds": 0.0, "examples": 3}) == {
        "step_seconds": 0.0,
        "examples": 3,
    }
    assert harness.emu.step_seconds == 0.0
    assert harness.emu.examples == 3
    with pytest.raises(ValueError, match="step_seconds"):
        harness.emu.step_seconds = -1


def test_reset_forgets_everything_including_moto_state(harness: Harness) -> None:
    harness.create()
    harness.emu.faults.throttle(share=1.0, operations=["DescribePipeline"])
    harness.emu.step_seconds = 3.0
    harness.emu.results.custom_worse_than_base = True

    control(harness, "POST", "reset")

    assert harness.sm.list_pipelines()["PipelineSummaries"] == []
    seeded = harness.emu.catalog.seed_buckets(harness.emu.region)  # the seed's S3 objects stay
    assert {b["Name"] for b in harness.s3.list_buckets()["Buckets"]} == seeded
    assert harness.emu.faults.describe()["throttles"] == []
    assert harness.emu.step_seconds == 0.05
    assert harness.emu.results.custom_worse_than_base is False
