"""Writing the result files of evaluation steps to S3, at the layouts of ``s3_layout``.

Which steps write results, and which writer below they call, comes from the evaluation type
registry (``EvaluationKind.result_steps`` and ``emulator_writer``).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from airflow_provider_sm_eval.emulator.results import (
    BENCHMARK_METRICS,
    CUSTOM_SCORER_METRICS,
    CUSTOM_SCORER_TASK_KEY,
    LLMAJ_METRICS,
    MetricSeed,
    benchmark_results,
    llmaj_aggregate,
    llmaj_example_records,
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
from airflow_provider_sm_eval.evaluation.types.kind import EvaluationKind
from airflow_provider_sm_eval.evaluation.types.registry import KINDS, kind_of_pipeline

#: Stores one object; raises when it cannot (e.g. the bucket does not exist).
PutObject = Callable[[S3Uri, bytes], None]


@dataclass(frozen=True)
class StepResultRun:
    """One run of an evaluation step whose result files are to be written."""

    root: S3Uri
    training_job_name: str
    seed: MetricSeed
    examples: int
    finished_at: datetime
    #: The judge's metrics (LLM-as-judge): the step's ``llmaj_metrics`` hyperparameter, else the defaults.
    judge_metrics: tuple[str, ...] = LLMAJ_METRICS


#: Writes the result files of one step run and returns their URIs.
ResultWriter = Callable[[PutObject, StepResultRun], list[S3Uri]]


def eval_kind_of(pipeline_name: str, step_names: Iterable[str]) -> EvaluationKind | None:
    """The pipeline's type by name prefix, else the first type whose result steps it has."""
    try:
        return kind_of_pipeline(pipeline_name)
    except ValueError:
        names = set(step_names)
        return next((k for k in KINDS.values() if names & {s.value for s in k.result_steps}), None)


def writes_results(kind: EvaluationKind | None, step_name: str) -> bool:
    """True when a succeeding ``step_name`` writes result files in pipelines of ``kind``."""
    return kind is not None and step_name in {step.value for step in kind.result_steps}


def is_custom_model_step(kind: EvaluationKind, step_name: str) -> bool:
    return step_name == kind.result_steps[0].value


def judge_metrics(hyperparameters: object) -> tuple[str, ...]:
    """The metrics a judge step asks for (``llmaj_metrics``, a JSON list; ``Builtin.`` added where
    missing), or the default metrics when the step names none or names them unreadably."""
    raw = hyperparameters.get("llmaj_metrics") if isinstance(hyperparameters, dict) else None
    try:
        names = json.loads(raw) if isinstance(raw, str) else None
    except json.JSONDecodeError:
        names = None
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        return LLMAJ_METRICS
    return tuple(dict.fromkeys(n if n.startswith("Builtin.") else f"Builtin.{n}" for n in names))


def judge_job_name(training_job_name: str) -> str:
    """Name of the (synthetic) Bedrock judge job run by an LLM-as-judge metrics job."""
    return f"judge-{training_job_name}"[:63]


def write_step_results(
    put: PutObject,
    *,
    root: S3Uri,
    kind: EvaluationKind,
    training_job_name: str,
    seed: MetricSeed,
    examples: int,
    finished_at: datetime,
    hyperparameters: object = None,
) -> list[S3Uri]:
    """Write the result files of one evaluation step run with ``kind``'s writer; return their URIs."""
    module, _, function = kind.emulator_writer.partition(":")
    writer = cast(ResultWriter, getattr(importlib.import_module(module), function))
    run = StepResultRun(root, training_job_name, seed, examples, finished_at, judge_metrics(hyperparameters))
    return writer(put, run)


def write_benchmark_results(put: PutObject, run: StepResultRun) -> list[S3Uri]:
    """A benchmark ``results_*.json`` file: metrics under ``results.all``."""
    return _write_results_file(put, run, benchmark_results(run.seed, BENCHMARK_METRICS, "all"))


def write_custom_scorer_results(put: PutObject, run: StepResultRun) -> list[S3Uri]:
    """A custom scorer ``results_*.json`` file: metrics under the task key."""
    return _write_results_file(
        put, run, benchmark_results(run.seed, CUSTOM_SCORER_METRICS, CUSTOM_SCORER_TASK_KEY)
    )


def write_llmaj_results(put: PutObject, run: StepResultRun) -> list[S3Uri]:
    """The judge's per-example records and its aggregate file."""
    judge = judge_job_name(run.training_job_name)
    records = llmaj_example_records(run.seed, run.examples, judge, run.judge_metrics)
    examples_uri = llmaj_examples_prefix(run.root, judge).join(
        "datasets", f"evaluation{LLMAJ_EXAMPLES_SUFFIX}"
    )
    aggregate_uri = llmaj_aggregate_key(run.root, run.training_job_name, judge)
    put(examples_uri, "".join(json.dumps(r) + "\n" for r in records).encode())
    put(aggregate_uri, json.dumps(llmaj_aggregate(records, judge, run.judge_metrics), indent=2).encode())
    return [aggregate_uri, examples_uri]


def _write_results_file(put: PutObject, run: StepResultRun, document: object) -> list[S3Uri]:
    stamp = run.finished_at.strftime("%Y-%m-%dT%H-%M-%S.%f")
    uri = job_output_prefix(run.root, run.training_job_name).join(
        f"{BENCHMARK_RESULT_FILE_PREFIX}{stamp}{BENCHMARK_RESULT_FILE_SUFFIX}"
    )
    put(uri, json.dumps(document, indent=2).encode())
    return [uri]
