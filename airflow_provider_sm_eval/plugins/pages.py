"""The HTML of the two pages: plain HTML and CSS around the server-drawn SVG charts, no JavaScript.

A page of an execution that may still change reloads itself (``<meta http-equiv="refresh">``).
Every value is escaped; links to AWS open in a new tab, links into Airflow in the top window.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from html import escape
from urllib.parse import quote

from airflow_provider_sm_eval.plugins import svg
from airflow_provider_sm_eval.plugins.view_models import (
    TERMINAL_STATUS_VALUES,
    DagHistoryView,
    ExampleView,
    HistoryRow,
    JudgeAnswerView,
    TaskEvaluationView,
)

#: Seconds between reloads of a page whose execution is still running.
REFRESH_SECONDS = 10

STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; padding: 16px 20px 32px; color: #1f2933; background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 18px; margin: 0 0 4px; display: flex; align-items: center; gap: 10px; }
h2 { font-size: 15px; margin: 26px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #e4e7eb; }
h3 { font-size: 14px; margin: 18px 0 6px; }
.meta { color: #52606d; font-size: 12.5px; margin: 2px 0; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 12px; color: #fff; font-size: 12px;
  font-weight: 600; }
.note { padding: 10px 12px; border-radius: 6px; margin: 10px 0; }
.note.error { background: #fdecea; color: #8a1c1c; border: 1px solid #f5c2c0; }
.note.warn { background: #fff8e1; color: #6d4c00; border: 1px solid #ffe08a; }
.note.info { background: #e8f1fb; color: #0b3c6f; border: 1px solid #bcd6f5; }
.empty { margin: 48px auto; max-width: 560px; text-align: center; color: #52606d; }
.empty .title { font-size: 16px; color: #1f2933; font-weight: 600; margin-bottom: 6px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid #eef0f2; vertical-align: top; }
th { color: #52606d; font-weight: 600; background: #f7f9fa; }
th.group { text-align: center; border-bottom: 1px solid #e4e7eb; }
td.base { color: #7b8794; } td.nowrap { white-space: nowrap; }
table.history td, table.history th { padding: 5px 7px; }
table.history td.gate { min-width: 200px; max-width: 300px; }
table.history td.gate .reason { font-size: 12px; }
.scroll { overflow-x: auto; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.pos { color: #2e7d32; font-weight: 600; } .neg { color: #c62828; font-weight: 600; }
.reason { color: #8a1c1c; font-size: 12.5px; }
.chart { max-width: 100%; height: auto; display: block; margin: 6px 0; }
.examples { display: grid; gap: 12px; }
.example { border: 1px solid #e4e7eb; border-radius: 8px; padding: 10px 12px; }
.example .prompt { font-weight: 600; margin-bottom: 8px; }
.answers { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.answer { background: #f7f9fa; border-radius: 6px; padding: 8px 10px; }
.answer.custom { border-left: 4px solid #1565c0; } .answer.base { border-left: 4px solid #9e9e9e; }
.answer .who { font-size: 12px; font-weight: 600; color: #52606d; text-transform: uppercase; }
.score { font-size: 12.5px; margin-top: 4px; } .score .explanation { color: #52606d; }
form.filters { display: flex; gap: 12px; align-items: end; flex-wrap: wrap; margin: 8px 0 4px; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: #52606d; gap: 2px; }
form.filters select, form.filters button { font: inherit; padding: 4px 8px; border: 1px solid #cbd2d9;
  border-radius: 6px; background: #fff; }
form.filters button { background: #1565c0; color: #fff; border-color: #1565c0; cursor: pointer; }
a { color: #1565c0; }
ul.links { padding-left: 18px; margin: 6px 0; }
"""


def _h(value: object) -> str:
    return escape("" if value is None else str(value))


def _page(title: str, body: str, *, refresh: bool = False) -> str:
    meta = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">' if refresh else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{meta}'
        f"<title>{_h(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )


def _badge(status: str | None) -> str:
    if not status:
        return ""
    colour = svg.STATUS_COLOURS.get(status, "#607d8b")
    return (
        f'<span class="badge status" data-status="{_h(status)}" style="background:{colour}">'
        f"{_h(status)}</span>"
    )


def _delta(value: float | None) -> str:
    if value is None:
        return ""
    css = "pos" if value >= 0 else "neg"
    return f'<span class="{css}">{_h(svg.format_delta(value))}</span>'


def _number(value: float | None) -> str:
    return "" if value is None else _h(svg.format_number(value))


def _table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[bool], css: str = ""
) -> str:
    head = "".join(
        f'<th class="{"num" if n else ""}">{_h(h)}</th>' for h, n in zip(headers, numeric, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if n else ""}">{cell}</td>' for cell, n in zip(row, numeric, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


# Task tab ---------------------------------------------------------------------------------------------


def task_page(view: TaskEvaluationView) -> str:
    """The "Evaluation" tab of a task instance."""
    title = f"Evaluation of {view.task_id}"
    if not view.has_evaluation:
        body = (
            '<div class="empty" id="empty-state">'
            '<div class="title">No SageMaker evaluation for this task</div>'
            f'<p>{_h(view.empty_reason)}</p><p class="meta">Task <code>{_h(view.task_id)}</code> of run '
            f"<code>{_h(view.run_id)}</code> ({_h(view.operator)}).</p></div>"
        )
        running = view.task_state not in {"success", "failed", "skipped", "upstream_failed", "removed"}
        return _page(title, body, refresh=running)
    now = view.as_of
    parts = [
        f"<h1>Evaluation {_badge(view.status)}</h1>",
        f'<p class="meta">Execution <code id="execution-arn">{_h(view.execution_arn)}</code></p>',
        f'<p class="meta">Type <b>{_h(view.eval_type or "unknown")}</b> &middot; task '
        f"<code>{_h(view.task_id)}</code> ({_h(view.operator)}, {_h(view.task_state)}) &middot; "
        + (
            f"live status from SageMaker at {now:%H:%M:%S} UTC"
            if view.source == "live"
            else "as recorded by the task in XCom"
        )
        + "</p>",
    ]
    parts.append(_ownership_note(view))
    if view.live_error and view.ownership != "unverified":
        parts.append(
            f'<div class="note warn" id="live-error">'
            "Live status unavailable, showing what the task recorded: "
            f"{_h(view.live_error)}</div>"
        )
    if view.failure_reason:
        parts.append(
            f'<div class="note error" id="failure-reason"><b>Failure:</b> {_h(view.failure_reason)}</div>'
        )
    parts.append(_steps_section(view, now))
    parts.append(_results_section(view))
    if view.gate_report:
        parts.append(_gate_section(view.gate_report))
    if view.examples or view.examples_error:
        parts.append(_examples_section(view.examples, view.examples_error))
    if view.links:
        items = "".join(
            f'<li><a href="{_h(link.url)}" target="_blank" rel="noopener noreferrer">{_h(link.name)}</a></li>'
            for link in view.links
        )
        parts.append(f'<h2>Links</h2><ul class="links" id="links">{items}</ul>')
    refresh = view.source == "live" and view.status not in TERMINAL_STATUS_VALUES
    return _page(title, "".join(parts), refresh=refresh)


def _ownership_note(view: TaskEvaluationView) -> str:
    """Who started the execution; for one this DAG run did not start, why nothing of it is read."""
    recorded_only = (
        " This tab reads nothing of it from SageMaker (no live status, no per-example records, "
        "no links): it shows only what this task recorded in XCom."
    )
    if view.ownership == "foreign":
        return (
            '<div class="note error" id="foreign-execution"><b>Not started by this DAG run.</b> '
            f"{_h(view.ownership_note)}{recorded_only}</div>"
        )
    if view.ownership == "unverified":
        return (
            f'<div class="note warn" id="unverified-execution">{_h(view.ownership_note)}'
            f"{recorded_only} ({_h(view.live_error)})</div>"
        )
    if view.ownership == "this_run":
        task = view.started_by_task_id
        index = "" if view.started_by_map_index in (None, -1) else f"[{view.started_by_map_index}]"
        return (
            f'<p class="meta" id="started-by">Started by task <code>{_h(task)}{index}</code> of this run.</p>'
        )
    return ""


def _steps_section(view: TaskEvaluationView, now: datetime) -> str:
    if not view.steps:
        return '<h2>Steps</h2><p class="meta">No step has started yet.</p>'
    timeline = svg.timeline_svg(
        [
            svg.TimelineStep(
                name=step.display_name or step.name,
                status=step.status,
                start=step.start_time,
                end=step.end_time,
                failure_reason=step.failure_reason,
            )
            for step in view.steps
        ],
        now=now,
    )
    rows = []
    for step in view.steps:
        detail = f'<div class="reason">{_h(step.failure_reason)}</div>' if step.failure_reason else ""
        log = (
            f'<a href="{_h(step.log_url)}" target="_blank" rel="noopener noreferrer">logs</a>'
            if step.log_url
            else ""
        )
        rows.append(
            (
                f"<code>{_h(step.name)}</code>{detail}",
                _badge(step.status),
                _h(f"{step.start_time:%H:%M:%S}") if step.start_time else "",
                _h(svg.format_duration(step.duration_seconds)) if step.duration_seconds is not None else "",
                log,
            )
        )
    table = _table(
        ("step", "status", "started (UTC)", "duration", "job"), rows, (False, False, False, True, False)
    )
    return f'<h2>Steps</h2><div id="timeline">{timeline}</div>{table}'


def _results_section(view: TaskEvaluationView) -> str:
    summary = view.results
    if summary is None:
        if view.status in TERMINAL_STATUS_VALUES and view.status != "Succeeded":
            return '<h2>Results</h2><p class="meta">The execution did not succeed: there are no results.</p>'
        return (
            '<h2>Results</h2><p class="meta" id="no-results">'
            "No results yet: they are read once the execution has succeeded.</p>"
        )
    custom = summary.metrics.get("custom", {})
    base = summary.metrics.get("base", {})
    scores = [name for name in sorted(set(custom) | set(base)) if "stderr" not in name]
    chart = svg.metrics_svg(
        {k: v for k, v in custom.items() if k in scores},
        {k: v for k, v in base.items() if k in scores},
        summary.deltas,
    )
    rows = [
        (
            f"<code>{_h(name)}</code>",
            _number(custom.get(name)) + _stderr(custom, name),
            _number(base.get(name)) + _stderr(base, name),
            _delta(summary.deltas.get(name)),
        )
        for name in scores
    ]
    parts = [
        "<h2>Metrics: custom vs base model</h2>",
        f'<div id="metrics-chart">{chart}</div>',
        _table(("metric", "custom", "base", "delta"), rows, (False, True, True, True), css="metrics"),
    ]
    not_numbers = [
        f"{role} {name} = {value.value} ({value.type})"
        for role, metrics in sorted(summary.non_numeric_metrics.items())
        for name, value in sorted(metrics.items())
    ]
    if not_numbers:
        parts.append(
            f'<p class="meta" id="non-numeric">Metrics that are not numbers (not compared): '
            f"{_h('; '.join(not_numbers))}.</p>"
        )
    if summary.truncated:
        parts.append('<p class="meta">The summary was truncated to its bounded size.</p>')
    rates = summary.win_rates
    if rates is not None:
        parts.append("<h2>LLM-as-judge win rates</h2>")
        parts.append(
            f'<div id="win-rates">{svg.win_rate_svg(rates.custom_wins, rates.ties, rates.base_wins)}</div>'
        )
        parts.append(
            f'<p class="meta">Custom model preferred on {rates.custom_win_rate:.0%} of {rates.pairs} pairs, '
            f"base model on {rates.base_win_rate:.0%}, ties {rates.tie_rate:.0%}.</p>"
        )
    if summary.example_counts:
        counts = ", ".join(f"{role}: {count}" for role, count in sorted(summary.example_counts.items()))
        parts.append(f'<p class="meta">Per-example records: {_h(counts)}.</p>')
    return "".join(parts)


def _stderr(metrics: Mapping[str, float], name: str) -> str:
    value = metrics.get(f"{name}_stderr")
    return "" if value is None else f' <span class="meta">&plusmn;{_h(svg.format_number(value))}</span>'


def _gate_section(report: Mapping[str, object]) -> str:
    passed = bool(report.get("passed"))
    outcome, colour = ("passed", svg.POSITIVE_COLOUR) if passed else ("failed", svg.NEGATIVE_COLOUR)
    badge = (
        f'<span class="badge" id="gate-outcome" data-gate="{outcome}" '
        f'style="background:{colour}">{outcome}</span>'
    )
    task = f" (task <code>{_h(report['task_id'])}</code>)" if report.get("task_id") else ""
    rows = []
    checks = report.get("checks")
    for check in checks if isinstance(checks, list) else []:
        if not isinstance(check, Mapping):
            continue
        bound = check.get("bound") if isinstance(check.get("bound"), Mapping) else {}
        assert isinstance(bound, Mapping)
        required = " and ".join(f"{'&ge;' if k == 'min' else '&le;'} {_h(v)}" for k, v in bound.items())
        ok = bool(check.get("passed"))
        rows.append(
            (
                _h(check.get("rule")),
                f"<code>{_h(check.get('subject'))}</code>",
                _number(check.get("value") if isinstance(check.get("value"), float | int) else None),
                required,
                '<span class="pos">&#10003; pass</span>' if ok else '<span class="neg">&#10007; fail</span>',
            )
        )
    table = _table(
        ("rule", "subject", "value", "required", "outcome"), rows, (False, False, True, False, False)
    )
    return f"<h2>Quality gate {badge}{task}</h2>{table}"


def _examples_section(examples: Sequence[ExampleView], error: str | None) -> str:
    parts = ["<h2>Per-example judge records</h2>"]
    if error:
        parts.append(f'<div class="note warn" id="examples-error">Records unavailable: {_h(error)}</div>')
    cards = []
    for example in examples:
        cards.append(
            f'<div class="example" data-index="{example.index}"><div class="prompt">#{example.index + 1} '
            f'{_h(example.prompt)}</div><div class="answers">'
            f"{_answer('custom', example.custom)}{_answer('base', example.base)}</div></div>"
        )
    parts.append(f'<div class="examples" id="examples">{"".join(cards)}</div>')
    return "".join(parts)


def _answer(role: str, answer: JudgeAnswerView | None) -> str:
    if answer is None:
        return (
            f'<div class="answer {role}"><div class="who">{role} model</div>'
            '<p class="meta">no record</p></div>'
        )
    scores = "".join(
        f'<div class="score"><b>{_h(score.metric)}</b> {_number(score.result)} '
        f'<span class="explanation">{_h(score.explanation)}</span></div>'
        for score in answer.scores
    )
    return (
        f'<div class="answer {role}"><div class="who">{role} model</div>'
        f"<div>{_h(answer.response)}</div>{scores}</div>"
    )


# DAG tab ----------------------------------------------------------------------------------------------


def dag_page(view: DagHistoryView, airflow_base: str = "") -> str:
    """The "Evaluations" tab of a DAG: charts per task over the runs, then a table."""
    title = f"Evaluations of {view.dag_id}"
    parts = [f"<h1>Evaluations of <code>{_h(view.dag_id)}</code></h1>", _filters(view)]
    if not view.rows:
        parts.append(
            '<div class="empty" id="empty-state"><div class="title">No evaluation results yet</div>'
            f"<p>None of the latest {view.runs_read} runs of this DAG recorded an evaluation summary"
            f"{' for the chosen filter' if view.task_filter or view.metric_filter else ''}.</p></div>"
        )
        return _page(title, "".join(parts))
    metrics = history_metrics(view)
    labels = _run_labels(view.rows)
    gated = [row for row in view.rows if row.gate_passed is not None]
    passed = sum(1 for row in gated if row.gate_passed)
    parts.append(
        f'<p class="meta">{len(view.rows)} evaluations in the latest {view.runs_read} runs'
        + (f"; gate passed {passed} of {len(gated)} times" if gated else "")
        + ".</p>"
    )
    for task_id in sorted({row.task_id for row in view.rows}):
        rows = [row for row in view.rows if row.task_id == task_id]
        points = [
            svg.HistoryPoint(
                label=labels[row.run_id], custom=row.custom, base=row.base, gate_passed=row.gate_passed
            )
            for row in rows
        ]
        task_metrics = [m for m in metrics if any(m in row.custom or m in row.base for row in rows)]
        parts.append(
            f'<h3>Task <code>{_h(task_id)}</code></h3><div class="history-chart" data-task="{_h(task_id)}">'
            f"{svg.history_svg(points, task_metrics)}</div>"
        )
    parts.append("<h2>Runs</h2>")
    parts.append(_history_table(view.dag_id, view.rows, metrics, labels, airflow_base))
    return _page(title, "".join(parts))


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


def _filters(view: DagHistoryView) -> str:
    def options(values: Sequence[str], chosen: str | None, everything: str) -> str:
        items = [f'<option value=""{"" if chosen else " selected"}>{_h(everything)}</option>']
        items += [
            f'<option value="{_h(v)}"{" selected" if v == chosen else ""}>{_h(v)}</option>' for v in values
        ]
        return "".join(items)

    return (
        '<form class="filters" method="get">'
        '<label>Task<select name="task_id">'
        f"{options(view.task_ids, view.task_filter, 'all tasks')}</select></label>"
        '<label>Metric<select name="metric">'
        f"{options(view.metrics, view.metric_filter, 'all metrics')}</select></label>"
        '<button type="submit">Apply</button></form>'
    )


def _history_table(
    dag_id: str,
    rows: Sequence[HistoryRow],
    metrics: Sequence[str],
    labels: Mapping[str, str],
    airflow_base: str,
) -> str:
    """Newest run first; per metric a custom, a base and a delta column under the metric's name."""
    head = (
        '<tr><th rowspan="2">run</th><th rowspan="2">task</th><th rowspan="2">status</th>'
        '<th rowspan="2">gate</th>'
        + "".join(f'<th colspan="3" class="group"><code>{_h(m)}</code></th>' for m in metrics)
        + "</tr><tr>"
        + '<th class="num">custom</th><th class="num">base</th><th class="num">delta</th>' * len(metrics)
        + "</tr>"
    )
    body = []
    for row in reversed(rows):
        run_url = f"{airflow_base}/dags/{quote(dag_id, safe='')}/runs/{quote(row.run_id, safe='')}"
        task_url = f"{run_url}/tasks/{quote(row.task_id, safe='')}"
        values = "".join(
            f'<td class="num">{_number(row.custom.get(m))}</td>'
            f'<td class="num base">{_number(row.base.get(m))}</td>'
            f'<td class="num">{_delta(row.deltas.get(m))}</td>'
            for m in metrics
        )
        body.append(
            f'<tr data-run="{_h(row.run_id)}"><td class="nowrap"><a href="{_h(run_url)}" target="_top" '
            f'title="{_h(row.run_id)}">{_h(labels[row.run_id])}</a></td>'
            f'<td><a href="{_h(task_url)}" target="_top"><code>{_h(row.task_id)}</code></a></td>'
            f'<td>{_badge(row.status)}</td><td class="gate">{_gate_cell(row)}</td>{values}</tr>'
        )
    table = f'<table class="history"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'
    return f'<div class="scroll">{table}</div>'


def _gate_cell(row: HistoryRow) -> str:
    if row.gate_passed is None:
        return '<span class="meta">no gate</span>'
    if row.gate_passed:
        return f'<span class="pos" data-gate="passed" title="{_h(row.gate_task_id)}">&#10003; passed</span>'
    reasons = "".join(f'<div class="reason">{_h(v)}</div>' for v in row.gate_violations)
    return (
        f'<span class="neg" data-gate="failed" title="{_h(row.gate_task_id)}">&#10007; failed</span>{reasons}'
    )
