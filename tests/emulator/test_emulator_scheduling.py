"""A call advances only the execution it touches; the clock advances every execution that is due."""

from __future__ import annotations

import time

from emulator_harness import ROLE_ARN, definition, token

from sagemaker_eval_emulator.backend import PipelineBackend
from sagemaker_eval_emulator.execution import StatusChange
from sagemaker_eval_emulator.faults import FaultController
from sagemaker_eval_emulator.results import ResultSettings

REGION = "us-east-1"


def backend(changes: list[tuple[str, StatusChange]], step_seconds: float) -> PipelineBackend:
    """A backend without a clock thread: executions move only when a call or a test moves them."""
    return PipelineBackend(
        put_object=lambda uri, body: None,
        get_object=lambda uri, version: b"",
        faults=FaultController(),
        result_settings=ResultSettings(),
        step_seconds=step_seconds,
        examples=1,
        listener=lambda execution, change: changes.append((execution.arn, change)),
    )


def start(sm: PipelineBackend, count: int) -> list[str]:
    sm.op_create_pipeline(
        {
            "PipelineName": "p",
            "PipelineDefinition": definition("benchmark"),
            "RoleArn": ROLE_ARN,
            "ClientRequestToken": token(),
        },
        REGION,
    )
    params = {
        "PipelineName": "p",
        "PipelineParameters": [{"Name": "S3OutputPath", "Value": "s3://eval-results/p"}],
    }
    return [
        sm.op_start_pipeline_execution({**params, "ClientRequestToken": token()}, REGION)[
            "PipelineExecutionArn"
        ]
        for _ in range(count)
    ]


def statuses(changes: list[tuple[str, StatusChange]], arn: str) -> list[tuple[str | None, str]]:
    return [(c.step.name if c.step else None, c.current) for a, c in changes if a == arn]


def test_a_call_advances_only_the_execution_it_touches() -> None:
    changes: list[tuple[str, StatusChange]] = []
    sm = backend(changes, step_seconds=0.001)
    touched, untouched = start(sm, 2)
    time.sleep(0.05)  # every step of both executions is due by now

    described = sm.op_describe_pipeline_execution({"PipelineExecutionArn": touched}, REGION)

    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    assert statuses(changes, touched)[-1] == (None, "Succeeded")
    assert statuses(changes, untouched) == [(None, "Executing"), ("CreateEvaluationAction", "Starting")]
    sm.advance()  # the clock's tick catches up with it
    assert statuses(changes, untouched)[-1] == (None, "Succeeded")


def test_the_clock_advances_every_due_execution_at_the_same_transition_times() -> None:
    changes: list[tuple[str, StatusChange]] = []
    sm = backend(changes, step_seconds=10.0)
    arns = start(sm, 3)
    created = {
        arn: sm.op_describe_pipeline_execution({"PipelineExecutionArn": arn}, REGION)["CreationTime"]
        for arn in arns
    }

    sm.advance(now=max(created.values()) + 1.0)  # within the first step's Starting phase (2 s)
    assert all(statuses(changes, arn)[-1] == ("CreateEvaluationAction", "Starting") for arn in arns)
    sm.advance(now=max(created.values()) + 10**6)  # long after every step could have ended

    for arn in arns:
        own = [c for a, c in changes if a == arn]
        assert (own[-1].step, own[-1].current) == (None, "Succeeded")
        executing = next(c for c in own if c.step is not None and c.current == "Executing")
        assert executing.at == created[arn] + 2.0  # Starting lasts 20% of the 10 s step, as before
