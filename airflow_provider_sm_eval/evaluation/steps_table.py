"""Plain-text tables for terminals and task logs, and the step table built on them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from airflow_provider_sm_eval.evaluation.models import StepDetail

_MAX_CELL = 120


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned columns separated by two spaces, with a dashed rule under the headers.

    Cells are flattened to one line and cut at 120 characters so a table stays readable.
    """
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for index, text in enumerate(row):
            widths[index] = max(widths[index], len(text))
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(t.ljust(w) for t, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def format_step_table(steps: list[StepDetail]) -> str:
    """Steps with status, start and end times, job and failure reason; used in logs."""
    if not steps:
        return "(no steps yet)"
    rows = [
        (
            step.name,
            step.status.value,
            _time(step.start_time),
            _time(step.end_time),
            step.job_name or "",
            step.failure_reason or "",
        )
        for step in steps
    ]
    return format_table(("Step", "Status", "Started (UTC)", "Ended (UTC)", "Job", "Failure reason"), rows)


def _time(value: datetime | None) -> str:
    """UTC time of an aware datetime (botocore gives local ones); naive ones are taken as UTC."""
    if value is None:
        return ""
    return (value.astimezone(timezone.utc) if value.tzinfo else value).strftime("%Y-%m-%d %H:%M:%S")


def _cell(value: object) -> str:
    if value is None:
        text = ""
    elif isinstance(value, float):
        text = f"{value:.4f}"
    else:
        text = " ".join(str(value).split())
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 3] + "..."
