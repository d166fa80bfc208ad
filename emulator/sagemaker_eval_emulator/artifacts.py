"""Writing the result files of evaluation steps to S3, where the SageMaker evaluation jobs write them.

The emulator's own table of evaluation types (``EVALUATION_TYPES``: pipeline name prefix, the
steps that write results, their writer) and the S3 layouts below are written from the service's
behaviour and the SDK's templates, not imported from the provider's core (``service``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sagemaker_eval_emulator.results import (
    BENCHMARK_METRICS,
    CUSTOM_SCORER_METRICS,
    CUSTOM_SCORER_TASK_KEY,
    LLMAJ_METRICS,
    MetricSeed,
    benchmark_results,
    llmaj_aggregate,
    llmaj_example_records,
)
from sagemaker_eval_emulator.service import S3Uri

#: Benchmark / custom scorer result files: ``results_<time>.json`` in the job's output folder.
BENCHMARK_RESULT_FILE_PREFIX = "results_"
BENCHMARK_RESULT_FILE_SUFFIX = ".json"
#: LLM-as-judge aggregate file name and the suffix of its per-example records file.
LLMAJ_AGGREGATE_FILE = "bedrock_llm_judge_results.json"
LLMAJ_EXAMPLES_SUFFIX = "_output.jsonl"

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


@dataclass(frozen=True)
class EvaluationType:
    """One evaluation type of the SDK's pipelines, as far as the emulator needs it."""

    #: The SDK names its pipelines with this prefix (pipeline ARNs carry the name in lower case).
    pipeline_name_prefix: str
    #: (custom model, base model) steps whose training jobs write the result files.
    result_steps: tuple[str, str]
    write: ResultWriter

    def names_pipeline(self, pipeline_name: str) -> bool:
        return pipeline_name.lower().startswith(self.pipeline_name_prefix.lower())


def eval_kind_of(pipeline_name: str, step_names: Iterable[str]) -> EvaluationType | None:
    """The pipeline's type by name prefix, else the first type whose result steps it has."""
    named = next((t for t in EVALUATION_TYPES if t.names_pipeline(pipeline_name)), None)
    if named is not None:
        return named
    names = set(step_names)
    return next((t for t in EVALUATION_TYPES if names & set(t.result_steps)), None)


def writes_results(kind: EvaluationType | None, step_name: str) -> bool:
    """True when a succeeding ``step_name`` writes result files in pipelines of ``kind``."""
    return kind is not None and step_name in kind.result_steps


def is_custom_model_step(kind: EvaluationType, step_name: str) -> bool:
    return step_name == kind.result_steps[0]


def job_output_prefix(root: S3Uri, training_job_name: str) -> S3Uri:
    """Folder holding a training job's result files: ``PREFIX/{job}/output/output``."""
    return root.join(training_job_name, "output", "output")


def llmaj_aggregate_key(root: S3Uri, training_job_name: str, judge_job_name: str) -> S3Uri:
    """The LLM-as-judge aggregate file of one metrics job."""
    return job_output_prefix(root, training_job_name).join(
        judge_job_name, "eval_results", LLMAJ_AGGREGATE_FILE
    )


def llmaj_examples_prefix(root: S3Uri, judge_job_name: str) -> S3Uri:
    """Folder of the judge job's per-example records (``*_output.jsonl``)."""
    return root.join(judge_job_name)


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
    kind: EvaluationType,
    training_job_name: str,
    seed: MetricSeed,
    examples: int,
    finished_at: datetime,
    hyperparameters: object = None,
) -> list[S3Uri]:
    """Write the result files of one evaluation step run with ``kind``'s writer; return their URIs."""
    run = StepResultRun(root, training_job_name, seed, examples, finished_at, judge_metrics(hyperparameters))
    return kind.write(put, run)


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


_BENCHMARK_STEPS = ("EvaluateCustomModel", "EvaluateBaseModel")
#: The SDK's evaluation types: benchmark, custom scorer, LLM-as-judge.
EVALUATION_TYPES: tuple[EvaluationType, ...] = (
    EvaluationType("SagemakerEvaluation-BenchmarkEvaluation", _BENCHMARK_STEPS, write_benchmark_results),
    EvaluationType(
        "SagemakerEvaluation-CustomScorerEvaluation", _BENCHMARK_STEPS, write_custom_scorer_results
    ),
    EvaluationType(
        "SagemakerEvaluation-LLMAJEvaluation",
        ("EvaluateCustomModelMetrics", "EvaluateBaseModelMetrics"),
        write_llmaj_results,
    ),
)
