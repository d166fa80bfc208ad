"""The event that ends a deferred wait: built for every ending, read back by one validator."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_sm_eval.evaluation.constants import ExecutionStatus, StepStatus
from airflow_provider_sm_eval.evaluation.exceptions import InvalidInputError
from airflow_provider_sm_eval.evaluation.models import PipelineExecutionStatus, StepDetail
from airflow_provider_sm_eval.evaluation.wait_events import (
    WaitOutcome,
    ended_event,
    parse_wait_event,
    wait_failed_event,
)

ARN = (
    "arn:aws:sagemaker:us-east-1:123456789012:pipeline/"
    "sagemakerevaluation-benchmarkevaluation-p/execution/abc"
)
OTHER_ARN = ARN.replace("/abc", "/def")


def ended(status: ExecutionStatus) -> PipelineExecutionStatus:
    step = StepDetail(name="EvaluateCustomModel", status=StepStatus.FAILED, failure_reason="out of memory")
    return PipelineExecutionStatus(overall_status=status, step_details=[step], failure_reason="a step failed")


@pytest.mark.parametrize(
    ("status", "word"),
    [
        (ExecutionStatus.SUCCEEDED, "success"),
        (ExecutionStatus.FAILED, "error"),
        (ExecutionStatus.STOPPED, "error"),
        (ExecutionStatus.COMPLETED_WITH_FAILURES, "error"),
    ],
)
def test_every_ending_round_trips_with_the_ecosystem_status(status: ExecutionStatus, word: str) -> None:
    event = ended_event(ARN, ended(status))

    assert event["status"] == word
    assert parse_wait_event(event, execution_arn=ARN) == WaitOutcome(ended(status))


def test_a_failed_wait_carries_its_reason() -> None:
    event = wait_failed_event(ARN, "AccessDeniedException: no")

    assert event == {"status": "error", "execution_arn": ARN, "message": "AccessDeniedException: no"}
    assert parse_wait_event(event, execution_arn=ARN) == WaitOutcome(None, "AccessDeniedException: no")


def _succeeded() -> dict[str, Any]:
    return ended_event(ARN, ended(ExecutionStatus.SUCCEEDED))


@pytest.mark.hostile("events")
@pytest.mark.parametrize(
    ("event", "problem"),
    [
        (None, "resumed without the trigger's event"),
        ("success", "resumed without the trigger's event"),
        ({**_succeeded(), "status": "terminal"}, "status 'terminal' is not one of: success, error"),
        ({**_succeeded(), "status": "timeout"}, "status 'timeout' is not one of"),
        ({**_succeeded(), "status": ["success"]}, "status ['success'] is not one of"),
        ({**_succeeded(), "status": "x" * 10_000}, "is not one of"),
        ({**_succeeded(), "execution_arn": OTHER_ARN}, "is not the execution waited on"),
        ({k: v for k, v in _succeeded().items() if k != "execution_arn"}, "None is not the execution"),
        (
            {"status": "success", "execution_arn": ARN, "message": "fine"},
            "a success event must carry execution_status",
        ),
        (
            {"status": "error", "execution_arn": ARN},
            "must carry execution_status or a message",
        ),
        ({"status": "error", "execution_arn": ARN, "message": {"x": 1}}, "it has neither"),
        ({**_succeeded(), "execution_status": {"overall_status": "Done"}}, "execution_status is not an"),
        ({**_succeeded(), "execution_status": "Succeeded"}, "execution_status is not an"),
        (
            {**_succeeded(), "execution_status": {"overall_status": "Executing"}},
            "execution_status Executing is not a terminal status",
        ),
        (
            ended_event(ARN, ended(ExecutionStatus.FAILED)) | {"status": "success"},
            "status success contradicts execution_status Failed",
        ),
        ({**_succeeded(), "status": "error"}, "status error contradicts execution_status Succeeded"),
    ],
)
def test_anything_but_an_event_of_the_wait_is_refused_by_name(event: Any, problem: str) -> None:
    with pytest.raises(InvalidInputError, match="trigger event: ") as refused:
        parse_wait_event(event, execution_arn=ARN)

    assert refused.value.field == "event"
    assert problem in str(refused.value)
    assert len(str(refused.value)) < 400
