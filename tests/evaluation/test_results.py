"""Result readers, summaries and rendering over S3 (moto server over HTTP)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from evaluation_helpers import (
    BASE_BENCHMARK_STEP,
    BASE_METRICS_STEP,
    CUSTOM_BENCHMARK_STEP,
    CUSTOM_METRICS_STEP,
    benchmark_result,
    judge_record,
    llmaj_result,
    put_text,
    succeeded_execution,
)

from airflow_provider_sm_eval.evaluation.clients import AwsClients
from airflow_provider_sm_eval.evaluation.constants import EvalType, ExecutionStatus, StepName
from airflow_provider_sm_eval.evaluation.exceptions import (
    EvaluationAWSError,
    ResultFileError,
    ResultsNotAvailableError,
)
from airflow_provider_sm_eval.evaluation.models import PipelineExecutionStatus
from airflow_provider_sm_eval.evaluation.report import render_results, summarize
from airflow_provider_sm_eval.evaluation.results import render as render_module
from airflow_provider_sm_eval.evaluation.results.benchmark import read_benchmark_results
from airflow_provider_sm_eval.evaluation.results.llm_as_judge import (
    compare_examples,
    pair_winner,
    read_llmaj_results,
)
from airflow_provider_sm_eval.evaluation.results.locations import ModelRole
from airflow_provider_sm_eval.evaluation.results.summary import (
    MAX_ARTIFACT_URIS,
    MAX_METRICS_PER_MODEL,
    EvaluationSummary,
    build_summary,
)
from airflow_provider_sm_eval.evaluation.s3_layout import S3Uri, job_output_prefix

CUSTOM_METRICS = {"acc": 0.8, "acc_stderr": 0.01, "f1": 0.7}
BASE_METRICS = {"acc": 0.6, "acc_stderr": 0.02, "f1": 0.75}


def benchmark_execution(s3: Any, root: S3Uri) -> Any:
    benchmark_result(s3, root, "custom-job", {"all": CUSTOM_METRICS})
    benchmark_result(s3, root, "base-job", {"all": BASE_METRICS})
    return succeeded_execution(
        EvalType.BENCHMARK, root, {CUSTOM_BENCHMARK_STEP: "custom-job", BASE_BENCHMARK_STEP: "base-job"}
    )


def test_benchmark_results_custom_and_base(s3: Any, results_root: S3Uri) -> None:
    execution = benchmark_execution(s3, results_root)
    results = read_benchmark_results(execution, s3)
    assert results.models[ModelRole.CUSTOM].metrics == CUSTOM_METRICS
    assert results.models[ModelRole.BASE].metrics == BASE_METRICS
    assert results.models[ModelRole.CUSTOM].result_uri.startswith(
        str(job_output_prefix(results_root, "custom-job"))
    )


def test_custom_scorer_metrics_come_from_first_non_empty_group(s3: Any, results_root: S3Uri) -> None:
    benchmark_result(s3, results_root, "custom-job", {"all": {}, "custom|gen_qa_gen_qa|0": {"bleu": 31.5}})
    execution = succeeded_execution(
        EvalType.CUSTOM_SCORER, results_root, {CUSTOM_BENCHMARK_STEP: "custom-job"}
    )
    results = read_benchmark_results(execution, s3)
    assert list(results.models) == [ModelRole.CUSTOM]
    assert results.models[ModelRole.CUSTOM].metrics == {"bleu": 31.5}


def test_result_file_found_past_one_listing_page(s3: Any, results_root: S3Uri) -> None:
    folder = job_output_prefix(results_root, "base-job")
    for index in range(1005):
        s3.put_object(Bucket=folder.bucket, Key=f"{folder.key}/a-log-{index:05d}.txt", Body=b"")
    benchmark_result(s3, results_root, "base-job", {"all": {"acc": 0.5}})
    execution = succeeded_execution(EvalType.BENCHMARK, results_root, {BASE_BENCHMARK_STEP: "base-job"})
    assert read_benchmark_results(execution, s3).models[ModelRole.BASE].metrics == {"acc": 0.5}


def test_missing_benchmark_result_names_the_folder(s3: Any, results_root: S3Uri) -> None:
    execution = succeeded_execution(EvalType.BENCHMARK, results_root, {CUSTOM_BENCHMARK_STEP: "custom-job"})
    with pytest.raises(ResultFileError) as caught:
        read_benchmark_results(execution, s3)
    assert str(job_output_prefix(results_root, "custom-job")) in caught.value.s3_uri


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"scores": {}}), "no 'results' object"),
        (json.dumps({"results": {"all": {}}}), "holds no metrics"),
        (json.dumps({"results": {"all": {"acc": "high"}}}), "no numeric metric"),
    ],
)
def test_malformed_benchmark_result_names_the_key(
    s3: Any, results_root: S3Uri, body: str, problem: str
) -> None:
    uri = job_output_prefix(results_root, "custom-job").join("results_x.json")
    put_text(s3, uri, body)
    execution = succeeded_execution(EvalType.BENCHMARK, results_root, {CUSTOM_BENCHMARK_STEP: "custom-job"})
    with pytest.raises(ResultFileError, match=problem) as caught:
        read_benchmark_results(execution, s3)
    assert caught.value.s3_uri == str(uri)


def test_results_need_a_succeeded_execution(s3: Any, results_root: S3Uri) -> None:
    execution = benchmark_execution(s3, results_root)
    execution.status = PipelineExecutionStatus(overall_status=ExecutionStatus.FAILED)
    with pytest.raises(ResultsNotAvailableError, match="Failed"):
        render_results(execution, s3)
    with pytest.raises(ResultsNotAvailableError, match="Failed"):
        summarize(execution, s3)


def test_results_need_a_known_output_path(s3: Any) -> None:
    execution = succeeded_execution(EvalType.BENCHMARK, None, {CUSTOM_BENCHMARK_STEP: "custom-job"})
    with pytest.raises(ResultsNotAvailableError, match="S3 output path"):
        summarize(execution, s3)


def test_missing_bucket_is_an_aws_error_naming_the_folder(s3: Any) -> None:
    execution = succeeded_execution(
        EvalType.BENCHMARK, S3Uri("no-such-bucket-here", "x"), {CUSTOM_BENCHMARK_STEP: "custom-job"}
    )
    with pytest.raises(EvaluationAWSError) as caught:
        summarize(execution, s3)
    assert caught.value.operation == "ListObjectsV2"
    assert "no-such-bucket-here" in caught.value.resource


def test_benchmark_summary_and_rendering(s3: Any, results_root: S3Uri) -> None:
    execution = benchmark_execution(s3, results_root)
    summary = summarize(execution, s3)
    assert summary.metrics == {"custom": CUSTOM_METRICS, "base": BASE_METRICS}
    assert summary.deltas == pytest.approx({"acc": 0.2, "f1": -0.05})
    assert len(summary.artifact_uris) == 2
    assert not summary.truncated
    assert EvaluationSummary.model_validate_json(summary.model_dump_json()) == summary

    text = render_results(execution, s3)
    assert "Metric" in text and "Custom model" in text and "Base model" in text
    acc_line = next(line for line in text.splitlines() if line.startswith("acc "))
    assert "0.8000" in acc_line and "0.6000" in acc_line and "+0.2000" in acc_line
    assert summary.artifact_uris[0] in text


def test_summary_is_bounded(s3: Any, results_root: S3Uri) -> None:
    execution = benchmark_execution(s3, results_root)
    many = {f"metric_{i:04d}_" + "x" * 300: float(i) for i in range(1000)}
    summary = build_summary(
        execution,
        metrics={"custom": many, "base": many},
        artifact_uris=[f"s3://b/{i}" for i in range(500)],
    )
    assert summary.truncated
    assert {role: len(values) for role, values in summary.metrics.items()} == {
        "custom": MAX_METRICS_PER_MODEL,
        "base": MAX_METRICS_PER_MODEL,
    }
    assert len(summary.artifact_uris) == MAX_ARTIFACT_URIS
    assert len(summary.model_dump_json()) < 64 * 1024


# LLM-as-judge --------------------------------------------------------------------------------

AGGREGATE_CUSTOM = {
    "Correctness": {"score": 0.9, "std_deviation": 0.1, "total_evaluations": 3},
    "Helpfulness": {"score": 0.7, "std_deviation": 0.2, "total_evaluations": 3},
}
AGGREGATE_BASE = {
    "Correctness": {"score": 0.5, "std_deviation": 0.3, "total_evaluations": 2},
    "Helpfulness": {"score": 0.8, "std_deviation": 0.1, "total_evaluations": 2},
}
CUSTOM_RECORDS = [
    judge_record("What is 2+2?", "4", {"Correctness": 1.0, "Helpfulness": 0.9}),
    judge_record("Capital of France?", "Paris", {"Correctness": 1.0, "Helpfulness": 0.5}),
    judge_record("Spell cat", "c-a-t", {"Correctness": 0.7, "Helpfulness": 0.7}),
]
BASE_RECORDS = [
    judge_record("What is 2+2?", "5", {"Correctness": 0.0, "Helpfulness": 0.2}),
    judge_record("Capital of France?", "Lyon", {"Correctness": 0.0, "Helpfulness": 0.9}),
]


def llmaj_execution(s3: Any, root: S3Uri, base_records: list[Any] | None = BASE_RECORDS) -> Any:
    llmaj_result(
        s3,
        root,
        job_name="custom-metrics",
        judge_job_name="judge-custom",
        aggregate=AGGREGATE_CUSTOM,
        records=CUSTOM_RECORDS,
    )
    llmaj_result(
        s3,
        root,
        job_name="base-metrics",
        judge_job_name="judge-base",
        aggregate=AGGREGATE_BASE,
        records=base_records,
    )
    return succeeded_execution(
        EvalType.LLM_AS_JUDGE,
        root,
        {
            StepName.EVALUATE_CUSTOM_INFERENCE_MODEL: "custom-inference",
            CUSTOM_METRICS_STEP: "custom-metrics",
            BASE_METRICS_STEP: "base-metrics",
        },
    )


def test_pair_winner_counts_metrics_won() -> None:
    assert pair_winner({"a": 1, "b": 0}, {"a": 0, "b": 0}) is ModelRole.CUSTOM
    assert pair_winner({"a": 1, "b": 0}, {"a": 0, "b": 1}) is None
    assert pair_winner({"a": 0.1}, {"a": 0.2, "b": 1}) is ModelRole.BASE


def test_llmaj_aggregate_and_win_rates(s3: Any, results_root: S3Uri) -> None:
    execution = llmaj_execution(s3, results_root)
    results = read_llmaj_results(execution, s3)
    custom = results.models[ModelRole.CUSTOM]
    assert custom.judge_job_name == "judge-custom"
    assert custom.metrics["Correctness"].score == 0.9
    assert custom.metrics["Correctness"].total_evaluations == 3
    assert custom.examples_uri is not None and custom.examples_uri.endswith("_output.jsonl")

    comparison = compare_examples(s3, results)
    # Pair 1: custom wins both metrics; pair 2: one each -> tie; record 3 has no pair.
    assert comparison.win_rates is not None
    assert (comparison.win_rates.pairs, comparison.win_rates.custom_wins) == (2, 1)
    assert (comparison.win_rates.base_wins, comparison.win_rates.ties) == (0, 1)
    assert comparison.counts == {ModelRole.CUSTOM: 3, ModelRole.BASE: 2}


def test_llmaj_summary(s3: Any, results_root: S3Uri) -> None:
    summary = summarize(llmaj_execution(s3, results_root), s3)
    assert summary.metrics["custom"] == {"Correctness": 0.9, "Helpfulness": 0.7}
    assert summary.deltas == pytest.approx({"Correctness": 0.4, "Helpfulness": -0.1})
    assert summary.win_rates is not None
    assert summary.win_rates.custom_win_rate == 0.5
    assert summary.win_rates.tie_rate == 0.5
    assert summary.example_counts == {"custom": 3, "base": 2}
    assert len(summary.artifact_uris) == 4


def test_llmaj_rendering_pages_examples(s3: Any, results_root: S3Uri) -> None:
    execution = llmaj_execution(s3, results_root)
    text = render_results(execution, s3, limit=1, offset=1)
    assert "Aggregate judge scores" in text
    assert "Win rates over 2 paired examples: custom 50.0%, base 0.0%, ties 50.0%" in text
    assert "Examples 2-2 of 3" in text
    assert "Prompt: Capital of France?" in text
    assert "Custom response: Paris" in text and "Base response: Lyon" in text
    assert "What is 2+2?" not in text
    assert "because" not in text

    explained = render_results(execution, s3, limit=5, offset=2, show_explanations=True)
    assert "Examples 3-3 of 3" in explained
    assert "custom / Correctness: Correctness because" in explained

    past_end = render_results(execution, s3, limit=5, offset=10)
    assert "none to show" in past_end
    with pytest.raises(ValueError, match="offset"):
        render_results(execution, s3, offset=-1)


def test_llmaj_rendering_with_the_summary_streams_the_examples_once(
    s3: Any, results_root: S3Uri, monkeypatch: pytest.MonkeyPatch
) -> None:
    execution = llmaj_execution(s3, results_root)
    summary = summarize(execution, s3)

    def second_pass(*_: Any) -> None:
        raise AssertionError("the per-example files were streamed a second time")

    monkeypatch.setattr(render_module, "compare_examples", second_pass)

    text = render_results(execution, s3, limit=1, summary=summary)

    assert "Win rates over 2 paired examples: custom 50.0%, base 0.0%, ties 50.0%" in text
    assert "Examples 1-1 of 3" in text


def test_missing_examples_file_names_the_folder(s3: Any, results_root: S3Uri) -> None:
    execution = llmaj_execution(s3, results_root, base_records=None)
    with pytest.raises(ResultFileError, match="no per-example file") as caught:
        summarize(execution, s3)
    assert caught.value.s3_uri == f"{results_root.join('judge-base')}/*_output.jsonl"


def test_missing_aggregate_file_names_the_folder(s3: Any, results_root: S3Uri) -> None:
    execution = succeeded_execution(
        EvalType.LLM_AS_JUDGE, results_root, {CUSTOM_METRICS_STEP: "custom-metrics"}
    )
    with pytest.raises(ResultFileError, match="no aggregate file") as caught:
        summarize(execution, s3)
    assert str(job_output_prefix(results_root, "custom-metrics")) in caught.value.s3_uri


def test_malformed_example_line_names_key_and_line(s3: Any, results_root: S3Uri) -> None:
    execution = llmaj_execution(s3, results_root)
    _, examples = llmaj_result(
        s3,
        results_root,
        job_name="base-metrics",
        judge_job_name="judge-base",
        aggregate=AGGREGATE_BASE,
        records=BASE_RECORDS,
    )
    put_text(s3, examples, json.dumps(BASE_RECORDS[0]) + "\n{broken\n")
    with pytest.raises(ResultFileError, match="line 2 is not valid JSON") as caught:
        summarize(execution, s3)
    assert caught.value.s3_uri == str(examples)


def test_malformed_aggregate_names_the_key(s3: Any, results_root: S3Uri) -> None:
    execution = llmaj_execution(s3, results_root)
    aggregate, _ = llmaj_result(
        s3,
        results_root,
        job_name="custom-metrics",
        judge_job_name="judge-custom",
        aggregate={},
        records=CUSTOM_RECORDS,
    )
    put_text(s3, aggregate, json.dumps({"results": {"Correctness": {"score": "high"}}}))
    with pytest.raises(ResultFileError, match="not a number") as caught:
        summarize(execution, s3)
    assert caught.value.s3_uri == str(aggregate)


def test_show_results_prints_the_rendering(
    s3: Any, results_root: S3Uri, capsys: pytest.CaptureFixture[str]
) -> None:
    execution = llmaj_execution(s3, results_root)
    execution.show_results(limit=1, clients=AwsClients(s3_client=s3))
    printed = capsys.readouterr().out
    assert printed == render_results(execution, s3, limit=1) + "\n"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1" + "0" * 400])
def test_non_finite_benchmark_metric_is_a_result_file_error(
    s3: Any, results_root: S3Uri, literal: str
) -> None:
    uri = job_output_prefix(results_root, "custom-job").join("results_2026-11-28.json")
    put_text(s3, uri, f'{{"results": {{"all": {{"acc": {literal}, "f1": 0.5}}}}}}')
    execution = succeeded_execution(EvalType.BENCHMARK, results_root, {CUSTOM_BENCHMARK_STEP: "custom-job"})
    with pytest.raises(ResultFileError, match=r"'acc' is .*not a finite number") as caught:
        read_benchmark_results(execution, s3)
    assert caught.value.s3_uri == str(uri)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1" + "0" * 400])
def test_non_finite_judge_score_is_a_result_file_error(s3: Any, results_root: S3Uri, literal: str) -> None:
    execution = llmaj_execution(s3, results_root)
    aggregate, _ = llmaj_result(
        s3,
        results_root,
        job_name="custom-metrics",
        judge_job_name="judge-custom",
        aggregate={},
        records=CUSTOM_RECORDS,
    )
    put_text(s3, aggregate, f'{{"results": {{"Correctness": {{"score": {literal}}}}}}}')
    with pytest.raises(ResultFileError, match=r"Correctness\.score is .*not a finite number"):
        summarize(execution, s3)
