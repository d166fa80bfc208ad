"""EvaluationExecutionSensor: wait for an evaluation execution to end (poke, reschedule or deferred)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_sm_eval import settings
from airflow_provider_sm_eval.evaluation.constants import ExecutionStatus
from airflow_provider_sm_eval.evaluation.pipeline_events import validate_queue_url
from airflow_provider_sm_eval.evaluation.polling import validate_poll_interval
from airflow_provider_sm_eval.operators.base import EvaluationBaseOperator
from airflow_provider_sm_eval.utils.mixins import aws_template_fields
from airflow_provider_sm_eval.utils.outcome import (
    DEFAULT_SUCCESS_STATUSES,
    parse_success_statuses,
    raise_for_outcome,
    status_from_event,
    steps_payload,
)
from airflow_provider_sm_eval.utils.validation import require_bool, require_execution_arn
from airflow_provider_sm_eval.utils.xcom import XCOM_STEPS
from airflow_provider_sm_eval.version_compat import BaseSensorOperator, conf

if TYPE_CHECKING:
    from airflow_provider_sm_eval.evaluation.models import PipelineExecutionStatus
    from airflow_provider_sm_eval.version_compat import Context


class EvaluationExecutionSensor(EvaluationBaseOperator, BaseSensorOperator):
    """Succeed when the execution ends in one of ``success_statuses``; fail on any other terminal status.

    A failure names the failed steps, their reasons, job ARNs and log links. XCom
    ``return_value`` is not pushed by sensors; the key ``steps`` holds the final steps.

    :param execution_arn: ARN of the pipeline execution (templated).
    :param success_statuses: terminal statuses that count as success.
    :param deferrable: wait in the triggerer; default ``[operators] default_deferrable``.
    :param event_queue_url: deferred only: SQS queue of SageMaker's status-change events
        (README "Event-driven completion"): the wait then ends soon after its event, and within
        ``poke_interval`` in any case. Default: ``[sm_eval] event_queue_url``.
    :param kwargs: the connection arguments of :class:`EvaluationBaseOperator` and
        ``BaseOperator``'s.
    """

    template_fields: Sequence[str] = aws_template_fields("execution_arn")
    ui_color = "#e6f1f2"

    def __init__(
        self,
        *,
        execution_arn: str,
        success_statuses: Collection[ExecutionStatus | str] = DEFAULT_SUCCESS_STATUSES,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        event_queue_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.execution_arn = execution_arn
        self.success_statuses = parse_success_statuses(success_statuses)
        self.deferrable = require_bool(deferrable, "deferrable")
        self.event_queue_url = validate_queue_url(event_queue_url)
        # The trigger polls every poke_interval: refused here, at DAG parse time, not when deferring.
        validate_poll_interval(self.poke_interval, name="poke_interval")

    def execute(self, context: Context) -> Any:
        require_execution_arn(self.execution_arn)
        if not self.deferrable:
            return super().execute(context)
        from airflow_provider_sm_eval.triggers.evaluation_execution import EvaluationExecutionTrigger

        status = self.hook.get_execution(self.execution_arn).status
        if status.is_terminal:
            self._finish(context, status)
            return None
        self.defer(
            trigger=EvaluationExecutionTrigger(
                self.execution_arn,
                **self.connection_args.as_kwargs(),
                poll_interval=self.poke_interval,
                event_queue_url=settings.event_queue_url(self.event_queue_url),
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def poke(self, context: Context) -> bool:
        require_execution_arn(self.execution_arn)
        status = self.hook.get_execution(self.execution_arn).status
        self.log.info("Evaluation execution %s is %s", self.execution_arn, status.overall_status.value)
        if not status.is_terminal:
            return False
        self._finish(context, status)
        return True

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> None:
        """Resume after the trigger's event, once checked to be one of this wait, with ``poke``'s rule."""
        self._finish(context, status_from_event(event, self.execution_arn))

    def _finish(self, context: Context, status: PipelineExecutionStatus) -> None:
        from airflow_provider_sm_eval.evaluation.steps_table import format_step_table

        self.log.info(
            "Evaluation execution %s ended %s\n%s",
            self.execution_arn,
            status.overall_status.value,
            format_step_table(status.step_details),
        )
        context["ti"].xcom_push(key=XCOM_STEPS, value=steps_payload(status))
        raise_for_outcome(self.execution_arn, status, self.success_statuses)
