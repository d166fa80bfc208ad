"""The event that ends a deferred wait on an execution: what the triggerer sends, what the task reads.

It speaks the ecosystem's vocabulary (the amazon provider's triggers, Airflow's own): ``status`` is

- ``success``: the execution Succeeded; ``execution_status`` holds its status and steps;
- ``error``: the execution ended otherwise (Failed, Stopped, CompletedWithFailures), with its
  ``execution_status``; or the wait could not go on (access denied, an unknown execution, no
  credentials), with a ``message`` saying why.

Every event names its ``execution_arn``. The task decides what counts as success from the
``execution_status`` (``success_statuses``), so the failed steps and reasons of every ending reach
it. A wait has no timeout of its own: its limit is the deferral's (``execution_timeout``, a
sensor's ``timeout``), which Airflow reports as ``TaskDeferralTimeout``, not as an event.

An event reaches the task through the metadata database, so it is input: :func:`parse_wait_event`
is its one reader, and refuses anything else, naming what is wrong.
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import ValidationError

from airflow_provider_sm_eval.evaluation.exceptions import InvalidInputError
from airflow_provider_sm_eval.evaluation.models import PipelineExecutionStatus


class WaitEventStatus(str, Enum):
    """The ``status`` of a wait's event."""

    SUCCESS = "success"
    ERROR = "error"


@dataclass(frozen=True)
class WaitOutcome:
    """What a valid event says: the terminal status reached, or why the wait failed."""

    execution_status: PipelineExecutionStatus | None
    message: str | None = None


def ended_event(execution_arn: str, status: PipelineExecutionStatus) -> dict[str, Any]:
    """The event of an execution that reached the terminal ``status``."""
    outcome = WaitEventStatus.SUCCESS if status.is_succeeded else WaitEventStatus.ERROR
    return {
        "status": outcome.value,
        "execution_arn": execution_arn,
        "execution_status": status.model_dump(mode="json"),
    }


def wait_failed_event(execution_arn: str, message: str) -> dict[str, Any]:
    """The event of a wait that could not go on, ``message`` saying why."""
    return {"status": WaitEventStatus.ERROR.value, "execution_arn": execution_arn, "message": message}


def parse_wait_event(event: object, *, execution_arn: str) -> WaitOutcome:
    """What ``event`` says about the wait on ``execution_arn``.

    Raises :class:`~.exceptions.InvalidInputError` (field ``event``) for anything that is not an
    event of that wait: not a mapping, another ``status`` (the ``terminal`` of earlier builds
    included), another execution, a status that is not terminal or contradicts ``status``.
    """
    if not isinstance(event, Mapping):
        raise _invalid(f"resumed without the trigger's event (got {_shown(event)})")
    status = event.get("status")
    allowed = [member.value for member in WaitEventStatus]
    if not isinstance(status, str) or status not in allowed:
        raise _invalid(f"status {_shown(status)} is not one of: {', '.join(allowed)}")
    named = event.get("execution_arn")
    if named != execution_arn:
        raise _invalid(f"execution_arn {_shown(named)} is not the execution waited on, {execution_arn}")
    if event.get("execution_status") is None:
        if status == WaitEventStatus.SUCCESS.value:
            raise _invalid("a success event must carry execution_status; it has none")
        message = event.get("message")
        if not isinstance(message, str) or not message:
            raise _invalid("an error event must carry execution_status or a message; it has neither")
        return WaitOutcome(None, message)
    try:
        reached = PipelineExecutionStatus.model_validate(event["execution_status"])
    except ValidationError as error:
        raise _invalid(f"execution_status is not an execution status ({error.errors()[0]['msg']})") from None
    if not reached.is_terminal:
        raise _invalid(f"execution_status {reached.overall_status.value} is not a terminal status")
    if reached.is_succeeded != (status == WaitEventStatus.SUCCESS.value):
        raise _invalid(f"status {status} contradicts execution_status {reached.overall_status.value}")
    return WaitOutcome(reached)


def _invalid(problem: str) -> InvalidInputError:
    return InvalidInputError("event", f"trigger event: {problem}")


#: How values of an event are quoted in a message: whole ARNs, yet bounded (an event can hold anything).
_QUOTE = reprlib.Repr()
_QUOTE.maxstring = _QUOTE.maxother = 240


def _shown(value: object) -> str:
    """``value`` for a message: its repr, cut short when long."""
    return _QUOTE.repr(value)
