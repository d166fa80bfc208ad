"""The plain-text step table used in logs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow_provider_sm_eval.evaluation.constants import StepStatus
from airflow_provider_sm_eval.evaluation.models import StepDetail
from airflow_provider_sm_eval.evaluation.steps_table import format_step_table, format_table


def test_step_table_lists_status_times_job_and_reason() -> None:
    steps = [
        StepDetail(
            name="EvaluateCustomModel",
            status=StepStatus.FAILED,
            start_time=datetime(2026, 11, 28, 13, 0, 1, tzinfo=timezone(timedelta(hours=1))),
            end_time=datetime(2026, 11, 28, 12, 5, 0, tzinfo=timezone.utc),
            failure_reason="AlgorithmError:\n out of memory",
            job_arn="arn:aws:sagemaker:us-east-1:123456789012:training-job/eval-custom",
        ),
        StepDetail(name="AssociateLineage", status=StepStatus.STARTING),
    ]
    lines = format_step_table(steps).splitlines()
    assert lines[0].split() == [
        "Step",
        "Status",
        "Started",
        "(UTC)",
        "Ended",
        "(UTC)",
        "Job",
        "Failure",
        "reason",
    ]
    assert set(lines[1]) == {"-", " "}
    assert lines[2].split() == [
        "EvaluateCustomModel",
        "Failed",
        "2026-11-28",
        "12:00:01",
        "2026-11-28",
        "12:05:00",
        "eval-custom",
        "AlgorithmError:",
        "out",
        "of",
        "memory",
    ]
    assert lines[3].split() == ["AssociateLineage", "Starting"]
    assert lines[2].index("Failed") == lines[0].index("Status") == lines[3].index("Starting")


def test_empty_step_list() -> None:
    assert format_step_table([]) == "(no steps yet)"


def test_long_cells_are_cut_and_floats_rounded() -> None:
    table = format_table(("Name", "Value"), [("x" * 500, 0.123456789)])
    row = table.splitlines()[2]
    assert "..." in row and len(row) < 200
    assert row.endswith("0.1235")
