"""The HTML of the two pages: Jinja2 templates (``templates/``) around server-drawn SVG charts, no JavaScript.

The templates receive the view models and what is drawn of them (chart geometry, the gate's
checks, the history's rows); the environment autoescapes every value. The style is the app's
static stylesheet: the pages have no inline style, so the Content-Security-Policy allows none.
A page of an execution that may still change reloads itself (``<meta http-equiv="refresh">``).
Links to AWS open in a new tab, links into Airflow in the top window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined

from airflow_provider_sm_eval.evaluation.results.benchmark import is_standard_error
from airflow_provider_sm_eval.evaluation.results.summary import EvaluationSummary
from airflow_provider_sm_eval.plugins import charts
from airflow_provider_sm_eval.plugins.paths import STATIC_ROUTE, STYLESHEET, URL_PREFIX
from airflow_provider_sm_eval.plugins.view_models import (
    FINISHED_TASK_STATES,
    TERMINAL_STATUS_VALUES,
    DagHistoryView,
    HistoryRow,
    TaskEvaluationView,
)

#: Seconds between reloads of a page whose execution is still running.
REFRESH_SECONDS = 10

ENVIRONMENT = Environment(
    loader=PackageLoader("airflow_provider_sm_eval.plugins", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=lambda value: "" if value is None else value,  # None is shown as nothing
)
ENVIRONMENT.filters.update(
    number=charts.format_number,
    delta=charts.format_delta,
    duration=charts.format_duration,
    f1="{:.1f}".format,
)
ENVIRONMENT.globals.update(
    custom=charts.CUSTOM_COLOUR,
    base=charts.BASE_COLOUR,
    positive=charts.POSITIVE_COLOUR,
    negative=charts.NEGATIVE_COLOUR,
    refresh_seconds=REFRESH_SECONDS,
)


def _render(template: str, airflow_base: str, *, refresh: bool = False, **context: Any) -> str:
    """The page of ``template``; ``refresh``: it reloads itself."""
    stylesheet = f"{airflow_base}{URL_PREFIX}{STATIC_ROUTE}/{STYLESHEET}"
    return ENVIRONMENT.get_template(template).render(stylesheet=stylesheet, refresh=refresh, **context)


# Task tab ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GateCheck:
    """A check of a gate report as its table shows it (the report is XCom: any shape)."""

    rule: Any
    subject: Any
    value: float | None
    required: list[tuple[str, Any]]
    passed: bool


def task_page(view: TaskEvaluationView, airflow_base: str = "") -> str:
    """The "Evaluation" tab of a task instance."""
    if not view.has_evaluation:
        return _render(
            "task.html", airflow_base, view=view, refresh=view.task_state not in FINISHED_TASK_STATES
        )
    timeline = None
    if view.steps:
        timeline = charts.timeline(
            [
                charts.TimelineStep(
                    name=step.display_name or step.name,
                    status=step.status,
                    start=step.start_time,
                    end=step.end_time,
                    failure_reason=step.failure_reason,
                )
                for step in view.steps
            ],
            now=view.as_of,
        )
    return _render(
        "task.html",
        airflow_base,
        view=view,
        refresh=view.source == "live" and view.status not in TERMINAL_STATUS_VALUES,
        finished_without_results=view.status in TERMINAL_STATUS_VALUES and view.status != "Succeeded",
        timeline=timeline,
        results=_results(view.results),
        gate_checks=_gate_checks(view.gate_report),
        started_by_index="" if view.started_by_map_index in (None, -1) else f"[{view.started_by_map_index}]",
    )


@dataclass(frozen=True)
class Results:
    """The results section: the scores (not their standard errors), charted and tabled."""

    summary: EvaluationSummary
    custom: Mapping[str, float]
    base: Mapping[str, float]
    scores: list[str]
    chart: charts.MetricsChart
    not_numbers: str
    win_rates: charts.WinRates | None
    example_counts: str


def _results(summary: EvaluationSummary | None) -> Results | None:
    if summary is None:
        return None
    custom = summary.metrics.get("custom", {})
    base = summary.metrics.get("base", {})
    scores = [name for name in sorted(set(custom) | set(base)) if not is_standard_error(name)]
    rates = summary.win_rates
    return Results(
        summary=summary,
        custom=custom,
        base=base,
        scores=scores,
        chart=charts.metrics(
            {k: v for k, v in custom.items() if k in scores},
            {k: v for k, v in base.items() if k in scores},
            summary.deltas,
        ),
        not_numbers="; ".join(
            f"{role} {name} = {value.value} ({value.type})"
            for role, metrics in sorted(summary.non_numeric_metrics.items())
            for name, value in sorted(metrics.items())
        ),
        win_rates=None if rates is None else charts.win_rates(rates.custom_wins, rates.ties, rates.base_wins),
        example_counts=", ".join(
            f"{role}: {count}" for role, count in sorted(summary.example_counts.items())
        ),
    )


def _gate_checks(report: Mapping[str, Any] | None) -> list[GateCheck]:
    checks = (report or {}).get("checks")
    return [
        GateCheck(
            rule=check.get("rule"),
            subject=check.get("subject"),
            value=value if isinstance(value := check.get("value"), float | int) else None,
            required=[("≥" if k == "min" else "≤", v) for k, v in bound.items()]
            if isinstance(bound := check.get("bound"), Mapping)
            else [],
            passed=bool(check.get("passed")),
        )
        for check in (checks if isinstance(checks, list) else [])
        if isinstance(check, Mapping)
    ]


# DAG tab ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRow:
    """A row of the runs table: the evaluation, its run's label and its links into Airflow."""

    row: HistoryRow
    label: str
    run_url: str
    task_url: str


def dag_page(view: DagHistoryView, airflow_base: str = "") -> str:
    """The "Evaluations" tab of a DAG: charts per task over the runs, then a table (newest run first)."""
    metrics = history_metrics(view)
    labels = _run_labels(view.rows)
    charts_by_task = {}
    for task_id in sorted({row.task_id for row in view.rows}):
        rows = [row for row in view.rows if row.task_id == task_id]
        points = [
            charts.HistoryPoint(
                label=labels[row.run_id], custom=row.custom, base=row.base, gate_passed=row.gate_passed
            )
            for row in rows
        ]
        task_metrics = [m for m in metrics if any(m in row.custom or m in row.base for row in rows)]
        charts_by_task[task_id] = charts.history(points, task_metrics)
    gated = [row for row in view.rows if row.gate_passed is not None]
    dag_url = f"{airflow_base}/dags/{quote(view.dag_id, safe='')}"
    table = [
        RunRow(
            row=row,
            label=labels[row.run_id],
            run_url=(run_url := f"{dag_url}/runs/{quote(row.run_id, safe='')}"),
            task_url=f"{run_url}/tasks/{quote(row.task_id, safe='')}",
        )
        for row in reversed(view.rows)
    ]
    return _render(
        "dag.html",
        airflow_base,
        view=view,
        metrics=metrics,
        charts_by_task=charts_by_task,
        gated=len(gated),
        gate_passed=sum(1 for row in gated if row.gate_passed),
        table=table,
    )


def history_metrics(view: DagHistoryView) -> Sequence[str]:
    """The metrics charted: the chosen one, else every one."""
    return [view.metric_filter] if view.metric_filter else view.metrics


def _run_labels(rows: Sequence[HistoryRow]) -> dict[str, str]:
    """Run id -> its date (logical date, else run after) to the minute, or the second if minutes repeat."""
    moments = {row.run_id: row.logical_date or row.run_after for row in rows}
    minutes = {run_id: f"{moment:%m-%d %H:%M}" for run_id, moment in moments.items()}
    if len(set(minutes.values())) == len(minutes):
        return minutes
    return {run_id: f"{moment:%m-%d %H:%M:%S}" for run_id, moment in moments.items()}
