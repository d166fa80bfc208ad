"""The evaluation type registry: every type has an entry; nothing falls back to another type."""

from __future__ import annotations

import pytest

from airflow_provider_sm_eval.evaluation.constants import EvalType
from airflow_provider_sm_eval.evaluation.execution import (
    BenchmarkEvaluationExecution,
    LLMAJEvaluationExecution,
    execution_class_for,
)
from airflow_provider_sm_eval.evaluation.types import registry
from airflow_provider_sm_eval.evaluation.types.registry import kind_of, kind_of_pipeline


def test_every_eval_type_has_an_entry_with_the_sdk_prefix() -> None:
    assert {kind_of(member).pipeline_name_prefix for member in EvalType} == {
        "SagemakerEvaluation-BenchmarkEvaluation",
        "SagemakerEvaluation-CustomScorerEvaluation",
        "SagemakerEvaluation-LLMAJEvaluation",
    }


def test_a_type_without_an_entry_is_an_error_not_a_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(registry.KINDS, EvalType.CUSTOM_SCORER)
    with pytest.raises(ValueError, match="'customscorer' has no entry"):
        kind_of("customscorer")
    with pytest.raises(ValueError, match="has no entry"):
        execution_class_for(EvalType.CUSTOM_SCORER)
    with pytest.raises(ValueError, match="not a SageMaker evaluation pipeline"):
        kind_of_pipeline("SagemakerEvaluation-CustomScorerEvaluation-abc")


def test_execution_class_follows_the_result_family() -> None:
    assert execution_class_for(EvalType.BENCHMARK) is BenchmarkEvaluationExecution
    assert execution_class_for(EvalType.CUSTOM_SCORER) is BenchmarkEvaluationExecution
    assert execution_class_for(EvalType.LLM_AS_JUDGE) is LLMAJEvaluationExecution


def test_pipeline_names_are_read_case_insensitively_and_strictly() -> None:
    kind = kind_of_pipeline("sagemakerevaluation-customscorerevaluation-1")
    assert kind.eval_type is EvalType.CUSTOM_SCORER
    with pytest.raises(ValueError, match="not a SageMaker evaluation pipeline"):
        kind_of_pipeline("SagemakerEvaluation-Other-1")
