"""Results of LLM-as-judge evaluations: aggregate judge scores and streamed per-example records."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import zip_longest
from typing import TYPE_CHECKING, Any

from airflow_provider_sm_eval.evaluation.constants import LLMAJ_RESULT_STEPS
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
from airflow_provider_sm_eval.evaluation.results.s3_objects import first_key, iter_json_lines, read_json
from airflow_provider_sm_eval.evaluation.s3_layout import (
    LLMAJ_AGGREGATE_FILE,
    LLMAJ_EXAMPLES_SUFFIX,
    is_llmaj_examples_key,
    job_output_prefix,
    judge_job_name_from_key,
    llmaj_examples_prefix,
    parse_s3_uri,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: Longest prompt / response string parsed as a Python literal; longer ones are shown raw.
_MAX_LITERAL_CHARS = 100_000


@dataclass(frozen=True)
class JudgeMetric:
    """One metric of the aggregate file: mean score, its standard deviation and the count."""

    score: float | None
    std_deviation: float | None
    total_evaluations: int | None


@dataclass(frozen=True)
class JudgeModelResults:
    """Where one model's judge results live and its aggregate metrics (``non_numeric``: those whose
    score is null or absent)."""

    role: ModelRole
    job_name: str
    judge_job_name: str
    aggregate_uri: str
    examples_uri: str
    metrics: dict[str, JudgeMetric]
    non_numeric: tuple[NonNumericMetric, ...] = ()


@dataclass(frozen=True)
class LLMAJResults:
    """Judge results per evaluated model; a base-only evaluation has one entry."""

    models: dict[ModelRole, JudgeModelResults]


@dataclass(frozen=True)
class JudgeScore:
    """The judge's verdict on one metric of one example."""

    metric: str
    result: float | None
    explanation: str | None


@dataclass(frozen=True)
class JudgeExample:
    """One per-example record: prompt, model response and judge scores."""

    line: int
    prompt: str
    response: str
    scores: tuple[JudgeScore, ...]

    def score_map(self) -> dict[str, float]:
        return {s.metric: s.result for s in self.scores if s.result is not None}


@dataclass(frozen=True)
class WinRates:
    """Custom vs base over examples paired by index (the SDK's rule)."""

    pairs: int
    custom_wins: int
    base_wins: int
    ties: int

    def rate(self, count: int) -> float:
        return count / self.pairs if self.pairs else 0.0


@dataclass(frozen=True)
class ExampleComparison:
    """One streamed pass over both per-example files: win rates and each file's record count."""

    win_rates: WinRates | None
    counts: dict[ModelRole, int]


def read_llmaj_results(execution: EvaluationExecutionData, s3: S3Client) -> LLMAJResults:
    """Locate and read the aggregate file of each metrics job, and find its per-example file."""
    root = results_root(execution)
    models: dict[ModelRole, JudgeModelResults] = {}
    for role, job_name in result_jobs(execution, LLMAJ_RESULT_STEPS).items():
        folder = job_output_prefix(root, job_name)
        aggregate = first_key(s3, folder, lambda key: key.endswith(f"/eval_results/{LLMAJ_AGGREGATE_FILE}"))
        if aggregate is None:
            raise ResultFileError(
                f"{folder}/*/eval_results/{LLMAJ_AGGREGATE_FILE}", "no aggregate file was found"
            )
        judge_job_name = judge_job_name_from_key(root, job_name, aggregate.key)
        if judge_job_name is None:
            raise ResultFileError(str(aggregate), "is not inside a judge job folder")
        examples_folder = llmaj_examples_prefix(root, judge_job_name)
        examples = first_key(s3, examples_folder, is_llmaj_examples_key)
        if examples is None:
            raise ResultFileError(
                f"{examples_folder}/*{LLMAJ_EXAMPLES_SUFFIX}", "no per-example file was found"
            )
        metrics = _aggregate_metrics(read_json(s3, aggregate), str(aggregate))
        non_numeric = tuple(
            NonNumericMetric.of(name, None) for name, metric in metrics.items() if metric.score is None
        )
        warn_non_numeric(str(aggregate), non_numeric)
        models[role] = JudgeModelResults(
            role=role,
            job_name=job_name,
            judge_job_name=judge_job_name,
            aggregate_uri=str(aggregate),
            examples_uri=str(examples),
            metrics=metrics,
            non_numeric=non_numeric,
        )
    return LLMAJResults(models)


def iter_examples(s3: S3Client, examples_uri: str) -> Iterator[JudgeExample]:
    """The per-example records of one file, streamed."""
    uri = parse_s3_uri(examples_uri, name="examples_uri")
    for line, record in iter_json_lines(s3, uri):
        yield _example(record, line, examples_uri)


def compare_examples(s3: S3Client, results: LLMAJResults) -> ExampleComparison:
    """Count each model's records and, with both models, the custom-vs-base win rates.

    Both files are streamed side by side; records pair by index over the shorter file.
    """
    streams = {role: _iter_score_maps(s3, model.examples_uri) for role, model in results.models.items()}
    counts = dict.fromkeys(streams, 0)
    if len(streams) < 2:
        for role, stream in streams.items():
            counts[role] = sum(1 for _ in stream)
        return ExampleComparison(None, counts)
    custom_wins = base_wins = ties = pairs = 0
    for custom, base in zip_longest(streams[ModelRole.CUSTOM], streams[ModelRole.BASE]):
        if custom is not None:
            counts[ModelRole.CUSTOM] += 1
        if base is not None:
            counts[ModelRole.BASE] += 1
        if custom is None or base is None:
            continue
        pairs += 1
        winner = pair_winner(custom, base)
        if winner is ModelRole.CUSTOM:
            custom_wins += 1
        elif winner is ModelRole.BASE:
            base_wins += 1
        else:
            ties += 1
    return ExampleComparison(WinRates(pairs, custom_wins, base_wins, ties), counts)


def _iter_score_maps(s3: S3Client, examples_uri: str) -> Iterator[dict[str, float]]:
    """Metric name to judge result of each record: all a comparison needs, parsed cheaply."""
    uri = parse_s3_uri(examples_uri, name="examples_uri")
    for line, record in iter_json_lines(s3, uri):
        yield {
            score.metric: score.result
            for score in _scores(record, line, examples_uri)
            if score.result is not None
        }


def pair_winner(custom: dict[str, float], base: dict[str, float]) -> ModelRole | None:
    """The model scoring higher on more of the shared metrics; None for a tie."""
    shared = custom.keys() & base.keys()
    custom_better = sum(1 for metric in shared if custom[metric] > base[metric])
    base_better = sum(1 for metric in shared if base[metric] > custom[metric])
    if custom_better > base_better:
        return ModelRole.CUSTOM
    if base_better > custom_better:
        return ModelRole.BASE
    return None


def _aggregate_metrics(document: Any, uri: str) -> dict[str, JudgeMetric]:
    results = document.get("results") if isinstance(document, dict) else None
    if not isinstance(results, dict) or not results:
        raise ResultFileError(uri, "has no 'results' object with metrics")
    metrics: dict[str, JudgeMetric] = {}
    for name, values in results.items():
        if not isinstance(values, dict):
            raise ResultFileError(uri, f"metric {name!r} is not an object")
        metrics[str(name)] = JudgeMetric(
            score=_number(values.get("score"), uri, f"{name}.score"),
            std_deviation=_number(values.get("std_deviation"), uri, f"{name}.std_deviation"),
            total_evaluations=_count(values.get("total_evaluations"), uri, f"{name}.total_evaluations"),
        )
    return metrics


def _example(record: dict[str, Any], line: int, uri: str) -> JudgeExample:
    try:
        prompt = _literal_text(record["inputRecord"]["prompt"])
        responses = record.get("modelResponses") or [{}]
        response = _literal_text(responses[0].get("response", ""))
    except (KeyError, TypeError, AttributeError, IndexError) as error:
        raise ResultFileError(uri, f"line {line} is not a judge record ({error!r})") from None
    return JudgeExample(line, prompt, response, _scores(record, line, uri))


def _scores(record: dict[str, Any], line: int, uri: str) -> tuple[JudgeScore, ...]:
    try:
        return tuple(
            JudgeScore(
                metric=str(score["metricName"]),
                result=_number(score.get("result"), uri, f"line {line} result"),
                explanation=_explanation(score),
            )
            for score in (record.get("automatedEvaluationResult") or {}).get("scores", [])
        )
    except (KeyError, TypeError, AttributeError, IndexError) as error:
        raise ResultFileError(uri, f"line {line} has no readable judge scores ({error!r})") from None


def _literal_text(value: Any) -> str:
    """Text of a prompt or response string such as ``"[{'role': 'user', 'content': 'Hi'}]"``."""
    if not isinstance(value, str):
        return str(value)
    if len(value) > _MAX_LITERAL_CHARS or not value.startswith(("[", "{")):
        return value
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return value
    items = parsed if isinstance(parsed, list) else [parsed]
    texts = [str(item.get("content", item)) if isinstance(item, dict) else str(item) for item in items]
    return "\n".join(texts)


def _explanation(score: dict[str, Any]) -> str | None:
    details = score.get("evaluatorDetails") or []
    if details and isinstance(details[0], dict):
        explanation = details[0].get("explanation")
        return str(explanation) if explanation is not None else None
    return None


def _number(value: Any, uri: str, field: str) -> float | None:
    if value is None:
        return None
    if not is_number(value):
        raise ResultFileError(uri, f"{field} is {value!r}, not a number")
    number = finite_float(value)
    if number is None:
        raise ResultFileError(uri, f"{field} is {describe_value(value)}, not a finite number")
    return number


def _count(value: Any, uri: str, field: str) -> int | None:
    number = _number(value, uri, field)
    return None if number is None else int(number)
