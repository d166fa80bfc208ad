"""StopEvaluationOperator: stop a running SageMaker evaluation execution."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_sm_eval.evaluation.constants import TERMINAL_STATUSES
from airflow_provider_sm_eval.evaluation.polling import validate_poll_interval
from airflow_provider_sm_eval.operators.base import EvaluationBaseOperator
from airflow_provider_sm_eval.utils.mixins import aws_template_fields
from airflow_provider_sm_eval.utils.outcome import steps_payload
from airflow_provider_sm_eval.utils.validation import require_bool, require_execution_arn

if TYPE_CHECKING:
    from airflow_provider_sm_eval.version_compat import Context


class StopEvaluationOperator(EvaluationBaseOperator):
    """Ask SageMaker to stop an evaluation execution; an execution already ended is left alone.

    XCom ``return_value``: ``{"execution_arn", "status", "steps"}``, the status after the stop
    request (the final one with ``wait_for_stop``).

    :param execution_arn: ARN of the pipeline execution (templated).
    :param wait_for_stop: wait until the execution reaches a terminal status.
    :param poll_interval: seconds between status polls while waiting.
    :param kwargs: the connection arguments of :class:`EvaluationBaseOperator` and
        ``BaseOperator``'s.
    """

    template_fields: Sequence[str] = aws_template_fields("execution_arn")
    ui_color = "#f2e6e6"

    def __init__(
        self,
        *,
        execution_arn: str,
        wait_for_stop: bool = True,
        poll_interval: float = 10,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.execution_arn = execution_arn
        self.wait_for_stop = require_bool(wait_for_stop, "wait_for_stop")
        self.poll_interval = validate_poll_interval(poll_interval)

    def execute(self, context: Context) -> dict[str, Any]:
        require_execution_arn(self.execution_arn)
        hook = self.hook
        execution = hook.stop_execution(self.execution_arn)
        if self.wait_for_stop and not execution.status.is_terminal:
            hook.wait_for_execution(
                execution, success_statuses=TERMINAL_STATUSES, poll_interval=self.poll_interval
            )
        self.log.info("Evaluation execution %s is %s", execution.arn, execution.status.overall_status.value)
        return {
            "execution_arn": execution.arn,
            "status": execution.status.overall_status.value,
            "steps": steps_payload(execution.status),
        }
