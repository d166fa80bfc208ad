"""Result files written by evaluation steps: layouts, fields, determinism and settings."""

from __future__ import annotations

import json

from emulator_harness import BUCKET, Harness

from airflow_provider_sm_eval.evaluation.constants import EvalType, StepName
from airflow_provider_sm_eval.evaluation.s3_layout import (
    LLMAJ_AGGREGATE_FILE,
    S3Uri,
    is_benchmark_result_key,
    is_llmaj_examples_key,
    job_output_prefix,
    judge_job_name_from_key,
    llmaj_examples_prefix,
)

ROOT = S3Uri(BUCKET, "run")


def job_name(harness: Harness, arn: str, step: StepName) -> str:
    return str(harness.steps(arn)[step.value]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[1])


def benchmark_metrics(harness: Harness, arn: str, step: StepName) -> dict[str, float]:
    prefix = job_output_prefix(ROOT, job_name(harness, arn, step)).key + "/"
    keys = [k for k in harness.keys(prefix) if is_benchmark_result_key(k)]
    assert len(keys) == 1, keys
    results = harness.read_json(keys[0])["results"]
    return dict(results.get("all") or next(v for v in results.values() if v))


def llmaj_files(harness: Harness, arn: str, step: StepName) -> tuple[dict, list[dict]]:
    training_job = job_name(harness, arn, step)
    prefix = job_output_prefix(ROOT, training_job).key + "/"
    aggregate_keys = [k for k in harness.keys(prefix) if k.endswith(LLMAJ_AGGREGATE_FILE)]
    assert len(aggregate_keys) == 1, aggregate_keys
    judge = judge_job_name_from_key(ROOT, training_job, aggregate_keys[0])
    assert judge
    example_keys = [
        k for k in harness.keys(llmaj_examples_prefix(ROOT, judge).key + "/") if is_llmaj_examples_key(k)
    ]
    body = harness.s3.get_object(Bucket=BUCKET, Key=example_keys[0])["Body"].read().decode()
    return harness.read_json(aggregate_keys[0]), [json.loads(line) for line in body.splitlines()]


def run(harness: Harness, eval_type: EvalType) -> str:
    arn = harness.start(harness.create(eval_type))
    assert harness.wait_terminal(arn)["PipelineExecutionStatus"] == "Succeeded"
    return arn


def test_benchmark_results_have_metrics_and_stderr_and_custom_beats_base(harness: Harness) -> None:
    arn = run(harness, EvalType.BENCHMARK)
    custom = benchmark_metrics(harness, arn, StepName.EVALUATE_CUSTOM_MODEL)
    base = benchmark_metrics(harness, arn, StepName.EVALUATE_BASE_MODEL)

    scores = [m for m in custom if "stderr" not in m]
    assert scores and all(f"{m}_stderr" in custom for m in scores)
    assert set(custom) == set(base)
    for metric in scores:
        assert 0.0 <= base[metric] < custom[metric] <= 1.0


def test_custom_scorer_results_sit_under_a_task_key(harness: Harness) -> None:
    arn = run(harness, EvalType.CUSTOM_SCORER)
    prefix = job_output_prefix(ROOT, job_name(harness, arn, StepName.EVALUATE_CUSTOM_MODEL)).key + "/"
    key = next(k for k in harness.keys(prefix) if is_benchmark_result_key(k))
    results = harness.read_json(key)["results"]
    assert "all" not in results
    (task_key,) = results
    assert task_key.startswith("custom|")
    assert {"bleu", "rouge1", "bleu_stderr"} <= set(results[task_key])


def test_llm_as_judge_aggregate_and_examples_agree(harness: Harness) -> None:
    harness.emu.examples = 7
    arn = run(harness, EvalType.LLM_AS_JUDGE)
    custom_aggregate, custom_records = llmaj_files(harness, arn, StepName.EVALUATE_CUSTOM_MODEL_METRICS)
    base_aggregate, base_records = llmaj_files(harness, arn, StepName.EVALUATE_BASE_MODEL_METRICS)

    assert len(custom_records) == len(base_records) == 7
    assert {"job_name", "results", "passed", "failed"} <= set(custom_aggregate)
    for metric, entry in custom_aggregate["results"].items():
        assert set(entry) == {"score", "std_deviation", "total_evaluations"}
        assert entry["total_evaluations"] == 7
        per_example = [
            s["result"]
            for r in custom_records
            for s in r["automatedEvaluationResult"]["scores"]
            if s["metricName"] == metric
        ]
        assert abs(sum(per_example) / len(per_example) - entry["score"]) < 1e-3
        assert entry["score"] > base_aggregate["results"][metric]["score"]
    record = custom_records[0]
    assert record["inputRecord"]["prompt"].startswith("[{'role': 'user', 'content': ")
    assert record["modelResponses"][0]["response"].startswith("['")
    score = record["automatedEvaluationResult"]["scores"][0]
    assert 0.0 <= score["result"] <= 1.0
    assert score["evaluatorDetails"][0]["explanation"]


def test_inference_steps_write_no_result_files(harness: Harness) -> None:
    arn = run(harness, EvalType.LLM_AS_JUDGE)
    inference_job = job_name(harness, arn, StepName.EVALUATE_CUSTOM_INFERENCE_MODEL)
    assert harness.keys(f"run/{inference_job}/") == []


def test_metrics_are_deterministic_per_execution(harness: Harness) -> None:
    arn = run(harness, EvalType.BENCHMARK)
    first = benchmark_metrics(harness, arn, StepName.EVALUATE_CUSTOM_MODEL)
    assert benchmark_metrics(harness, arn, StepName.EVALUATE_CUSTOM_MODEL) == first
    other = harness.start(harness.create(), prefix="other")
    harness.wait_terminal(other)
    other_job = job_name(harness, other, StepName.EVALUATE_CUSTOM_MODEL)
    key = next(k for k in harness.keys(f"other/{other_job}/") if is_benchmark_result_key(k))
    assert harness.read_json(key)["results"]["all"] != first


def test_custom_worse_than_base_switch(harness: Harness) -> None:
    harness.emu.results.custom_worse_than_base = True
    arn = run(harness, EvalType.BENCHMARK)
    custom = benchmark_metrics(harness, arn, StepName.EVALUATE_CUSTOM_MODEL)
    base = benchmark_metrics(harness, arn, StepName.EVALUATE_BASE_MODEL)
    assert all(custom[m] < base[m] for m in custom if "stderr" not in m)


def test_metric_overrides_in_process_and_over_http(harness: Harness) -> None:
    harness.emu.results.override(StepName.EVALUATE_CUSTOM_MODEL.value, {"acc": 0.99})
    harness.emu.control(
        "POST",
        "results/override",
        {"step_name": "EvaluateCustomModelMetrics", "metrics": {"Builtin.Correctness": 0.25}},
    )

    bench = run(harness, EvalType.BENCHMARK)
    judge = run(harness, EvalType.LLM_AS_JUDGE)

    assert benchmark_metrics(harness, bench, StepName.EVALUATE_CUSTOM_MODEL)["acc"] == 0.99
    aggregate, _ = llmaj_files(harness, judge, StepName.EVALUATE_CUSTOM_MODEL_METRICS)
    assert aggregate["results"]["Builtin.Correctness"]["score"] == 0.25


def test_missing_bucket_fails_the_step_like_a_real_job(harness: Harness) -> None:
    arn = harness.start(
        harness.create(), PipelineParameters=[{"Name": "S3OutputPath", "Value": "s3://no-such-bucket/x"}]
    )
    final = harness.wait_terminal(arn)
    assert final["PipelineExecutionStatus"] == "Failed"
    assert "no-such-bucket" in final["FailureReason"]
    assert "NoSuchBucket" in final["FailureReason"]
    failed = [s for s in harness.steps(arn).values() if s["StepStatus"] == "Failed"]
    assert failed and all("s3://no-such-bucket/x" in s["FailureReason"] for s in failed)


def test_invalid_output_path_fails_the_step(harness: Harness) -> None:
    arn = harness.start(harness.create(), PipelineParameters=[{"Name": "S3OutputPath", "Value": "not-a-uri"}])
    final = harness.wait_terminal(arn)
    assert final["PipelineExecutionStatus"] == "Failed"
    assert "S3OutputPath" in final["FailureReason"]


def test_custom_model_comparisons_hold_across_executions(harness: Harness) -> None:
    better = run(harness, EvalType.BENCHMARK)
    harness.emu.results.custom_worse_than_base = True
    worse = harness.start(harness.create(), prefix="worse")
    harness.wait_terminal(worse)
    worse_job = job_name(harness, worse, StepName.EVALUATE_CUSTOM_MODEL)
    key = next(k for k in harness.keys(f"worse/{worse_job}/") if is_benchmark_result_key(k))
    worse_custom = harness.read_json(key)["results"]["all"]
    better_custom = benchmark_metrics(harness, better, StepName.EVALUATE_CUSTOM_MODEL)
    better_base = benchmark_metrics(harness, better, StepName.EVALUATE_BASE_MODEL)
    for metric in (m for m in better_custom if "stderr" not in m):
        assert worse_custom[metric] < better_base[metric] < better_custom[metric]
