"""Writing the result files of evaluation steps to S3, at the layouts of ``s3_layout``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime

from airflow_provider_sm_eval.emulator.results import (
    MetricSeed,
    benchmark_results,
    llmaj_aggregate,
    llmaj_example_records,
)
from airflow_provider_sm_eval.evaluation.constants import (
    BENCHMARK_RESULT_STEPS,
    LLMAJ_RESULT_STEPS,
    EvalType,
)
from airflow_provider_sm_eval.evaluation.s3_layout import (
    BENCHMARK_RESULT_FILE_PREFIX,
    BENCHMARK_RESULT_FILE_SUFFIX,
    LLMAJ_EXAMPLES_SUFFIX,
    S3Uri,
    job_output_prefix,
    llmaj_aggregate_key,
    llmaj_examples_prefix,
)

#: Stores one object; raises when it cannot (e.g. the bucket does not exist).
PutObject = Callable[[S3Uri, bytes], None]

_RESULT_STEPS = {step.value for step in (*BENCHMARK_RESULT_STEPS, *LLMAJ_RESULT_STEPS)}
_CUSTOM_STEPS = {BENCHMARK_RESULT_STEPS[0].value, LLMAJ_RESULT_STEPS[0].value}


def eval_type_of(pipeline_name: str, step_names: Iterable[str]) -> EvalType:
    """The pipeline's eval type by name prefix, else guessed from its step names."""
    try:
        return EvalType.from_pipeline_name(pipeline_name)
    except ValueError:
        names = set(step_names)
        return (
            EvalType.LLM_AS_JUDGE
            if names & {step.value for step in LLMAJ_RESULT_STEPS}
            else EvalType.BENCHMARK
        )


def writes_results(eval_type: EvalType, step_name: str) -> bool:
    """True when a succeeding ``step_name`` writes result files in pipelines of ``eval_type``."""
    family = LLMAJ_RESULT_STEPS if eval_type.is_llm_as_judge else BENCHMARK_RESULT_STEPS
    return step_name in {step.value for step in family} and step_name in _RESULT_STEPS


def is_custom_model_step(step_name: str) -> bool:
    return step_name in _CUSTOM_STEPS


def judge_job_name(training_job_name: str) -> str:
    """Name of the (synthetic) Bedrock judge job run by an LLM-as-judge metrics job."""
    return f"judge-{training_job_name}"[:63]


def write_step_results(
    put: PutObject,
    *,
    root: S3Uri,
    eval_type: EvalType,
    training_job_name: str,
    seed: MetricSeed,
    examples: int,
    finished_at: datetime,
) -> list[S3Uri]:
    """Write the result files of one evaluation step run; return their URIs."""
    if eval_type.is_llm_as_judge:
        judge = judge_job_name(training_job_name)
        records = llmaj_example_records(seed, examples, judge)
        examples_uri = llmaj_examples_prefix(root, judge).join(
            "datasets", f"evaluation{LLMAJ_EXAMPLES_SUFFIX}"
        )
        aggregate_uri = llmaj_aggregate_key(root, training_job_name, judge)
        put(examples_uri, "".join(json.dumps(r) + "\n" for r in records).encode())
        put(aggregate_uri, json.dumps(llmaj_aggregate(records, judge), indent=2).encode())
        return [aggregate_uri, examples_uri]
    stamp = finished_at.strftime("%Y-%m-%dT%H-%M-%S.%f")
    uri = job_output_prefix(root, training_job_name).join(
        f"{BENCHMARK_RESULT_FILE_PREFIX}{stamp}{BENCHMARK_RESULT_FILE_SUFFIX}"
    )
    put(uri, json.dumps(benchmark_results(seed, eval_type), indent=2).encode())
    return [uri]
