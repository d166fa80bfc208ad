"""What the two pages read: a task's evaluation, and a DAG's evaluation history, as view models.

``task_evaluation_view`` reads the task instance's XComs, and asks SageMaker (through the task's
own connection) while the execution may still change; ``dag_history_view`` reads the XComs of
the DAG's latest runs. XComs are input, never proof: nothing is read live of an execution, and no
link is drawn to it, before ``live.owned_execution`` proved a task instance of the page's DAG run
started it. Both return the models of ``view_models``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.orm import Session

from airflow_provider_sm_eval.evaluation.arns import parse_execution_arn
from airflow_provider_sm_eval.evaluation.constants import EvalType, ExecutionStatus
from airflow_provider_sm_eval.evaluation.results.benchmark import is_standard_error
from airflow_provider_sm_eval.evaluation.results.llm_as_judge import JudgeExample
from airflow_provider_sm_eval.evaluation.results.summary import EvaluationSummary
from airflow_provider_sm_eval.links.console_urls import (
    execution_console_url,
    is_console_url,
    job_log_url,
    s3_console_url,
)
from airflow_provider_sm_eval.plugins import live, metadata
from airflow_provider_sm_eval.plugins.task_xcoms import (
    EVALUATION_XCOM_KEYS,
    TaskEvaluation,
    read_task_evaluation,
    text_or_none,
)
from airflow_provider_sm_eval.plugins.view_models import (
    FINISHED_TASK_STATES,
    TERMINAL_STATUS_VALUES,
    DagHistoryView,
    ExampleView,
    HistoryRow,
    JudgeAnswerView,
    JudgeScoreView,
    LinkView,
    StepView,
    TaskEvaluationView,
)
from airflow_provider_sm_eval.utils.reattach import TaskInstanceIdentity

log = logging.getLogger(__name__)

#: Most DAG runs the history reads.
MAX_HISTORY_RUNS = 200


# Task tab ---------------------------------------------------------------------------------------------


def task_evaluation_view(
    session: Session,
    record: metadata.TaskInstanceRecord,
    *,
    example_limit: int = 5,
    now: datetime | None = None,
) -> TaskEvaluationView:
    """The evaluation of a task instance: XComs, completed by a live read while it may change."""
    now = now or datetime.now(timezone.utc)
    rendered = metadata.rendered_fields(
        session, record.dag_id, record.run_id, record.task_id, record.map_index
    )
    recorded = read_task_evaluation(record.xcoms, rendered)
    base = {
        "dag_id": record.dag_id,
        "run_id": record.run_id,
        "task_id": record.task_id,
        "map_index": record.map_index,
        "task_state": record.state,
        "operator": record.operator,
        "as_of": now,
    }
    if recorded.execution_arn is None:
        return TaskEvaluationView(**base, has_evaluation=False, empty_reason=_empty_reason(record))
    view = TaskEvaluationView(
        **base,
        has_evaluation=True,
        execution_arn=recorded.execution_arn,
        eval_type=recorded.eval_type,
        status=recorded.status,
        failure_reason=recorded.failure_reason,
        source="xcom",
        steps=[_step_view(step, now) for step in recorded.steps or []],
        results=_summary(recorded.summary),
        gate_report=recorded.gate_report,
    )
    if view.results is None or view.gate_report is None:
        _complete_from_run(session, record, view)
    if view.status is None and view.results is not None:
        view.status = ExecutionStatus.SUCCEEDED.value  # results are read from succeeded executions only
    owned = _check_ownership(session, record, rendered, view)
    if owned is None:
        return view
    if _needs_live_read(record, recorded, view):
        _read_live(owned, view, now)
    if view.eval_type == EvalType.LLM_AS_JUDGE.value and view.status == ExecutionStatus.SUCCEEDED.value:
        _read_examples(owned, view, example_limit)
    view.links = _links(view, rendered.get("studio_domain_id"))
    return view


def _check_ownership(
    session: Session,
    record: metadata.TaskInstanceRecord,
    rendered: Mapping[str, Any],
    view: TaskEvaluationView,
) -> live.OwnedExecution | None:
    """The execution, when a task instance of this run started it; else None, the view saying why.

    A view of an execution not proven this run's keeps only what the task recorded in XCom,
    without the links its steps name.
    """
    assert view.execution_arn is not None
    this_task = TaskInstanceIdentity(record.dag_id, record.task_id, record.run_id, record.map_index)
    run_tasks = [this_task] + [
        TaskInstanceIdentity(record.dag_id, task_id, record.run_id, map_index)
        for task_id, map_index in metadata.run_task_instances(session, record.dag_id, record.run_id)
        if (task_id, map_index) != (record.task_id, record.map_index)
    ]
    try:
        owned = live.owned_execution(live.task_connection(rendered), view.execution_arn, run_tasks)
    except live.ForeignExecutionError as error:
        view.ownership, view.ownership_note = "foreign", str(error)
    except Exception as error:
        log.warning("Cannot verify who started %s: %s", view.execution_arn, live.redact(str(error)))
        view.ownership, view.live_error = "unverified", live.error_text(error)
        view.ownership_note = (
            f"Could not check that a task of this DAG run started execution {view.execution_arn}."
        )
    else:
        started_by = owned.started_by
        view.ownership = "this_task" if started_by == this_task else "this_run"
        view.started_by_task_id, view.started_by_map_index = started_by.task_id, started_by.map_index
        return owned
    for step in view.steps:
        step.log_url = None
    return None


def _empty_reason(record: metadata.TaskInstanceRecord) -> str:
    state = record.state or "not started"
    if record.state in FINISHED_TASK_STATES:
        return f"This task instance never started or watched a SageMaker evaluation (state: {state})."
    return f"This task instance has not started or found a SageMaker evaluation yet (state: {state})."


def _needs_live_read(
    record: metadata.TaskInstanceRecord, recorded: TaskEvaluation, view: TaskEvaluationView
) -> bool:
    """While the task runs, or when its XComs do not hold the final steps and status of the execution."""
    if record.state not in FINISHED_TASK_STATES:
        return True
    if recorded.steps is None:
        return True
    return view.status not in TERMINAL_STATUS_VALUES


def _read_live(owned: live.OwnedExecution, view: TaskEvaluationView, now: datetime) -> None:
    try:
        execution = live.describe(owned)
    except Exception as error:
        log.warning("Live read of %s failed: %s", owned.arn, live.redact(str(error)))
        view.live_error = live.error_text(error)
        return
    view.source = "live"
    view.eval_type = execution.eval_type.value
    view.status = execution.status.overall_status.value
    view.failure_reason = execution.status.failure_reason
    view.steps = [_step_view(step.model_dump(mode="json"), now) for step in execution.status.step_details]


def _read_examples(owned: live.OwnedExecution, view: TaskEvaluationView, limit: int) -> None:
    if limit <= 0:
        return
    try:
        pairs = live.judge_examples(owned, limit)
    except Exception as error:
        log.warning("Reading the judge records of %s failed: %s", owned.arn, live.redact(str(error)))
        view.examples_error = live.error_text(error)
        return
    view.examples = [
        ExampleView(
            index=pair.index,
            prompt=live.clip(_prompt(pair)),
            custom=_answer(pair.custom),
            base=_answer(pair.base),
        )
        for pair in pairs
    ]


def _prompt(pair: live.ExamplePair) -> str | None:
    example = pair.custom or pair.base
    return None if example is None else example.prompt


def _answer(example: JudgeExample | None) -> JudgeAnswerView | None:
    if example is None:
        return None
    return JudgeAnswerView(
        response=live.clip(example.response),
        scores=[
            JudgeScoreView(metric=score.metric, result=score.result, explanation=live.clip(score.explanation))
            for score in example.scores
        ],
    )


def _complete_from_run(
    session: Session, record: metadata.TaskInstanceRecord, view: TaskEvaluationView
) -> None:
    """The summary and gate report of the same execution pushed by other tasks of the run.

    A sensor's execution is summarised by a results operator, a start operator's by the gate
    downstream: the tab of each shows them.
    """
    runs = metadata.dag_xcoms(session, record.dag_id, EVALUATION_XCOM_KEYS, run_id=record.run_id)
    for (task_id, _), xcoms in (runs[0].by_task if runs else {}).items():
        other = read_task_evaluation(xcoms)
        if other.execution_arn != view.execution_arn:
            continue
        if view.results is None and other.summary is not None:
            view.results = _summary(other.summary)
        if view.gate_report is None and other.gate_report is not None:
            view.gate_report = {**other.gate_report, "task_id": task_id}
        if view.eval_type is None:
            view.eval_type = other.eval_type


def _summary(value: Mapping[str, Any] | None) -> EvaluationSummary | None:
    if value is None:
        return None
    try:
        return EvaluationSummary.model_validate(value)
    except ValueError:
        return None


def _step_view(step: Mapping[str, Any], now: datetime) -> StepView:
    start, end = _time(step.get("start_time")), _time(step.get("end_time"))
    job_arn = text_or_none(step.get("job_arn"))
    return StepView(
        name=str(step.get("name")),
        display_name=text_or_none(step.get("display_name")),
        status=str(step.get("status")),
        start_time=start,
        end_time=end,
        duration_seconds=None if start is None else ((end or now) - start).total_seconds(),
        failure_reason=text_or_none(step.get("failure_reason")),
        job_arn=job_arn,
        log_url=job_log_url(job_arn) if job_arn else None,
    )


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _links(view: TaskEvaluationView, studio_domain_id: Any) -> list[LinkView]:
    """Console links of an execution of this run, built from its parsed ARN (never a URL from XCom)."""
    assert view.execution_arn is not None
    arn = parse_execution_arn(view.execution_arn)
    studio = studio_domain_id if isinstance(studio_domain_id, str) else None
    candidates = []
    with contextlib.suppress(ValueError):  # a partition without a public console
        candidates.append(("Execution in the SageMaker console", execution_console_url(str(arn), studio)))
    for uri in (view.results.artifact_uris if view.results else [])[:4]:
        with contextlib.suppress(ValueError):
            candidates.append((f"Results: {uri}", s3_console_url(uri, arn.region, arn.partition)))
    return [LinkView(name=name, url=url) for name, url in candidates if is_console_url(url)]


# DAG tab ----------------------------------------------------------------------------------------------


def dag_history_view(
    session: Session,
    dag_id: str,
    *,
    task_filter: str | None = None,
    metric_filter: str | None = None,
    max_runs: int = MAX_HISTORY_RUNS,
) -> DagHistoryView:
    """The evaluations of the DAG's latest runs, oldest first, with the gate outcome of each."""
    runs = metadata.dag_xcoms(session, dag_id, EVALUATION_XCOM_KEYS, max_runs=max_runs)
    rows: list[HistoryRow] = []
    for run in runs:
        evaluations = {key: read_task_evaluation(xcoms) for key, xcoms in run.by_task.items()}
        gates = {
            report["execution_arn"]: (task_id, report)
            for (task_id, _), evaluation in evaluations.items()
            if (report := evaluation.gate_report) is not None and isinstance(report.get("execution_arn"), str)
        }
        statuses = {e.execution_arn: e.status for e in evaluations.values() if e.execution_arn and e.status}
        for (task_id, map_index), evaluation in sorted(evaluations.items()):
            summary = _summary(evaluation.summary)
            if summary is None or _is_copy(task_id, evaluation, evaluations):
                continue
            gate_task, report = gates.get(summary.execution_arn, (None, None))
            rows.append(
                HistoryRow(
                    run_id=run.run_id,
                    run_after=run.run_after,
                    logical_date=run.logical_date,
                    task_id=task_id,
                    map_index=map_index,
                    execution_arn=summary.execution_arn,
                    eval_type=summary.eval_type.value,
                    status=statuses.get(summary.execution_arn)
                    or (ExecutionStatus.SUCCEEDED.value if summary.metrics else None),
                    custom=_scores(summary.metrics.get("custom", {})),
                    base=_scores(summary.metrics.get("base", {})),
                    deltas=dict(summary.deltas),
                    custom_win_rate=summary.win_rates.custom_win_rate if summary.win_rates else None,
                    gate_task_id=gate_task,
                    gate_passed=None if report is None else bool(report.get("passed")),
                    gate_violations=[] if report is None else _violations(report),
                )
            )
    task_ids = sorted({row.task_id for row in rows})
    if task_filter:
        rows = [row for row in rows if row.task_id == task_filter]
    metrics = sorted({name for row in rows for name in (*row.custom, *row.base)})
    if metric_filter:
        rows = [row for row in rows if metric_filter in row.custom or metric_filter in row.base]
    return DagHistoryView(
        dag_id=dag_id,
        task_ids=task_ids,
        metrics=metrics,
        task_filter=task_filter or None,
        metric_filter=metric_filter or None,
        runs_read=len(runs),
        rows=rows,
    )


def _is_copy(task_id: str, evaluation: TaskEvaluation, evaluations: Mapping[Any, TaskEvaluation]) -> bool:
    """A gate that passed returns its report, not a summary; a task repeating another's summary is skipped.

    Only the first task (by id) holding a summary of an execution makes a row.
    """
    return any(
        other_task < task_id and other.summary is not None and other.execution_arn == evaluation.execution_arn
        for (other_task, _), other in evaluations.items()
    )


def _violations(report: Mapping[str, Any]) -> list[str]:
    violations = report.get("violations")
    return [str(v) for v in violations] if isinstance(violations, list) else []


def _scores(metrics: Mapping[str, float]) -> dict[str, float]:
    """The metrics drawn over time: scores, not their standard errors."""
    return {name: value for name, value in metrics.items() if not is_standard_error(name)}
