"""Result readers per evaluation family, the bounded EvaluationSummary and the text rendering."""

from airflow_provider_sm_eval.evaluation.results.summary import EvaluationSummary, WinRateSummary

__all__ = ["EvaluationSummary", "WinRateSummary"]
