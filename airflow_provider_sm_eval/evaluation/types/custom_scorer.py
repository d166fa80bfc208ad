"""Custom-scorer evaluations: the benchmark result format, metrics under a task key."""

from airflow_provider_sm_eval.evaluation.constants import BENCHMARK_RESULT_STEPS, EvalType
from airflow_provider_sm_eval.evaluation.results.render import render_benchmark
from airflow_provider_sm_eval.evaluation.results.summary import summarize_benchmark
from airflow_provider_sm_eval.evaluation.types.kind import EvaluationKind, ResultFamily

CUSTOM_SCORER = EvaluationKind(
    eval_type=EvalType.CUSTOM_SCORER,
    pipeline_name_prefix="SagemakerEvaluation-CustomScorerEvaluation",
    family=ResultFamily.BENCHMARK,
    result_steps=BENCHMARK_RESULT_STEPS,
    summarize=summarize_benchmark,
    render=render_benchmark,
)
