"""The triggerer runtime: what the triggers of one process share, held by one object.

A triggerer runs many triggers on one event loop. They share, per key (the key holds the event
loop through the client key, so nothing leaks across loops):

- the aiobotocore clients (:mod:`.clients`), one per connection, region, settings and service;
- the pipeline watches (:mod:`.watch`), one per client and pipeline, polling for every wait;
- the queue consumers (:mod:`.events`), one per client and queue, waking the waits early.

:data:`RUNTIME` is the process's one :class:`TriggererRuntime`, which the hook borrows from;
its fields tell tests and diagnostics what is open (``len(RUNTIME.watches)``).
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager, nullcontext
from typing import Any

from airflow_provider_sm_eval.evaluation.arns import parse_execution_arn
from airflow_provider_sm_eval.evaluation.models import PipelineExecutionStatus
from airflow_provider_sm_eval.evaluation.polling import StatusCallback
from airflow_provider_sm_eval.triggerer.clients import ClientCache, ClientKey, ClientOpener
from airflow_provider_sm_eval.triggerer.events import EventConsumer
from airflow_provider_sm_eval.triggerer.registry import SharedRegistry
from airflow_provider_sm_eval.triggerer.watch import FallBackToPolling, PipelineWatch, poll_alone

log = logging.getLogger(__name__)


class TriggererRuntime:
    """The shared clients, pipeline watches and queue consumers of one process."""

    def __init__(self) -> None:
        self.clients = ClientCache()
        self.watches: SharedRegistry[PipelineWatch] = SharedRegistry()
        self.consumers: SharedRegistry[EventConsumer] = SharedRegistry()

    def shared_client(self, key: ClientKey, open_client: ClientOpener) -> AbstractAsyncContextManager[Any]:
        """Borrow the client of ``key``, opened by ``open_client`` when no one holds it."""
        return self.clients.borrow(key, open_client)

    @contextmanager
    def event_consumer(self, client_key: Hashable, client: Any, queue_url: str) -> Iterator[EventConsumer]:
        """The consumer of ``queue_url`` over the shared SQS client of ``client_key``, in this loop."""
        with self.consumers.borrow(
            (client_key, queue_url), lambda: EventConsumer(client, queue_url)
        ) as consumer:
            yield consumer

    @contextmanager
    def pipeline_watch(self, client_key: Hashable, client: Any, arn: str) -> Iterator[PipelineWatch]:
        """The watch of ``arn``'s pipeline over the shared client of ``client_key``, in this loop."""
        pipeline = parse_execution_arn(arn).pipeline_arn
        with self.watches.borrow((client_key, pipeline), lambda: PipelineWatch(client, pipeline)) as watch:
            yield watch

    async def wait_for_terminal_status(
        self,
        client_key: Hashable,
        client: Any,
        arn: str,
        poll_interval: float,
        on_progress: StatusCallback | None = None,
        *,
        events: EventConsumer | None = None,
    ) -> PipelineExecutionStatus:
        """Wait through the pipeline's shared watch; poll alone when the pipeline cannot be listed.

        With ``events``, an event on ``arn`` wakes the watch (it describes ``arn`` at once); the
        watch still polls every ``poll_interval``, so the wait never depends on the event.
        """
        with self.pipeline_watch(client_key, client, arn) as watch:
            routed = events.route(arn, lambda: watch.wake(arn)) if events is not None else nullcontext()
            try:
                with routed:
                    return await watch.wait(arn, poll_interval, on_progress)
            except FallBackToPolling as reason:
                log.warning(
                    "Cannot list executions of %s (%s): polling %s alone", watch.pipeline_arn, reason, arn
                )
        return await poll_alone(client, arn, poll_interval, on_progress)


#: The triggerer runtime of this process.
RUNTIME = TriggererRuntime()
