"""Benchmark evaluations: a metrics file per evaluated model (``results["all"]``)."""

from airflow_provider_sm_eval.evaluation.constants import BENCHMARK_RESULT_STEPS, EvalType
from airflow_provider_sm_eval.evaluation.results.render import render_benchmark
from airflow_provider_sm_eval.evaluation.results.summary import summarize_benchmark
from airflow_provider_sm_eval.evaluation.types.kind import EvaluationKind, ResultFamily

BENCHMARK = EvaluationKind(
    eval_type=EvalType.BENCHMARK,
    pipeline_name_prefix="SagemakerEvaluation-BenchmarkEvaluation",
    family=ResultFamily.BENCHMARK,
    result_steps=BENCHMARK_RESULT_STEPS,
    summarize=summarize_benchmark,
    render=render_benchmark,
)
