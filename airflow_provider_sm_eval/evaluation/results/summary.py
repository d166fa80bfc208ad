"""EvaluationSummary: a compact, bounded, JSON-serializable digest of an execution's results.

It is meant for XCom: whatever the size of the results, it keeps at most
``MAX_METRICS_PER_MODEL`` metrics (and as many non-numeric ones) per model and
``MAX_ARTIFACT_URIS`` URIs, with names cut to ``MAX_NAME_CHARS``, and says so in ``truncated``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator

from airflow_provider_sm_eval.evaluation.constants import EvalType
from airflow_provider_sm_eval.evaluation.models import EvaluationExecutionData
from airflow_provider_sm_eval.evaluation.results.benchmark import is_standard_error, read_benchmark_results
from airflow_provider_sm_eval.evaluation.results.llm_as_judge import (
    WinRates,
    compare_examples,
    read_llmaj_results,
)
from airflow_provider_sm_eval.evaluation.results.non_numeric import (
    NonNumericMetric,
    describe_value,
    is_number,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MAX_METRICS_PER_MODEL = 50
MAX_ARTIFACT_URIS = 20
MAX_NAME_CHARS = 200
_V = TypeVar("_V")


def _only_numbers(value: Any) -> Any:
    """Refuse what the result readers call non-numeric (a boolean, a numeric string) before
    pydantic would coerce it: a summary's ``true`` is not 1.0, nor ``"0.99"`` 0.99."""
    if not is_number(value):
        raise ValueError(f"not a number: {describe_value(value)}")
    return value


#: A float field of the summary: a JSON number only (see :func:`_only_numbers`).
Number = Annotated[float, BeforeValidator(_only_numbers)]
#: A count of the summary: a JSON whole number only.
Count = Annotated[int, BeforeValidator(_only_numbers)]


class WinRateSummary(BaseModel):
    """Custom-vs-base comparison over examples paired by index."""

    pairs: Count
    custom_wins: Count
    base_wins: Count
    ties: Count
    custom_win_rate: Number
    base_win_rate: Number
    tie_rate: Number

    @classmethod
    def from_win_rates(cls, rates: WinRates) -> WinRateSummary:
        return cls(
            pairs=rates.pairs,
            custom_wins=rates.custom_wins,
            base_wins=rates.base_wins,
            ties=rates.ties,
            custom_win_rate=rates.rate(rates.custom_wins),
            base_win_rate=rates.rate(rates.base_wins),
            tie_rate=rates.rate(rates.ties),
        )


class NonNumericValue(BaseModel):
    """A metric whose value is not a number: its JSON type and its JSON text (cut short)."""

    type: str
    value: str


class EvaluationSummary(BaseModel):
    """Per-model metrics, custom minus base deltas, win rates, example counts and artifact URIs.

    ``non_numeric_metrics`` (model to metric name) lists the metrics of the result files whose
    value is not a number; they are in neither ``metrics`` nor ``deltas``.
    """

    eval_type: EvalType
    execution_arn: str
    metrics: dict[str, dict[str, Number]]
    deltas: dict[str, Number]
    win_rates: WinRateSummary | None = None
    example_counts: dict[str, Count] = {}
    artifact_uris: list[str] = []
    truncated: bool = False
    non_numeric_metrics: dict[str, dict[str, NonNumericValue]] = {}


def summarize_benchmark(execution: EvaluationExecutionData, s3: S3Client) -> EvaluationSummary:
    """Digest the custom and base metrics files of a succeeded benchmark or custom-scorer execution."""
    benchmark = read_benchmark_results(execution, s3)
    return build_summary(
        execution,
        metrics={role.value: model.metrics for role, model in benchmark.models.items()},
        artifact_uris=[model.result_uri for model in benchmark.models.values()],
        non_numeric={role.value: model.non_numeric for role, model in benchmark.models.items()},
    )


def summarize_llmaj(execution: EvaluationExecutionData, s3: S3Client) -> EvaluationSummary:
    """Digest the judge results of a succeeded LLM-as-judge execution (examples are streamed)."""
    llmaj = read_llmaj_results(execution, s3)
    comparison = compare_examples(s3, llmaj)
    return build_summary(
        execution,
        metrics={
            role.value: {name: m.score for name, m in model.metrics.items() if m.score is not None}
            for role, model in llmaj.models.items()
        },
        artifact_uris=[
            uri for model in llmaj.models.values() for uri in (model.aggregate_uri, model.examples_uri)
        ],
        win_rates=comparison.win_rates,
        example_counts={role.value: count for role, count in comparison.counts.items()},
        non_numeric={role.value: model.non_numeric for role, model in llmaj.models.items()},
    )


def build_summary(
    execution: EvaluationExecutionData,
    *,
    metrics: Mapping[str, Mapping[str, float]],
    artifact_uris: list[str],
    win_rates: WinRates | None = None,
    example_counts: Mapping[str, int] | None = None,
    non_numeric: Mapping[str, Iterable[NonNumericMetric]] | None = None,
) -> EvaluationSummary:
    """Bound the inputs and compute the custom-minus-base deltas of the scores both models have."""
    kept, truncated = _bounded(metrics)
    listed, truncated_listing = _bounded(
        {
            role: {metric.name: NonNumericValue(type=metric.json_type, value=metric.raw) for metric in items}
            for role, items in (non_numeric or {}).items()
        }
    )
    custom, base = kept.get("custom", {}), kept.get("base", {})
    deltas = {
        name: round(custom[name] - base[name], 10)
        for name in sorted(custom.keys() & base.keys())
        if not is_standard_error(name)
    }
    truncated = truncated or truncated_listing or len(artifact_uris) > MAX_ARTIFACT_URIS
    return EvaluationSummary(
        eval_type=execution.eval_type,
        execution_arn=execution.arn,
        metrics=kept,
        deltas=deltas,
        win_rates=WinRateSummary.from_win_rates(win_rates) if win_rates else None,
        example_counts=dict(example_counts or {}),
        artifact_uris=artifact_uris[:MAX_ARTIFACT_URIS],
        truncated=truncated,
        non_numeric_metrics={role: values for role, values in listed.items() if values},
    )


def _bounded(per_model: Mapping[str, Mapping[str, _V]]) -> tuple[dict[str, dict[str, _V]], bool]:
    """At most ``MAX_METRICS_PER_MODEL`` names per model (in name order), each cut to
    ``MAX_NAME_CHARS``, and whether anything was cut."""
    truncated = False
    kept: dict[str, dict[str, _V]] = {}
    for role, values in per_model.items():
        names = sorted(values)
        truncated = truncated or len(names) > MAX_METRICS_PER_MODEL
        kept[role] = {}
        for name in names[:MAX_METRICS_PER_MODEL]:
            truncated = truncated or len(name) > MAX_NAME_CHARS
            kept[role][name[:MAX_NAME_CHARS]] = values[name]
    return kept, truncated
