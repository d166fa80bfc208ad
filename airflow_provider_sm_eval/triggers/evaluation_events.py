"""EvaluationEndedTrigger: fires whenever an evaluation execution ends, for Airflow 3's AssetWatcher.

It reads the SQS queue that SageMaker's status-change events reach (see
:mod:`..provisioning.event_setup`) through the triggerer's shared consumer of that queue. A queue
message is input, not proof: anyone allowed to send to the queue can write one. So an end event
becomes an asset event only when

- its execution ARN is of the queue's account, of the region of the trigger's SageMaker client,
  and of an evaluation pipeline (a name prefix of the type registry; of ``eval_type`` when set),
  checked before any call;
- it is new: event ids already seen, and ends already reported (the same execution and
  ``LastModifiedTime``), are dropped (the last ``SEEN_LIMIT`` of each are remembered);
- DescribePipelineExecution says the execution is in that terminal status now.

The payload is taken from the description, not from the message. Each event:
``{"execution_arn", "pipeline_arn", "status", "display_name"}``; a DAG scheduled on the asset
reads the ARNs of the events its run consumed with :func:`ended_execution_arns`. The consumer
deletes every message it receives, so give the watcher a queue of its own (the waits' consumers
in other triggerers would take its events). Delivery is at most once per process lifetime and per end;
a restarted triggerer may report an end again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Collection, Hashable, Iterable, Mapping
from typing import Any

from airflow_provider_sm_eval import settings
from airflow_provider_sm_eval.connection_args import ConnectionArgs
from airflow_provider_sm_eval.evaluation.arns import parse_execution_arn
from airflow_provider_sm_eval.evaluation.constants import EvalType, ExecutionStatus, parse_terminal_status
from airflow_provider_sm_eval.evaluation.pipeline_events import validate_queue_url
from airflow_provider_sm_eval.evaluation.polling import PollState
from airflow_provider_sm_eval.evaluation.types.registry import kind_of_pipeline
from airflow_provider_sm_eval.triggerer.events import PipelineEvent
from airflow_provider_sm_eval.utils.mixins import EvaluationHookMixin
from airflow_provider_sm_eval.version_compat import BaseEventTrigger, TriggerEvent

log = logging.getLogger(__name__)

#: How many event ids, and how many reported ends, a trigger remembers to drop duplicates.
SEEN_LIMIT = 10_000
#: The key of the ended execution's ARN in an event's payload (the asset event's ``extra["payload"]``).
PAYLOAD_EXECUTION_ARN = "execution_arn"


class _Seen:
    """The last ``limit`` keys added: memory stays bounded however many events arrive."""

    def __init__(self, limit: int = SEEN_LIMIT) -> None:
        self.limit = limit
        self._keys: OrderedDict[Hashable, None] = OrderedDict()

    def add(self, key: Hashable) -> bool:
        """Remember ``key``; False when it was already remembered."""
        if key in self._keys:
            return False
        self._keys[key] = None
        if len(self._keys) > self.limit:
            self._keys.popitem(last=False)
        return True


class EvaluationEndedTrigger(EvaluationHookMixin, BaseEventTrigger):
    """Yield an event for every evaluation execution that ends in one of ``statuses``.

    :param event_queue_url: SQS queue fed by the EventBridge rule of ``event_setup``; default
        ``[sm_eval] event_queue_url`` (give the watcher a queue of its own, see above).
    :param statuses: terminal statuses to report (default: Succeeded only).
    :param eval_type: report only executions of this eval type (default: all).
    :param aws_conn_id: Airflow ``aws`` connection (its name only).
    :param region_name: AWS region overriding the connection's.
    :param verify: TLS verification of the endpoint.
    :param botocore_config: botocore ``Config`` arguments as a JSON-safe dict.
    """

    def __init__(
        self,
        event_queue_url: str | None = None,
        *,
        statuses: Collection[ExecutionStatus | str] = (ExecutionStatus.SUCCEEDED,),
        eval_type: EvalType | str | None = None,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        queue_url = settings.event_queue_url(validate_queue_url(event_queue_url))
        if queue_url is None:
            raise ValueError(
                "event_queue_url is required: no queue given and [sm_eval] event_queue_url is empty"
            )
        self.event_queue_url: str = queue_url
        self.statuses = sorted({parse_terminal_status(s, name="statuses").value for s in statuses})
        if not self.statuses:
            raise ValueError("statuses must name at least one terminal status")
        self.eval_type = EvalType.parse(eval_type).value if eval_type is not None else None
        self.set_connection_args(ConnectionArgs(aws_conn_id, region_name, verify, botocore_config))

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "event_queue_url": self.event_queue_url,
                "statuses": self.statuses,
                "eval_type": self.eval_type,
                **self.connection_args.as_kwargs(),
            },
        )

    def _wanted(self, event: PipelineEvent, account: str, region: str) -> bool:
        """Whether ``event`` may be reported, before asking SageMaker: status, account, region, type."""
        if event.status is None or event.status.value not in self.statuses:
            return False
        arn = parse_execution_arn(event.execution_arn)
        if (arn.account, arn.region) != (account, region):
            self.log.warning("Ignoring an event of %s: not of account %s in %s", arn, account, region)
            return False
        try:
            kind = kind_of_pipeline(arn.pipeline_name)
        except ValueError:
            self.log.warning("Ignoring an event of %s: not an evaluation pipeline", arn)
            return False
        return self.eval_type is None or kind.eval_type.value == self.eval_type

    async def _describe(self, client: Any, event: PipelineEvent) -> dict[str, Any] | None:
        """The execution as SageMaker describes it; None (logged) when it cannot be described."""
        backoff = PollState(event.execution_arn, 1.0)
        while True:
            try:
                described: dict[str, Any] = await client.describe_pipeline_execution(
                    PipelineExecutionArn=event.execution_arn
                )
                return described
            except Exception as error:
                try:
                    delay = backoff.error_delay(error)
                except Exception:
                    self.log.warning("Ignoring an event of %s: %s", event.execution_arn, error)
                    return None
            await asyncio.sleep(delay)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = self.hook
        account = self.event_queue_url.rstrip("/").split("/")[-2]
        candidates: asyncio.Queue[PipelineEvent] = asyncio.Queue()
        seen_ids, reported = _Seen(), _Seen()

        async with (
            hook.shared_async_client() as sagemaker,
            hook.event_consumer(self.event_queue_url) as consumer,
        ):
            region = sagemaker.meta.region_name

            def on_end(event: PipelineEvent) -> None:
                if self._wanted(event, account, region) and seen_ids.add(event.event_id):
                    candidates.put_nowait(event)

            with consumer.watch(on_end):
                while True:
                    event = await candidates.get()
                    described = await self._describe(sagemaker, event)
                    if described is None:
                        continue
                    status = described.get("PipelineExecutionStatus")
                    if status != event.status:
                        self.log.warning(
                            "Ignoring an event saying %s is %s: SageMaker says %s",
                            event.execution_arn,
                            event.status and event.status.value,
                            status,
                        )
                        continue
                    if not reported.add((event.execution_arn, str(described.get("LastModifiedTime")))):
                        continue
                    self.log.info("Evaluation execution %s ended: %s", event.execution_arn, status)
                    yield TriggerEvent(
                        {
                            PAYLOAD_EXECUTION_ARN: event.execution_arn,
                            "pipeline_arn": described.get("PipelineArn"),
                            "status": status,
                            "display_name": described.get("PipelineExecutionDisplayName"),
                        }
                    )


def ended_execution_arns(triggering_asset_events: Mapping[Any, Iterable[Any]] | None) -> list[str]:
    """The execution ARN of every asset event of this trigger that a DAG run consumed: each once,
    in the order of the events.

    Airflow starts one run for the asset events that arrive together (and, up to 3.3, leaves the
    events that arrive while the first one waits for its run to the next run), so a DAG scheduled
    on the asset acts on each of them, not on the last: map a task over this list. An asset event
    is input, since anyone allowed to create asset events through Airflow's API can write one: an
    event without a well-formed execution ARN in its payload is logged and left out, and the task
    given an ARN asks SageMaker about it.
    """
    arns: dict[str, None] = {}
    for asset, events in (triggering_asset_events or {}).items():
        for event in events:
            try:
                arns[_execution_arn_of(event)] = None
            except ValueError as error:
                log.warning(
                    "Leaving out an event of %s at %s: %s", asset, getattr(event, "timestamp", "?"), error
                )
    return list(arns)


def _execution_arn_of(event: Any) -> str:
    """The well-formed execution ARN in an asset event's payload; ValueError saying what is wrong."""
    extra = getattr(event, "extra", None)
    payload = extra.get("payload") if isinstance(extra, Mapping) else None
    arn = payload.get(PAYLOAD_EXECUTION_ARN) if isinstance(payload, Mapping) else None
    if not isinstance(arn, str):
        raise ValueError(f"its extra has no payload with a {PAYLOAD_EXECUTION_ARN} string")
    parse_execution_arn(arn, name=f"its payload's {PAYLOAD_EXECUTION_ARN}")
    return arn.strip()
