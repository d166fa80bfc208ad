"""EvaluationExecutionTrigger: waits in the triggerer for an evaluation execution to end.

It waits through the triggerer-wide watch of the execution's pipeline
(:mod:`..triggerer.watch`: one ListPipelineExecutions listing per ``poll_interval`` for every
wait on that pipeline, up to three when as many waits share it, jittered; the execution
described and its steps listed when it ends)
over an aiobotocore client shared with the other triggers of the same connection, and yields
exactly one event (:mod:`..evaluation.wait_events`, the amazon provider's vocabulary):

- ``{"status": "success", "execution_arn": ..., "execution_status": PipelineExecutionStatus JSON}``
  when the execution Succeeded;
- ``{"status": "error", "execution_arn": ..., "execution_status": ...}`` for every other terminal
  status, Failed, Stopped and CompletedWithFailures (the task decides what counts as success,
  so the failure reason and failed steps always reach it);
- ``{"status": "error", "execution_arn": ..., "message": ...}`` when polling cannot go on
  (access denied, unknown execution, no credentials, ...).

Throttling and other transient errors are waited out with a capped backoff; they never end
the wait.
The kwargs are JSON-safe and hold no secret, so a restarted triggerer rebuilds the trigger
and carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from airflow_provider_sm_eval.connection_args import ConnectionArgs
from airflow_provider_sm_eval.evaluation.arns import parse_execution_arn
from airflow_provider_sm_eval.evaluation.clients import describe_client_error
from airflow_provider_sm_eval.evaluation.constants import STOPPABLE_STATUSES
from airflow_provider_sm_eval.evaluation.exceptions import EvaluationStopError
from airflow_provider_sm_eval.evaluation.models import PipelineExecutionStatus
from airflow_provider_sm_eval.evaluation.pipeline_events import validate_queue_url
from airflow_provider_sm_eval.evaluation.polling import validate_poll_interval
from airflow_provider_sm_eval.evaluation.steps_table import format_step_table
from airflow_provider_sm_eval.evaluation.wait_events import ended_event, wait_failed_event
from airflow_provider_sm_eval.hooks.evaluation import SageMakerEvaluationHook
from airflow_provider_sm_eval.utils.deferred_kill import killed_while_deferred
from airflow_provider_sm_eval.utils.mixins import EvaluationHookMixin
from airflow_provider_sm_eval.version_compat import BaseTrigger, TriggerEvent


class EvaluationExecutionTrigger(EvaluationHookMixin, BaseTrigger):
    """Wait for a SageMaker evaluation execution to reach a terminal status.

    :param execution_arn: ARN of the pipeline execution.
    :param aws_conn_id: Airflow ``aws`` connection (its name only; credentials stay in it).
    :param region_name: AWS region overriding the connection's.
    :param verify: TLS verification of the endpoint.
    :param botocore_config: botocore ``Config`` arguments as a JSON-safe dict.
    :param poll_interval: seconds between polls (each sleep is shortened by a little jitter).
    :param stop_on_kill: stop the execution when a user kills the deferred task (through
        ``on_kill`` on Airflow 3.3+; before, when the trigger is cancelled and its task instance
        is no longer deferred).
    :param event_queue_url: SQS queue receiving SageMaker's pipeline status-change events from
        EventBridge (see :mod:`..provisioning.event_setup`): the wait ends soon after its event
        reaches this triggerer, and within ``poll_interval`` in any case (it keeps polling).
    """

    def __init__(
        self,
        execution_arn: str,
        *,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
        poll_interval: float = 30.0,
        stop_on_kill: bool = False,
        event_queue_url: str | None = None,
    ) -> None:
        super().__init__()
        parse_execution_arn(execution_arn)
        self.poll_interval = validate_poll_interval(poll_interval)
        self.execution_arn = execution_arn
        self.set_connection_args(ConnectionArgs(aws_conn_id, region_name, verify, botocore_config))
        self.stop_on_kill = stop_on_kill
        self.event_queue_url = validate_queue_url(event_queue_url)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "execution_arn": self.execution_arn,
                **self.connection_args.as_kwargs(),
                "poll_interval": self.poll_interval,
                "stop_on_kill": self.stop_on_kill,
                "event_queue_url": self.event_queue_url,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = self.hook
        try:
            async with hook.shared_async_client() as client:
                status = await self._poll_until_terminal(hook, client)
        except asyncio.CancelledError as cancel:
            # Before Airflow 3.3 no on_kill is called for a killed deferred task: stop here.
            if self.stop_on_kill and await killed_while_deferred(self, cancel):
                self.log.info("The deferred task was killed: stopping %s", self.execution_arn)
                with contextlib.suppress(EvaluationStopError):  # logged at ERROR by on_kill
                    await self.on_kill()
            raise
        except Exception as error:
            self.log.error("Stopped waiting for evaluation execution %s: %s", self.execution_arn, error)
            yield TriggerEvent(wait_failed_event(self.execution_arn, f"{type(error).__name__}: {error}"))
            return
        yield TriggerEvent(ended_event(self.execution_arn, status))

    async def _poll_until_terminal(
        self, hook: SageMakerEvaluationHook, client: Any
    ) -> PipelineExecutionStatus:
        """Wait through the pipeline's shared watch; transient errors are waited out."""
        return await hook.wait_for_terminal_status_async(
            client,
            self.execution_arn,
            self.poll_interval,
            self._log_progress,
            event_queue_url=self.event_queue_url,
        )

    def _log_progress(self, status: PipelineExecutionStatus, _described: Mapping[str, Any]) -> None:
        steps = f"\n{format_step_table(status.step_details)}" if status.step_details else ""
        self.log.info(
            "Evaluation execution %s is %s%s", self.execution_arn, status.overall_status.value, steps
        )

    async def on_kill(self) -> None:
        """Stop the execution when the user kills the deferred task and ``stop_on_kill`` is set.

        A failed stop is not a clean kill: it is logged at ERROR in the task's log, naming the
        execution and (for a refused permission) the IAM action to grant, and raised as
        ``EvaluationStopError``, which the triggerer reports as "on_kill() raised an exception".
        """
        if not self.stop_on_kill:
            return
        hook = self.hook
        try:
            async with hook.shared_async_client() as client:
                status = await hook.get_execution_status_async(client, self.execution_arn)
                if status.overall_status in STOPPABLE_STATUSES:
                    await hook.stop_execution_async(client, self.execution_arn)
                    self.log.info("Asked to stop evaluation execution %s", self.execution_arn)
        except Exception as error:
            failure = EvaluationStopError(
                self.execution_arn, describe_client_error(error, self.execution_arn)
            )
            self.log.error("%s", failure)
            raise failure from error
