"""Results of benchmark and custom-scorer evaluations: a metrics file per evaluated model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_sm_eval.evaluation.constants import BENCHMARK_RESULT_STEPS
from airflow_provider_sm_eval.evaluation.exceptions import ResultFileError
from airflow_provider_sm_eval.evaluation.models import EvaluationExecutionData
from airflow_provider_sm_eval.evaluation.results.locations import ModelRole, result_jobs, results_root
from airflow_provider_sm_eval.evaluation.results.non_numeric import (
    NonNumericMetric,
    describe_value,
    finite_float,
    is_number,
    warn_non_numeric,
)
from airflow_provider_sm_eval.evaluation.results.s3_objects import first_key, read_json
from airflow_provider_sm_eval.evaluation.s3_layout import is_benchmark_result_key, job_output_prefix

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: Metric names containing this are standard errors of another metric, not scores.
STDERR_MARKER = "stderr"


@dataclass(frozen=True)
class ModelMetrics:
    """The metrics one evaluation job reported for one model; those that are not numbers apart."""

    role: ModelRole
    job_name: str
    result_uri: str
    metrics: dict[str, float]
    non_numeric: tuple[NonNumericMetric, ...] = ()


@dataclass(frozen=True)
class BenchmarkResults:
    """Metrics per evaluated model; a base-only or custom-only evaluation has one entry."""

    models: dict[ModelRole, ModelMetrics]


def is_standard_error(metric_name: str) -> bool:
    return STDERR_MARKER in metric_name


def read_benchmark_results(execution: EvaluationExecutionData, s3: S3Client) -> BenchmarkResults:
    """Read the ``results_*.json`` file of each evaluation job of a succeeded execution."""
    root = results_root(execution)
    models: dict[ModelRole, ModelMetrics] = {}
    for role, job_name in result_jobs(execution, BENCHMARK_RESULT_STEPS).items():
        folder = job_output_prefix(root, job_name)
        uri = first_key(s3, folder, is_benchmark_result_key)
        if uri is None:
            raise ResultFileError(f"{folder}/results_*.json", "no result file was found")
        metrics, non_numeric = metrics_from_document(read_json(s3, uri), str(uri))
        warn_non_numeric(str(uri), non_numeric)
        models[role] = ModelMetrics(role, job_name, str(uri), metrics, non_numeric)
    return BenchmarkResults(models)


def metrics_from_document(document: Any, uri: str) -> tuple[dict[str, float], tuple[NonNumericMetric, ...]]:
    """Metric name to value from ``results["all"]``, else the first non-empty dict under ``results``,
    and the entries of that dict that are not numbers (booleans included)."""
    results = document.get("results") if isinstance(document, dict) else None
    if not isinstance(results, dict):
        raise ResultFileError(uri, "has no 'results' object")
    candidates = [results.get("all")] + [v for k, v in results.items() if k != "all"]
    chosen = next((c for c in candidates if isinstance(c, dict) and c), None)
    if chosen is None:
        raise ResultFileError(uri, "'results' holds no metrics")
    metrics: dict[str, float] = {}
    non_numeric: list[NonNumericMetric] = []
    for name, value in chosen.items():
        if not is_number(value):
            non_numeric.append(NonNumericMetric.of(str(name), value))
        elif (number := finite_float(value)) is None:
            raise ResultFileError(uri, f"metric {name!r} is {describe_value(value)}, not a finite number")
        else:
            metrics[str(name)] = number
    if not metrics:
        listed = "; ".join(metric.describe() for metric in non_numeric)
        raise ResultFileError(uri, f"'results' holds no numeric metric (not numbers: {listed})")
    return metrics, tuple(non_numeric)
