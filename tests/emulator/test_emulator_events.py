"""Execution and step status changes reach EventBridge rules (and their SQS targets) as SageMaker's events."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import datetime
from typing import Any

from emulator_harness import Harness, definition, token, wait_for

from airflow_provider_sm_eval.evaluation.constants import EvalType, StepName
from sagemaker_eval_emulator.definition import parse_definition
from sagemaker_eval_emulator.events import (
    EXECUTION_STATUS_CHANGE,
    SOURCE,
    STEP_STATUS_CHANGE,
    EventPublisher,
)
from sagemaker_eval_emulator.execution import Execution, StatusChange


def subscribe(harness: Harness, pipeline_arn: str) -> tuple[Any, str]:
    """An SQS queue receiving the pipeline's SageMaker status-change events through a rule."""
    sqs, events = harness.emu.client("sqs"), harness.emu.client("events")
    queue_url = sqs.create_queue(QueueName=f"events-{pipeline_arn.rsplit('/', 1)[1][-40:]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    rule_arn = events.put_rule(
        Name="sagemaker-pipeline-status",
        EventPattern=json.dumps(
            {
                "source": [SOURCE],
                "detail-type": [EXECUTION_STATUS_CHANGE, STEP_STATUS_CHANGE],
                "detail": {"pipelineArn": [pipeline_arn]},
            }
        ),
    )["RuleArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    events.put_targets(Rule="sagemaker-pipeline-status", Targets=[{"Id": "queue", "Arn": queue_arn}])
    return sqs, queue_url


def published(harness: Harness, sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every event in the queue once the emulator has published all it queued."""
    assert harness.emu.events.wait_idle(timeout=30)
    received: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            received.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return received


def transitions(events: list[dict[str, Any]]) -> Counter[tuple[str | None, str | None, str]]:
    """(step name or None, previous status, current status) of each event."""
    return Counter(
        (
            e["detail"].get("stepName"),
            e["detail"].get("previousStepStatus", e["detail"].get("previousPipelineExecutionStatus")),
            e["detail"].get("currentStepStatus", e["detail"].get("currentPipelineExecutionStatus")),
        )
        for e in events
    )


def step_types(kind: str) -> dict[str, str]:
    return {step["Name"]: step["Type"] for step in json.loads(definition(kind))["Steps"]}


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_an_execution_publishes_every_status_change(harness: Harness) -> None:
    name = harness.create(EvalType.BENCHMARK)
    pipeline_arn = harness.sm.describe_pipeline(PipelineName=name)["PipelineArn"]
    sqs, queue_url = subscribe(harness, pipeline_arn)
    other = harness.create(EvalType.BENCHMARK)  # its events do not match the rule
    harness.wait_terminal(harness.start(other))

    arn = harness.start(name, PipelineExecutionDescription="nightly")
    described = harness.wait_terminal(arn)
    steps = harness.steps(arn)
    types = step_types("benchmark")
    events = published(harness, sqs, queue_url)

    expected = Counter([(None, None, "Executing"), (None, "Executing", "Succeeded")])
    for step in types:
        expected.update(
            [(step, None, "Starting"), (step, "Starting", "Executing"), (step, "Executing", "Succeeded")]
        )
    assert transitions(events) == expected
    for event in events:
        assert event["source"] == SOURCE
        assert event["region"] == harness.emu.region
        assert event["resources"] == [pipeline_arn, arn]
        assert event["detail"]["pipelineArn"] == pipeline_arn
        assert event["detail"]["pipelineExecutionArn"] == arn
    final = next(
        e["detail"] for e in events if e["detail"].get("currentPipelineExecutionStatus") == "Succeeded"
    )
    assert final["pipelineExecutionDisplayName"] == described["PipelineExecutionDisplayName"]
    assert final["pipelineExecutionDescription"] == "nightly"
    assert final["executionStartTime"] == iso(described["CreationTime"])
    assert final["executionEndTime"] == iso(described["LastModifiedTime"])
    for event in events:
        detail = event["detail"]
        if detail.get("currentStepStatus") != "Succeeded":
            continue
        step = steps[detail["stepName"]]
        assert detail["stepType"] == types[detail["stepName"]]
        assert detail["stepStartTime"] == iso(step["StartTime"])
        assert detail["stepEndTime"] == iso(step["EndTime"])
        job = step["Metadata"].get("TrainingJob")
        assert detail.get("metadata") == ({"trainingJob": {"arn": job["Arn"]}} if job else None)


def test_failed_and_stopped_executions_publish_their_ends(harness: Harness) -> None:
    name = harness.create(EvalType.BENCHMARK)
    sqs, queue_url = subscribe(harness, harness.sm.describe_pipeline(PipelineName=name)["PipelineArn"])
    harness.emu.faults.fail_step(StepName.EVALUATE_CUSTOM_MODEL.value, "out of memory", times=1)
    failed = harness.start(name)
    harness.wait_terminal(failed)
    harness.emu.step_seconds = 30.0
    stopped = harness.start(name)
    wait_for(lambda: harness.steps(stopped), what="a started step")
    harness.sm.stop_pipeline_execution(PipelineExecutionArn=stopped, ClientRequestToken=token())
    harness.emu.step_seconds = 0.05
    harness.wait_terminal(stopped)

    events = published(harness, sqs, queue_url)
    by_execution = {
        arn: [e["detail"] for e in events if e["detail"]["pipelineExecutionArn"] == arn]
        for arn in (failed, stopped)
    }
    step_failure = next(d for d in by_execution[failed] if d.get("currentStepStatus") == "Failed")
    assert step_failure["stepName"] == StepName.EVALUATE_CUSTOM_MODEL.value
    assert step_failure["failureReason"] == "out of memory"
    assert (None, "Executing", "Failed") in transitions([{"detail": d} for d in by_execution[failed]])
    stop_transitions = transitions([{"detail": d} for d in by_execution[stopped]])
    assert stop_transitions[(None, "Executing", "Stopping")] == 1
    assert stop_transitions[(None, "Stopping", "Stopped")] == 1
    assert any(current == "Stopped" for step, _, current in stop_transitions if step is not None)


def test_publishing_never_blocks_the_caller() -> None:
    release = threading.Event()
    sent: list[list[dict[str, Any]]] = []

    class SlowEventBridge:
        def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
            release.wait(timeout=30)
            sent.append(Entries)
            return {"FailedEntryCount": 0}

    publisher = EventPublisher(lambda region: SlowEventBridge())
    publisher.start()
    execution = Execution(
        arn="arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/e1",
        execution_id="e1",
        pipeline_name="p",
        pipeline_arn="arn:aws:sagemaker:us-east-1:123456789012:pipeline/p",
        region="us-east-1",
        version_id=1,
        definition=parse_definition(definition("benchmark")),
        parameters={},
        display_name="d",
        description=None,
        created=1.0,
        client_request_token="t" * 32,
    )
    for index in range(25):  # returns at once although EventBridge does not answer
        publisher.publish(execution, StatusChange(None, "Executing", "Executing", float(index)))
    assert not publisher.wait_idle(timeout=0.01)
    release.set()
    assert publisher.wait_idle(timeout=30)
    publisher.stop()
    assert all(1 <= len(batch) <= 10 for batch in sent)  # PutEvents' limit
    assert sum(len(batch) for batch in sent) == 25
    times = [entry["Time"].timestamp() for batch in sent for entry in batch]
    assert times == sorted(times)
