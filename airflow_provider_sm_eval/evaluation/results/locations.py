"""Which jobs of a succeeded execution hold its results, and under which S3 root."""

from __future__ import annotations

from enum import Enum

from airflow_provider_sm_eval.evaluation.constants import StepName, StepStatus
from airflow_provider_sm_eval.evaluation.exceptions import ResultsNotAvailableError
from airflow_provider_sm_eval.evaluation.models import EvaluationExecutionData
from airflow_provider_sm_eval.evaluation.s3_layout import S3Uri, parse_s3_uri


class ModelRole(str, Enum):
    """The two models an evaluation compares (a StrEnum, which Python 3.10 lacks)."""

    CUSTOM = "custom"
    BASE = "base"

    def __str__(self) -> str:
        return self.value


def results_root(execution: EvaluationExecutionData) -> S3Uri:
    """The execution's S3 output root; ResultsNotAvailableError unless it succeeded with one."""
    if not execution.status.is_succeeded:
        raise ResultsNotAvailableError(
            f"Evaluation execution {execution.arn} is {execution.status.overall_status.value}; "
            "results exist only once it has Succeeded"
        )
    if not execution.s3_output_path:
        why = execution.s3_output_path_problem
        raise ResultsNotAvailableError(
            f"Evaluation execution {execution.arn} has no known S3 output path: {why}"
            if why
            else f"Evaluation execution {execution.arn} has no known S3 output path "
            "(refresh it, or pass s3_output_path when starting)"
        )
    return parse_s3_uri(execution.s3_output_path, name="s3_output_path")


def result_jobs(execution: EvaluationExecutionData, steps: tuple[StepName, StepName]) -> dict[ModelRole, str]:
    """Training job name of the (custom, base) result steps that ran, by model role.

    Base-only and custom-only evaluations have one of the two steps.
    """
    jobs: dict[ModelRole, str] = {}
    by_name = {step.name: step for step in execution.steps}
    for role, step_name in zip((ModelRole.CUSTOM, ModelRole.BASE), steps, strict=True):
        step = by_name.get(step_name.value)
        if step is None:
            continue
        if step.status is not StepStatus.SUCCEEDED or not step.job_name:
            raise ResultsNotAvailableError(
                f"Step {step.name} of {execution.arn} is {step.status.value} with no result job"
            )
        jobs[role] = step.job_name
    if not jobs:
        names = " or ".join(s.value for s in steps)
        raise ResultsNotAvailableError(f"Evaluation execution {execution.arn} has no {names} step")
    return jobs
