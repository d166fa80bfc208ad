"""The table of evaluation types. A new type is one module beside this one and one line below.

An eval type without an entry is an error (:func:`kind_of`), never a fallback to another type.
"""

from __future__ import annotations

from airflow_provider_sm_eval.evaluation.constants import EvalType
from airflow_provider_sm_eval.evaluation.types.benchmark import BENCHMARK
from airflow_provider_sm_eval.evaluation.types.custom_scorer import CUSTOM_SCORER
from airflow_provider_sm_eval.evaluation.types.kind import EvaluationKind
from airflow_provider_sm_eval.evaluation.types.llm_as_judge import LLM_AS_JUDGE

KINDS: dict[EvalType, EvaluationKind] = {
    kind.eval_type: kind for kind in (BENCHMARK, CUSTOM_SCORER, LLM_AS_JUDGE)
}


def kind_of(eval_type: EvalType | str) -> EvaluationKind:
    """The registry entry of ``eval_type`` (a member, its value or its name); ValueError otherwise."""
    member = EvalType.parse(eval_type)
    kind = KINDS.get(member)
    if kind is None:
        raise ValueError(f"eval_type {member.value!r} has no entry in the evaluation type registry")
    return kind


def kind_of_pipeline(pipeline_name: str) -> EvaluationKind:
    """The type whose name prefix ``pipeline_name`` carries, as the SDK reads it; ValueError otherwise."""
    for kind in KINDS.values():
        if kind.names_pipeline(pipeline_name):
            return kind
    raise ValueError(f"pipeline {pipeline_name!r} is not a SageMaker evaluation pipeline")


def all_result_steps() -> frozenset[str]:
    """Names of every step that writes result files, in any type."""
    return frozenset(step.value for kind in KINDS.values() for step in kind.result_steps)
