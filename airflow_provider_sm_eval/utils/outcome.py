"""What a terminal execution means for an Airflow task: success, or an error that says why.

Shared by the start operator (blocking and deferrable paths alike) and the sensor, so a status
counts as success or failure by one rule everywhere, and a trigger's event is read one way
(:func:`status_from_event`). Cheap to import: no boto3.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from typing import Any

from airflow_provider_sm_eval.evaluation.constants import ExecutionStatus, parse_terminal_status
from airflow_provider_sm_eval.evaluation.exceptions import InvalidInputError, execution_error_for
from airflow_provider_sm_eval.evaluation.models import PipelineExecutionStatus
from airflow_provider_sm_eval.evaluation.wait_events import parse_wait_event
from airflow_provider_sm_eval.exceptions import EvaluationExecutionFailedException
from airflow_provider_sm_eval.links.console_urls import execution_console_url, job_log_url
from airflow_provider_sm_eval.version_compat import AirflowException

DEFAULT_SUCCESS_STATUSES: frozenset[ExecutionStatus] = frozenset({ExecutionStatus.SUCCEEDED})


def parse_success_statuses(
    values: Iterable[ExecutionStatus | str], *, name: str = "success_statuses"
) -> frozenset[ExecutionStatus]:
    """Terminal statuses that count as success; ValueError naming ``name`` for anything else."""
    if isinstance(values, str):
        values = [values]
    statuses = {parse_terminal_status(value, name=f"{name} entry") for value in values}
    if not statuses:
        raise ValueError(f"{name} must name at least one terminal status")
    return frozenset(statuses)


def failure_message(execution_arn: str, status: PipelineExecutionStatus) -> str:
    """The core's message (status, reason, failed steps, job ARNs) plus console and log links."""
    lines = [str(execution_error_for(status, execution_arn))]
    for step in status.failed_steps:
        url = job_log_url(step.job_arn) if step.job_arn else None
        if url:
            lines.append(f"  logs of {step.name}: {url}")
    with suppress(ValueError):  # a partition without a public console has no link to give
        lines.append(f"  execution: {execution_console_url(execution_arn)}")
    return "\n".join(lines)


def raise_for_outcome(
    execution_arn: str, status: PipelineExecutionStatus, success_statuses: frozenset[ExecutionStatus]
) -> None:
    """Raise :class:`EvaluationExecutionFailedException` unless ``status`` counts as success."""
    if status.overall_status not in success_statuses:
        raise EvaluationExecutionFailedException(
            execution_arn, status, failure_message(execution_arn, status)
        )


def status_from_event(event: object, execution_arn: str) -> PipelineExecutionStatus:
    """The terminal status the trigger's ``event`` reports for ``execution_arn``, success or not.

    An event that says the wait failed, or that is not an event of this wait at all, raises
    ``AirflowException`` with the trigger's message or what is wrong with the event.
    """
    try:
        outcome = parse_wait_event(event, execution_arn=execution_arn)
    except InvalidInputError as error:
        raise AirflowException(f"Evaluation execution {execution_arn}: {error}") from None
    if outcome.execution_status is None:
        raise AirflowException(f"Waiting for evaluation execution {execution_arn} failed: {outcome.message}")
    return outcome.execution_status


def steps_payload(status: PipelineExecutionStatus) -> list[dict[str, Any]]:
    """The steps as JSON-safe dicts, for XCom."""
    return [step.model_dump(mode="json") for step in status.step_details]
