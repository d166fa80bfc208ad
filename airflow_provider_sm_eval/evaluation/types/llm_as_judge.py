"""LLM-as-judge evaluations: aggregate judge scores and per-example judge records."""

from airflow_provider_sm_eval.evaluation.constants import LLMAJ_RESULT_STEPS, EvalType
from airflow_provider_sm_eval.evaluation.results.render import render_llmaj
from airflow_provider_sm_eval.evaluation.results.summary import summarize_llmaj
from airflow_provider_sm_eval.evaluation.types.kind import EvaluationKind, ResultFamily

LLM_AS_JUDGE = EvaluationKind(
    eval_type=EvalType.LLM_AS_JUDGE,
    pipeline_name_prefix="SagemakerEvaluation-LLMAJEvaluation",
    family=ResultFamily.LLM_AS_JUDGE,
    result_steps=LLMAJ_RESULT_STEPS,
    summarize=summarize_llmaj,
    render=render_llmaj,
)
