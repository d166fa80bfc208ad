"""The results of an execution, summarized or rendered by its eval type's entry in the registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_sm_eval.evaluation.models import EvaluationExecutionData
from airflow_provider_sm_eval.evaluation.results.render import RenderOptions
from airflow_provider_sm_eval.evaluation.results.summary import EvaluationSummary
from airflow_provider_sm_eval.evaluation.types.registry import kind_of

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def summarize(execution: EvaluationExecutionData, s3: S3Client) -> EvaluationSummary:
    """Read a succeeded execution's results and digest them (per-example files are streamed)."""
    return kind_of(execution.eval_type).summarize(execution, s3)


def render_results(
    execution: EvaluationExecutionData,
    s3: S3Client,
    *,
    limit: int = 5,
    offset: int = 0,
    show_explanations: bool = False,
    summary: EvaluationSummary | None = None,
) -> str:
    """The results of a succeeded execution as text (LLM-as-judge: ``limit`` examples from ``offset``).

    With the execution's ``summary`` at hand, its win rates and example counts are used instead
    of streaming every per-example record a second time.
    """
    if not isinstance(limit, int) or limit < 0:
        raise ValueError(f"limit must be a non-negative integer, got {limit!r}")
    if not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be a non-negative integer, got {offset!r}")
    header = [
        f"Evaluation execution {execution.arn}",
        f"Type: {execution.eval_type.value}   Status: {execution.status.overall_status.value}",
        f"S3 output: {execution.s3_output_path}",
    ]
    options = RenderOptions(limit, offset, show_explanations, summary)
    return "\n".join(header) + "\n\n" + kind_of(execution.eval_type).render(execution, s3, options)
