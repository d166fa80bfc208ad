"""What a task instance's XComs say about its evaluation, whichever provider operator pushed them.

Pure functions over JSON values (no database, no AWS): the start operator's ``return_value``,
``execution_arn``, ``steps`` and ``results``; the sensor's ``steps``; the results operator's
summary; the stop operator's status; the gate's ``gate_report``. A sensor or results operator
that has not pushed anything yet still names its execution in its rendered ``execution_arn``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_sm_eval.evaluation.arns import parse_execution_arn
from airflow_provider_sm_eval.operators.evaluation_gate import GATE_REPORT_XCOM_KEY
from airflow_provider_sm_eval.utils.xcom import XCOM_EXECUTION_ARN, XCOM_RESULTS, XCOM_STEPS

RETURN_VALUE = "return_value"
#: Every XCom key the pages read.
EVALUATION_XCOM_KEYS = (RETURN_VALUE, XCOM_EXECUTION_ARN, XCOM_STEPS, XCOM_RESULTS, GATE_REPORT_XCOM_KEY)


@dataclass(frozen=True)
class TaskEvaluation:
    """The evaluation a task instance recorded; every field None when it recorded nothing."""

    execution_arn: str | None = None
    eval_type: str | None = None
    status: str | None = None
    failure_reason: str | None = None
    steps: list[dict[str, Any]] | None = None
    summary: dict[str, Any] | None = None
    gate_report: dict[str, Any] | None = None


def is_summary(value: Any) -> bool:
    """An ``EvaluationSummary`` dict: the results operator's return value, or the start operator's results."""
    return isinstance(value, Mapping) and "metrics" in value and "execution_arn" in value


def is_gate_report(value: Any) -> bool:
    return isinstance(value, Mapping) and "passed" in value and "checks" in value


def valid_arn(value: Any) -> str | None:
    """``value`` when it is a pipeline execution ARN (a rendered field may hold anything)."""
    if not isinstance(value, str):
        return None
    try:
        parse_execution_arn(value)
    except ValueError:
        return None
    return value


def read_task_evaluation(
    xcoms: Mapping[str, Any], rendered: Mapping[str, Any] | None = None
) -> TaskEvaluation:
    """The evaluation of one task instance from its XComs (and rendered fields)."""
    returned = xcoms.get(RETURN_VALUE)
    returned_dict: Mapping[str, Any] = returned if isinstance(returned, Mapping) else {}
    gate = xcoms.get(GATE_REPORT_XCOM_KEY)
    if not is_gate_report(gate):
        gate = returned if is_gate_report(returned) else None
    summary = xcoms.get(XCOM_RESULTS)
    if not is_summary(summary):
        summary = returned_dict.get("results") if is_summary(returned_dict.get("results")) else None
    if summary is None and is_summary(returned):
        summary = dict(returned_dict)
    steps = xcoms.get(XCOM_STEPS)
    if not isinstance(steps, list):
        steps = returned_dict.get("steps") if isinstance(returned_dict.get("steps"), list) else None
    candidates = (
        xcoms.get(XCOM_EXECUTION_ARN),
        returned_dict.get("execution_arn"),
        (summary or {}).get("execution_arn"),
        (gate or {}).get("execution_arn"),
        (rendered or {}).get("execution_arn"),
    )
    arn = next((arn for arn in map(valid_arn, candidates) if arn), None)
    eval_type = (
        returned_dict.get("eval_type") or (summary or {}).get("eval_type") or (gate or {}).get("eval_type")
    )
    return TaskEvaluation(
        execution_arn=arn,
        eval_type=eval_type if isinstance(eval_type, str) else None,
        status=text_or_none(returned_dict.get("status")),
        failure_reason=text_or_none(returned_dict.get("failure_reason")),
        steps=None if steps is None else [dict(step) for step in steps if isinstance(step, Mapping)],
        summary=dict(summary) if summary else None,
        gate_report=dict(gate) if gate else None,
    )


def text_or_none(value: Any) -> str | None:
    """``value`` when it is a non-empty string (an XCom may hold anything)."""
    return value if isinstance(value, str) and value else None
