"""Plain-text rendering of each result family, like the SDK's ``show_results``, for terminals and logs.

:mod:`.report` picks the renderer of an execution's eval type from the type registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice, zip_longest
from typing import TYPE_CHECKING

from airflow_provider_sm_eval.evaluation.models import EvaluationExecutionData
from airflow_provider_sm_eval.evaluation.results.benchmark import (
    BenchmarkResults,
    is_standard_error,
    read_benchmark_results,
)
from airflow_provider_sm_eval.evaluation.results.llm_as_judge import (
    ExampleComparison,
    JudgeExample,
    LLMAJResults,
    WinRates,
    compare_examples,
    iter_examples,
    read_llmaj_results,
)
from airflow_provider_sm_eval.evaluation.results.locations import ModelRole
from airflow_provider_sm_eval.evaluation.results.non_numeric import render_non_numeric
from airflow_provider_sm_eval.evaluation.results.summary import EvaluationSummary
from airflow_provider_sm_eval.evaluation.steps_table import format_table

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: Characters of a prompt or response shown per example.
MAX_TEXT_CHARS = 2000


@dataclass(frozen=True)
class RenderOptions:
    """What to show: ``limit`` examples from ``offset`` (LLM-as-judge), with the judge's explanations.

    With the execution's ``summary`` at hand, its win rates and example counts are used instead
    of streaming every per-example record a second time.
    """

    limit: int = 5
    offset: int = 0
    show_explanations: bool = False
    summary: EvaluationSummary | None = None


def render_benchmark(execution: EvaluationExecutionData, s3: S3Client, options: RenderOptions) -> str:
    """Custom and base metrics side by side with their deltas, and the result files."""
    return _render_benchmark(read_benchmark_results(execution, s3))


def render_llmaj(execution: EvaluationExecutionData, s3: S3Client, options: RenderOptions) -> str:
    """Aggregate judge scores, win rates, the result files and one page of examples."""
    results = read_llmaj_results(execution, s3)
    summary = options.summary
    comparison = (
        _comparison_of(summary)
        if summary is not None and summary.execution_arn == execution.arn
        else compare_examples(s3, results)
    )
    return _render_llmaj(
        results,
        comparison,
        s3,
        limit=options.limit,
        offset=options.offset,
        show_explanations=options.show_explanations,
    )


def _render_benchmark(results: BenchmarkResults) -> str:
    custom = results.models.get(ModelRole.CUSTOM)
    base = results.models.get(ModelRole.BASE)
    names = sorted({*(custom.metrics if custom else {}), *(base.metrics if base else {})})
    rows = []
    for name in names:
        custom_value = custom.metrics.get(name) if custom else None
        base_value = base.metrics.get(name) if base else None
        delta = (
            custom_value - base_value
            if custom_value is not None and base_value is not None and not is_standard_error(name)
            else None
        )
        rows.append((name, custom_value, base_value, _signed(delta)))
    lines = [
        "Metrics",
        format_table(("Metric", "Custom model", "Base model", "Delta"), rows),
        *render_non_numeric({model.role.value: model.non_numeric for model in results.models.values()}),
        "",
        "Artifacts",
    ]
    lines += [
        f"  {model.role.value} model (job {model.job_name}): {model.result_uri}"
        for model in results.models.values()
    ]
    return "\n".join(lines)


def _comparison_of(summary: EvaluationSummary) -> ExampleComparison:
    """The comparison a summary already holds."""
    rates = summary.win_rates
    return ExampleComparison(
        WinRates(rates.pairs, rates.custom_wins, rates.base_wins, rates.ties) if rates else None,
        {ModelRole(role): count for role, count in summary.example_counts.items()},
    )


def _render_llmaj(
    results: LLMAJResults,
    comparison: ExampleComparison,
    s3: S3Client,
    *,
    limit: int,
    offset: int,
    show_explanations: bool,
) -> str:
    roles = list(results.models)
    names = sorted({name for model in results.models.values() for name in model.metrics})
    headers = ["Metric"]
    for role in roles:
        label = role.value.capitalize()
        headers += [f"{label} score", f"{label} std", f"{label} n"]
    rows = []
    for name in names:
        row: list[object] = [name]
        for role in roles:
            metric = results.models[role].metrics.get(name)
            row += [metric.score, metric.std_deviation, metric.total_evaluations] if metric else [None] * 3
        rows.append(row)
    lines = [
        "Aggregate judge scores",
        format_table(headers, rows),
        *render_non_numeric({model.role.value: model.non_numeric for model in results.models.values()}),
        "",
    ]

    rates = comparison.win_rates
    if rates is not None:
        lines.append(
            f"Win rates over {rates.pairs} paired examples: custom {rates.rate(rates.custom_wins):.1%}, "
            f"base {rates.rate(rates.base_wins):.1%}, ties {rates.rate(rates.ties):.1%}"
        )
        lines.append("")
    lines += ["Artifacts"] + [
        f"  {model.role.value} model: {model.aggregate_uri}"
        + f"\n  {model.role.value} examples: {model.examples_uri}"
        for model in results.models.values()
    ]
    total = max(comparison.counts.values(), default=0)
    lines += [
        "",
        _render_examples(
            results, s3, roles, limit=limit, offset=offset, total=total, show_explanations=show_explanations
        ),
    ]
    return "\n".join(lines)


def _render_examples(
    results: LLMAJResults,
    s3: S3Client,
    roles: list[ModelRole],
    *,
    limit: int,
    offset: int,
    total: int,
    show_explanations: bool,
) -> str:
    if total == 0 or limit == 0 or offset >= total:
        return f"Examples: none to show (offset {offset}, limit {limit}, {total} in total)"
    streams = [iter_examples(s3, results.models[role].examples_uri) for role in roles]
    page = list(islice(zip_longest(*streams), offset, offset + limit))
    lines = [f"Examples {offset + 1}-{offset + len(page)} of {total}"]
    for number, examples in enumerate(page, start=offset + 1):
        by_role: dict[ModelRole, JudgeExample] = {
            role: example for role, example in zip(roles, examples, strict=True) if example is not None
        }
        first = next(iter(by_role.values()))
        lines += ["", f"--- Example {number} ---", f"Prompt: {_clip(first.prompt)}"]
        for role, example in by_role.items():
            lines.append(f"{role.value.capitalize()} response: {_clip(example.response)}")
        metrics = sorted({score.metric for example in by_role.values() for score in example.scores})
        score_rows = [
            [metric] + [by_role[role].score_map().get(metric) if role in by_role else None for role in roles]
            for metric in metrics
        ]
        lines.append(format_table(["Metric", *(role.value.capitalize() for role in roles)], score_rows))
        if show_explanations:
            for role, example in by_role.items():
                lines += [
                    f"  {role.value} / {score.metric}: {_clip(score.explanation)}"
                    for score in example.scores
                    if score.explanation
                ]
    return "\n".join(lines)


def _signed(value: float | None) -> str:
    return "" if value is None else f"{value:+.4f}"


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 3] + "..."
