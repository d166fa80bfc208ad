"""The task page lists the metrics that are not numbers, as the summary reports them."""

from __future__ import annotations

from datetime import datetime, timezone

from airflow_provider_sm_eval.evaluation.results.summary import EvaluationSummary, NonNumericValue
from airflow_provider_sm_eval.plugins.pages import task_page
from airflow_provider_sm_eval.plugins.view_models import TaskEvaluationView

ARN = (
    "arn:aws:sagemaker:us-east-1:123456789012:pipeline/sagemakerevaluation-benchmarkevaluation-1/execution/a"
)


def view(summary: EvaluationSummary) -> TaskEvaluationView:
    return TaskEvaluationView(
        dag_id="nightly",
        run_id="run",
        task_id="evaluate",
        map_index=-1,
        task_state="success",
        operator="StartEvaluationOperator",
        as_of=datetime(2026, 11, 29, tzinfo=timezone.utc),
        has_evaluation=True,
        execution_arn=ARN,
        eval_type="benchmark",
        status="Succeeded",
        results=summary,
    )


def summary(**extra: object) -> EvaluationSummary:
    return EvaluationSummary(
        eval_type="benchmark", execution_arn=ARN, metrics={"custom": {"acc": 0.8}}, deltas={}, **extra
    )


def test_metrics_that_are_not_numbers_are_listed_escaped() -> None:
    reported = summary(
        non_numeric_metrics={"custom": {"alias": NonNumericValue(type="string", value='"<mmlu>"')}}
    )
    page = task_page(view(reported))
    assert 'id="non-numeric"' in page
    assert "custom alias = &#34;&lt;mmlu&gt;&#34; (string)" in page
    assert '"<mmlu>"' not in page


def test_nothing_is_listed_when_every_metric_is_a_number() -> None:
    assert 'id="non-numeric"' not in task_page(view(summary()))
