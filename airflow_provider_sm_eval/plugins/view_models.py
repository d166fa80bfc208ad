"""What the two pages show (also served as JSON): a task's evaluation, and a DAG's evaluation history.

Plain pydantic models, read by ``data`` and drawn by ``pages``: the JSON endpoints serve them as
they are, the templates receive nothing else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from airflow_provider_sm_eval.evaluation.constants import TERMINAL_STATUSES
from airflow_provider_sm_eval.evaluation.results.summary import EvaluationSummary

#: Task instance states after which the task's XComs no longer change.
FINISHED_TASK_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
#: Execution statuses after which nothing of an execution changes.
TERMINAL_STATUS_VALUES = frozenset(status.value for status in TERMINAL_STATUSES)


class StepView(BaseModel):
    name: str
    display_name: str | None = None
    status: str
    start_time: datetime | None = None
    end_time: datetime | None = None
    duration_seconds: float | None = None
    failure_reason: str | None = None
    job_arn: str | None = None
    log_url: str | None = None


class LinkView(BaseModel):
    name: str
    url: str


class JudgeScoreView(BaseModel):
    metric: str
    result: float | None
    explanation: str | None


class JudgeAnswerView(BaseModel):
    response: str | None
    scores: list[JudgeScoreView]


class ExampleView(BaseModel):
    """The ``index``-th prompt with each model's answer and the judge's scores and explanations."""

    index: int
    prompt: str | None
    custom: JudgeAnswerView | None
    base: JudgeAnswerView | None


class TaskEvaluationView(BaseModel):
    """Everything the task tab shows; ``has_evaluation`` False with ``empty_reason`` when there is none.

    ``ownership`` says whether a task instance of this DAG run started the execution its XComs
    name: ``this_task`` or ``this_run`` (``started_by_task_id`` names it), ``foreign`` (another
    DAG or run started it, or nobody through this provider) or ``unverified`` (the check's AWS
    call failed: ``live_error``). Only an execution of this run is read live (status, steps,
    per-example records) and linked; otherwise the tab shows what the task recorded, and
    ``ownership_note`` why.
    """

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    task_state: str | None
    operator: str | None
    #: When the view was read (durations of running steps run to this moment).
    as_of: datetime
    has_evaluation: bool
    empty_reason: str | None = None
    execution_arn: str | None = None
    eval_type: str | None = None
    status: str | None = None
    failure_reason: str | None = None
    source: Literal["live", "xcom"] | None = None
    ownership: Literal["this_task", "this_run", "foreign", "unverified"] | None = None
    started_by_task_id: str | None = None
    started_by_map_index: int | None = None
    ownership_note: str | None = None
    live_error: str | None = None
    steps: list[StepView] = []
    results: EvaluationSummary | None = None
    gate_report: dict[str, Any] | None = None
    examples: list[ExampleView] = []
    examples_error: str | None = None
    links: list[LinkView] = []


class HistoryRow(BaseModel):
    """One evaluation in the DAG's history: its run, task, metrics and gate outcome."""

    run_id: str
    run_after: datetime
    logical_date: datetime | None
    task_id: str
    map_index: int
    execution_arn: str
    eval_type: str
    status: str | None
    custom: dict[str, float]
    base: dict[str, float]
    deltas: dict[str, float]
    custom_win_rate: float | None = None
    gate_task_id: str | None = None
    gate_passed: bool | None = None
    gate_violations: list[str] = []


class DagHistoryView(BaseModel):
    dag_id: str
    task_ids: list[str]
    metrics: list[str]
    task_filter: str | None
    metric_filter: str | None
    runs_read: int
    rows: list[HistoryRow]
