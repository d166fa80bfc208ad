"""SageMaker's own evaluation pipeline definitions, built as data (no Airflow, no text templates).

For the same inputs the builders produce the definition the SageMaker Python SDK 1.27's
``BenchMarkEvaluator``, ``LLMAsJudgeEvaluator`` and ``CustomScorerEvaluator`` render::

    inputs = BenchmarkEvaluation(model="meta-textgeneration-llama-3-2-1b-instruct", benchmark="mmlu",
                                 s3_output_path="s3://bucket/evals", role_arn=role_arn)
    prepared = prepare(inputs, AwsClients(region="us-west-2"), upload_key="run-1-try-1")
    request = StartRequest(eval_type=prepared.eval_type, name="mmlu",
                           pipeline_definition=prepared.definition,
                           pipeline_name_fields=prepared.pipeline_name_fields,
                           tags=list(prepared.tags), role_arn=role_arn,
                           s3_output_path=inputs.s3_output_path)

``inputs`` validates without AWS (:mod:`.inputs`, :mod:`.catalog`); :func:`prepare` resolves
(:mod:`.resolve`) and builds (one module per type). Where the SDK leaves ``{{ pipeline_name }}``,
``pipeline_name_fields`` lists the positions; the start fills them with the pipeline's name as
data (:func:`~..pipelines.definition_for_pipeline`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_sm_eval.evaluation.constants import EvalType
from airflow_provider_sm_eval.evaluation.definitions.benchmark import build as build_benchmark
from airflow_provider_sm_eval.evaluation.definitions.custom_scorer import build as build_custom_scorer
from airflow_provider_sm_eval.evaluation.definitions.inputs import (
    BenchmarkEvaluation,
    CustomScorerEvaluation,
    EvaluatorInputs,
    LLMAsJudgeEvaluation,
)
from airflow_provider_sm_eval.evaluation.definitions.llm_as_judge import build as build_llm_as_judge
from airflow_provider_sm_eval.evaluation.definitions.parts import (
    JsonPath,
    pipeline_name_fields,
    pipeline_tags,
)
from airflow_provider_sm_eval.evaluation.definitions.resolve import Resolved, resolve_counted

if TYPE_CHECKING:
    from airflow_provider_sm_eval.evaluation.clients import AwsClients

#: The builder of each type: ``build(inputs, resolved) -> definition`` (pure, no AWS).
BUILDERS: dict[EvalType, Callable[[Any, Resolved], dict[str, Any]]] = {
    EvalType.BENCHMARK: build_benchmark,
    EvalType.LLM_AS_JUDGE: build_llm_as_judge,
    EvalType.CUSTOM_SCORER: build_custom_scorer,
}


@dataclass(frozen=True)
class PreparedDefinition:
    """A built definition, what was looked up for it, and what that cost (for dry runs, logs,
    benchmarks). ``pipeline_name_fields`` are the positions that take the pipeline's name;
    ``tags`` are the pipeline's tags as the SDK sets them (a JumpStart model's id, the inputs')."""

    eval_type: EvalType
    definition: dict[str, Any]
    resolved: Resolved
    aws_calls: int
    seconds: float
    pipeline_name_fields: tuple[JsonPath, ...] = ()
    tags: tuple[dict[str, str], ...] = ()


def build(inputs: EvaluatorInputs, resolved: Resolved) -> dict[str, Any]:
    """The definition of ``inputs``'s type (pure)."""
    return BUILDERS[inputs.eval_type](inputs, resolved)


def prepare(
    inputs: EvaluatorInputs, clients: AwsClients, *, upload_key: str, hub_name: str | None = None
) -> PreparedDefinition:
    """Resolve ``inputs`` over ``clients`` and build the definition; see :func:`.resolve.resolve`."""
    started = time.monotonic()
    resolved, calls = resolve_counted(inputs, clients, upload_key=upload_key, hub_name=hub_name)
    definition = build(inputs, resolved)
    return PreparedDefinition(
        eval_type=inputs.eval_type,
        definition=definition,
        resolved=resolved,
        aws_calls=calls,
        seconds=time.monotonic() - started,
        pipeline_name_fields=pipeline_name_fields(inputs, definition),
        tags=tuple(pipeline_tags(inputs)),
    )


__all__ = [
    "BUILDERS",
    "BenchmarkEvaluation",
    "CustomScorerEvaluation",
    "EvaluatorInputs",
    "LLMAsJudgeEvaluation",
    "PreparedDefinition",
    "Resolved",
    "build",
    "prepare",
]
