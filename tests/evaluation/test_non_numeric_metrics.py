"""Metrics that are not numbers are listed in the summary and the rendering, and logged, never dropped."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from evaluation_helpers import (
    BASE_BENCHMARK_STEP,
    CUSTOM_BENCHMARK_STEP,
    CUSTOM_METRICS_STEP,
    benchmark_result,
    judge_record,
    llmaj_result,
    succeeded_execution,
)

from airflow_provider_sm_eval.evaluation.constants import EvalType
from airflow_provider_sm_eval.evaluation.exceptions import ResultFileError
from airflow_provider_sm_eval.evaluation.report import render_results, summarize
from airflow_provider_sm_eval.evaluation.results.non_numeric import MAX_RAW_CHARS
from airflow_provider_sm_eval.evaluation.results.summary import MAX_METRICS_PER_MODEL, EvaluationSummary
from airflow_provider_sm_eval.evaluation.s3_layout import S3Uri

#: Keys of the summary before non-numeric metrics were reported: all still there, same meaning.
SUMMARY_KEYS = {
    "eval_type",
    "execution_arn",
    "metrics",
    "deltas",
    "win_rates",
    "example_counts",
    "artifact_uris",
    "truncated",
}


def benchmark(s3: Any, root: S3Uri, custom: dict[str, Any], base: dict[str, Any]) -> Any:
    custom_uri = benchmark_result(s3, root, "custom-job", {"all": custom})
    benchmark_result(s3, root, "base-job", {"all": base})
    execution = succeeded_execution(
        EvalType.BENCHMARK, root, {CUSTOM_BENCHMARK_STEP: "custom-job", BASE_BENCHMARK_STEP: "base-job"}
    )
    return execution, custom_uri


def test_benchmark_metrics_that_are_not_numbers_are_reported(
    s3: Any, results_root: S3Uri, caplog: pytest.LogCaptureFixture
) -> None:
    custom = {
        "acc": 0.8,
        "alias": "mmlu",
        "passed": True,
        "notes": None,
        "per_task": {"a": 1},
        "f1": 0.7,
        "samples": [1, 2],
    }
    execution, custom_uri = benchmark(s3, results_root, custom, {"acc": 0.6, "f1": 0.75, "alias": "mmlu"})

    with caplog.at_level(logging.WARNING):
        summary = summarize(execution, s3)

    assert summary.metrics == {"custom": {"acc": 0.8, "f1": 0.7}, "base": {"acc": 0.6, "f1": 0.75}}
    assert set(summary.deltas) == {"acc", "f1"}
    assert summary.model_dump(mode="json")["non_numeric_metrics"] == {
        "custom": {
            "alias": {"type": "string", "value": '"mmlu"'},
            "notes": {"type": "null", "value": "null"},
            "passed": {"type": "boolean", "value": "true"},
            "per_task": {"type": "object", "value": '{"a": 1}'},
            "samples": {"type": "array", "value": "[1, 2]"},
        },
        "base": {"alias": {"type": "string", "value": '"mmlu"'}},
    }
    assert set(summary.model_dump()) > SUMMARY_KEYS
    assert EvaluationSummary.model_validate_json(summary.model_dump_json()) == summary
    warning = next(r.getMessage() for r in caplog.records if str(custom_uri) in r.getMessage())
    assert "5 metric(s) not numeric" in warning
    assert 'alias = "mmlu" (string)' in warning and "passed = true (boolean)" in warning

    text = render_results(execution, s3)
    assert "Metrics that are not numbers (not compared)" in text
    assert '  custom model: alias = "mmlu" (string)' in text
    assert '  base model: alias = "mmlu" (string)' in text


def test_all_numeric_results_report_nothing(
    s3: Any, results_root: S3Uri, caplog: pytest.LogCaptureFixture
) -> None:
    execution, _ = benchmark(s3, results_root, {"acc": 0.8}, {"acc": 0.6})
    with caplog.at_level(logging.WARNING):
        summary = summarize(execution, s3)
    assert summary.non_numeric_metrics == {}
    assert not [r for r in caplog.records if "not numeric" in r.getMessage()]
    assert "not numbers" not in render_results(execution, s3)


def test_non_numeric_values_and_their_number_are_bounded(s3: Any, results_root: S3Uri) -> None:
    many = {f"label_{index:03d}": "x" * 1000 for index in range(MAX_METRICS_PER_MODEL + 5)}
    execution, _ = benchmark(s3, results_root, {"acc": 0.8, **many}, {"acc": 0.6})
    summary = summarize(execution, s3)
    listed = summary.non_numeric_metrics["custom"]
    assert len(listed) == MAX_METRICS_PER_MODEL
    assert all(len(value.value) == MAX_RAW_CHARS and value.value.endswith("...") for value in listed.values())
    assert summary.truncated


def test_a_file_of_only_non_numeric_metrics_names_them(s3: Any, results_root: S3Uri) -> None:
    execution, custom_uri = benchmark(s3, results_root, {"acc": "high"}, {"acc": 0.6})
    with pytest.raises(
        ResultFileError, match=r"no numeric metric \(not numbers: acc = \"high\" \(string\)\)"
    ) as caught:
        summarize(execution, s3)
    assert caught.value.s3_uri == str(custom_uri)


def test_judge_metric_without_a_score_is_reported(
    s3: Any, results_root: S3Uri, caplog: pytest.LogCaptureFixture
) -> None:
    aggregate, _ = llmaj_result(
        s3,
        results_root,
        job_name="custom-metrics",
        judge_job_name="judge-custom",
        aggregate={
            "Correctness": {"score": 0.9, "std_deviation": 0.1, "total_evaluations": 1},
            "Fluency": {"score": None, "total_evaluations": 0},
            "Safety": {"total_evaluations": 0},
        },
        records=[judge_record("Hi?", "Hello", {"Correctness": 0.9})],
    )
    execution = succeeded_execution(
        EvalType.LLM_AS_JUDGE, results_root, {CUSTOM_METRICS_STEP: "custom-metrics"}
    )

    with caplog.at_level(logging.WARNING):
        summary = summarize(execution, s3)

    assert summary.metrics == {"custom": {"Correctness": 0.9}}
    assert summary.model_dump(mode="json")["non_numeric_metrics"] == {
        "custom": {"Fluency": {"type": "null", "value": "null"}, "Safety": {"type": "null", "value": "null"}}
    }
    assert any(str(aggregate) in r.getMessage() and "Fluency" in r.getMessage() for r in caplog.records)
    assert "  custom model: Fluency = null (null)" in render_results(execution, s3)
