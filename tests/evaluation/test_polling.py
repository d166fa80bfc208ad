"""The one polling loop: interval and jitter, when steps are listed, transient errors, validators."""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from airflow_provider_sm_eval.evaluation.clients import wrap_client_error
from airflow_provider_sm_eval.evaluation.exceptions import EvaluationAWSError
from airflow_provider_sm_eval.evaluation.polling import (
    JITTER,
    STEPS_EVERY_POLLS,
    TRANSIENT_BACKOFF_CAP,
    PollState,
    is_transient_aws_error,
    poll_until_terminal,
    poll_until_terminal_async,
    validate_poll_interval,
    validate_timeout,
)

ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/e"
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def client_error(code: str, http_status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": http_status}},
        "DescribePipelineExecution",
    )


class FakeExecution:
    """A scripted execution: each describe returns the next (status, modified minute) or raises."""

    def __init__(self, script: Sequence[tuple[str, int] | BaseException]) -> None:
        self.script = list(script)
        self.describes = 0
        self.step_lists = 0
        self.current: tuple[str, int] = ("Executing", 0)

    def describe(self) -> Mapping[str, Any]:
        self.describes += 1
        item = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(item, BaseException):
            raise item
        self.current = item
        status, minute = item
        return {"PipelineExecutionStatus": status, "LastModifiedTime": T0 + timedelta(minutes=minute)}

    def list_steps(self) -> list[Mapping[str, Any]]:
        self.step_lists += 1
        status, minute = self.current
        step = "Succeeded" if status == "Succeeded" else "Executing"
        return [{"StepName": f"Step{minute}", "StepStatus": step, "StartTime": T0}]

    async def describe_async(self) -> Mapping[str, Any]:
        return self.describe()

    async def list_steps_async(self) -> list[Mapping[str, Any]]:
        return self.list_steps()


def run(execution: FakeExecution, **kwargs: Any) -> tuple[Any, list[float]]:
    sleeps: list[float] = []
    state = PollState(ARN, 10, rng=random.Random(7))
    status = poll_until_terminal(
        execution.describe, execution.list_steps, state, sleep=sleeps.append, **kwargs
    )
    return status, sleeps


def test_every_sleep_is_the_interval_jittered_down_never_longer() -> None:
    execution = FakeExecution([("Executing", 0)] * 30 + [("Succeeded", 1)])

    status, sleeps = run(execution)

    assert status.overall_status.value == "Succeeded"
    assert len(sleeps) == 30
    assert all(10 * (1 - JITTER) <= s <= 10 for s in sleeps)
    assert len(set(sleeps)) > 1, "sleeps are jittered"


def test_steps_are_listed_on_progress_periodically_and_at_the_end() -> None:
    # 25 unchanged polls, a LastModifiedTime change, 3 unchanged, then the end.
    script = [("Executing", 0)] * 25 + [("Executing", 1)] * 4 + [("Succeeded", 1)]
    execution = FakeExecution(script)

    status, _ = run(execution)

    assert execution.describes == 30
    # first poll, the 10th and 20th polls without change, the change at poll 26, the end
    assert execution.step_lists == 5
    assert STEPS_EVERY_POLLS == 10
    assert status.step_details[0].name == "Step1"


def test_progress_callback_fires_on_status_or_step_changes_only() -> None:
    seen: list[str] = []
    execution = FakeExecution([("Executing", 0)] * 12 + [("Executing", 1), ("Succeeded", 1)])

    run(execution, on_progress=lambda status, _: seen.append(status.overall_status.value))

    assert seen == ["Executing", "Executing", "Succeeded"]


def test_transient_errors_back_off_capped_and_do_not_end_the_wait() -> None:
    throttled = [client_error("ThrottlingException")] * 12
    execution = FakeExecution([("Executing", 0), *throttled, ("Succeeded", 1)])

    status, sleeps = run(execution)

    assert status.overall_status.value == "Succeeded"
    backoff = sleeps[1:13]
    assert backoff[0] <= 10 and backoff[3] >= 10 * 2**3 * 0.5
    assert max(backoff) <= TRANSIENT_BACKOFF_CAP
    assert backoff[-1] >= TRANSIENT_BACKOFF_CAP * 0.5
    # after a success the interval is back to the poll interval
    assert execution.describes == 14


def test_other_errors_end_the_wait() -> None:
    execution = FakeExecution([("Executing", 0), client_error("AccessDeniedException")])

    with pytest.raises(ClientError, match="AccessDenied"):
        run(execution)


def test_timeout_returns_the_last_status_after_at_least_one_poll() -> None:
    execution = FakeExecution([("Executing", 0)])

    status, sleeps = run(execution, timeout=0)

    assert status.overall_status.value == "Executing"
    assert execution.describes == 1
    assert sleeps == []


async def test_async_driver_spreads_the_first_poll_and_ends_on_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    execution = FakeExecution([("Executing", 0), client_error("ServiceUnavailable", 503), ("Failed", 1)])
    state = PollState(ARN, 10, rng=random.Random(3))

    status = await poll_until_terminal_async(execution.describe_async, execution.list_steps_async, state)

    assert status.overall_status.value == "Failed"
    assert 0 <= sleeps[0] <= 10
    assert len(sleeps) == 3


def test_first_polls_of_restored_waits_are_spread_over_the_interval() -> None:
    rng = random.Random(11)
    firsts = [PollState(ARN, 60, rng=rng).first_delay() for _ in range(200)]

    assert min(firsts) < 6 and max(firsts) > 54


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (client_error("ThrottlingException"), True),
        (client_error("SomethingNew", 503), True),
        (client_error("ValidationException"), False),
        (EndpointConnectionError(endpoint_url="http://x"), True),
        (TimeoutError(), True),
        (ValueError("bad"), False),
    ],
)
def test_transient_errors(error: BaseException, transient: bool) -> None:
    assert is_transient_aws_error(error) is transient


def test_the_core_wrapped_error_is_classified_by_its_cause() -> None:
    original = client_error("ThrottlingException")
    try:
        raise wrap_client_error(original, "DescribePipelineExecution", ARN) from original
    except EvaluationAWSError as wrapped:
        assert is_transient_aws_error(wrapped)


@pytest.mark.parametrize("value", [0, -1, math.inf, math.nan, True, "30", None])
def test_poll_interval_must_be_positive_and_finite(value: object) -> None:
    with pytest.raises(ValueError, match="poll_interval"):
        validate_poll_interval(value)


@pytest.mark.parametrize("value", [-1, math.inf, math.nan, "5"])
def test_timeout_must_be_none_or_finite_and_not_negative(value: object) -> None:
    with pytest.raises(ValueError, match="timeout"):
        validate_timeout(value)


def test_valid_poll_arguments_pass() -> None:
    assert validate_poll_interval(2) == 2.0
    assert validate_timeout(None) is None
    assert validate_timeout(0) == 0.0
