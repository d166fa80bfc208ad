"""EvaluationResultsOperator: read a finished evaluation execution's results into XCom."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_sm_eval.links.console_urls import s3_console_url
from airflow_provider_sm_eval.links.evaluation import EvaluationResultsLink
from airflow_provider_sm_eval.operators.base import EvaluationBaseOperator
from airflow_provider_sm_eval.utils.mixins import aws_template_fields
from airflow_provider_sm_eval.utils.validation import require_count, require_execution_arn
from airflow_provider_sm_eval.version_compat import AirflowException

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_provider_sm_eval.version_compat import Context


class EvaluationResultsOperator(EvaluationBaseOperator):
    """Read the results of a succeeded evaluation execution, log them as tables, return the summary.

    XCom ``return_value``: the ``EvaluationSummary`` dict (eval_type, execution_arn, metrics
    ``{"custom": {...}, "base": {...}}``, deltas custom minus base, win_rates for LLM-as-judge,
    example_counts, artifact_uris, truncated, non_numeric_metrics: the metrics that are not
    numbers, with their JSON type and raw value); bounded in size whatever the results' size.

    :param execution_arn: ARN of the pipeline execution (templated).
    :param results_log_limit: LLM-as-judge examples shown in the task log.
    :param kwargs: the connection arguments of :class:`EvaluationBaseOperator` and
        ``BaseOperator``'s.
    """

    template_fields: Sequence[str] = aws_template_fields("execution_arn")
    operator_extra_links = (EvaluationResultsLink(),)

    def __init__(
        self,
        *,
        execution_arn: str,
        results_log_limit: int = 5,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.execution_arn = execution_arn
        self.results_log_limit = require_count(results_log_limit, "results_log_limit")
        #: Result files read, for OpenLineage.
        self._result_uris: list[str] = []

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_sm_eval.evaluation.exceptions import ResultsNotAvailableError

        arn = require_execution_arn(self.execution_arn)
        hook = self.hook
        execution = hook.get_execution(self.execution_arn)
        if not execution.status.is_succeeded:
            raise AirflowException(
                f"Evaluation execution {execution.arn} is {execution.status.overall_status.value}: "
                "results are read from succeeded executions only"
            )
        if execution.s3_output_path:
            EvaluationResultsLink.persist(
                context, self, s3_console_url(execution.s3_output_path, arn.region, arn.partition)
            )
        try:
            summary = hook.get_summary(execution)
        except ResultsNotAvailableError as error:
            raise AirflowException(str(error)) from error
        results_table = hook.render_results(execution, self.results_log_limit, summary)
        self.log.info("Evaluation results\n%s", results_table)
        self._result_uris = list(summary.artifact_uris)
        return summary.model_dump(mode="json")

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage | None:
        """OpenLineage: the result files this task read, and the execution that wrote them."""
        from airflow_provider_sm_eval.utils.lineage import operator_lineage

        return operator_lineage(self._result_uris, [], execution_arn=self.execution_arn)
