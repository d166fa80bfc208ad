"""EvaluationEndedTrigger: fires whenever an evaluation execution ends, for Airflow 3's AssetWatcher.

It reads the SQS queue that SageMaker's status-change events reach (see
:mod:`..evaluation.event_setup`) through the triggerer's shared consumer of that queue, so it can
share the queue with deferred waits (``event_queue_url``) of the same triggerer: it is told of
each terminal event once and leaves the event on the queue for the wait that needs it. With
several triggerers give it a queue of its own: SQS hands each event to one triggerer, whose
consumer deletes the events of its own waits. Events are delivered at
least once: a DAG scheduled on the asset may, rarely, run twice for one execution.

Each event: ``{"execution_arn", "pipeline_arn", "status", "display_name"}``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
from typing import Any

from airflow_provider_sm_eval.evaluation.arns import parse_execution_arn
from airflow_provider_sm_eval.evaluation.constants import EvalType, ExecutionStatus, parse_terminal_status
from airflow_provider_sm_eval.evaluation.event_setup import validate_queue_url
from airflow_provider_sm_eval.hooks.execution_events import event_consumer
from airflow_provider_sm_eval.utils.mixins import EvaluationHookMixin
from airflow_provider_sm_eval.version_compat import BaseEventTrigger, TriggerEvent


class EvaluationEndedTrigger(EvaluationHookMixin, BaseEventTrigger):
    """Yield an event for every evaluation execution that ends in one of ``statuses``.

    :param event_queue_url: SQS queue fed by the EventBridge rule of ``event_setup``.
    :param statuses: terminal statuses to report (default: Succeeded only).
    :param eval_type: report only executions of this eval type (default: all).
    :param aws_conn_id: Airflow ``aws`` connection (its name only).
    :param region_name: AWS region overriding the connection's.
    :param verify: TLS verification of the endpoint.
    :param botocore_config: botocore ``Config`` arguments as a JSON-safe dict.
    """

    def __init__(
        self,
        event_queue_url: str,
        *,
        statuses: Collection[ExecutionStatus | str] = (ExecutionStatus.SUCCEEDED,),
        eval_type: EvalType | str | None = None,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if validate_queue_url(event_queue_url) is None:
            raise ValueError("event_queue_url is required")
        self.event_queue_url = event_queue_url
        self.statuses = sorted({parse_terminal_status(s, name="statuses").value for s in statuses})
        if not self.statuses:
            raise ValueError("statuses must name at least one terminal status")
        self.eval_type = EvalType.parse(eval_type).value if eval_type is not None else None
        self.set_connection_args(aws_conn_id, region_name, verify, botocore_config)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "event_queue_url": self.event_queue_url,
                "statuses": self.statuses,
                "eval_type": self.eval_type,
                **self.connection_args,
            },
        )

    def _wanted(self, arn: str, status: ExecutionStatus) -> bool:
        if status.value not in self.statuses:
            return False
        if self.eval_type is None:
            return True
        from airflow_provider_sm_eval.evaluation.types.registry import kind_of_pipeline

        try:
            return kind_of_pipeline(parse_execution_arn(arn).pipeline_name).eval_type.value == self.eval_type
        except ValueError:
            return False

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = self.hook
        ended: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        def on_end(arn: str, status: ExecutionStatus, detail: dict[str, Any]) -> None:
            if self._wanted(arn, status):
                ended.put_nowait(
                    {
                        "execution_arn": arn,
                        "pipeline_arn": detail.get("pipelineArn"),
                        "status": status.value,
                        "display_name": detail.get("pipelineExecutionDisplayName"),
                    }
                )

        async with hook.shared_async_client("sqs") as sqs:
            key = hook._async_client_key("sqs")
            with event_consumer(key, sqs, self.event_queue_url) as consumer, consumer.watch(on_end):
                while True:
                    payload = await ended.get()
                    self.log.info(
                        "Evaluation execution %s ended: %s", payload["execution_arn"], payload["status"]
                    )
                    yield TriggerEvent(payload)
