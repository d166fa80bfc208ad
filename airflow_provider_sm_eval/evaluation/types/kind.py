"""EvaluationKind: everything that differs between evaluation types, in one value."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from airflow_provider_sm_eval.evaluation.constants import EvalType, StepName

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from airflow_provider_sm_eval.evaluation.models import EvaluationExecutionData
    from airflow_provider_sm_eval.evaluation.results.render import RenderOptions
    from airflow_provider_sm_eval.evaluation.results.summary import EvaluationSummary

Summarizer = Callable[["EvaluationExecutionData", "S3Client"], "EvaluationSummary"]
Renderer = Callable[["EvaluationExecutionData", "S3Client", "RenderOptions"], str]


class ResultFamily(str, Enum):
    """Result formats; types of one family share readers and the SDK's execution class."""

    BENCHMARK = "benchmark"
    LLM_AS_JUDGE = "llm_as_judge"


@dataclass(frozen=True)
class EvaluationKind:
    """One evaluation type: how its pipelines are named, which steps write its results, how
    they are read, summarized and rendered."""

    eval_type: EvalType
    pipeline_name_prefix: str
    family: ResultFamily
    #: (custom model, base model) steps whose training jobs write the result files.
    result_steps: tuple[StepName, StepName]
    summarize: Summarizer
    render: Renderer

    def names_pipeline(self, pipeline_name: str) -> bool:
        """True when ``pipeline_name`` carries this type's prefix (ARNs carry lower-case names)."""
        return pipeline_name.lower().startswith(self.pipeline_name_prefix.lower())
