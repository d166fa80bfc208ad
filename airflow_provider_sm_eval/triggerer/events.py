"""Event cues: one SQS consumer per (event loop, connection, queue) wakes the waits early.

SageMaker publishes "SageMaker Model Building Pipeline Execution Status Change" events to
EventBridge; a rule (:mod:`..provisioning.event_setup`) delivers them to an SQS queue. In each
triggerer process one :class:`EventConsumer` per queue long-polls it (10 messages per receive,
batched deletes) and wakes the pipeline watch holding a wait on the event's execution, which
then describes that execution at once.

An event is a cue, never proof, and never the only way a wait learns of its end: every wait
keeps polling through its pipeline's watch at its own ``poll_interval``, events or not. So the
consumer deletes every message it receives, at once, whether or not a wait of this process
holds its execution: with several triggerers competing for one queue (SQS hands each message
to one of them) the wait in another triggerer ends by its next poll, within its
``poll_interval``, however many events the queue holds. Nothing is released for other
consumers, so no event is received twice on purpose and a backlog costs one receive and one
delete per message, drained at the consumers' full pace.

A message that is not a well-formed pipeline event (larger than ``MAX_EVENT_BYTES``, not JSON,
nested too deep for the parser, not the schema) is logged once and deleted: it never stops the
consumer. A queue that cannot be read (missing, access denied) does not end the consumer: it
logs the error, wakes every wait it routes and tries again every ``UNREADABLE_RETRY_SECONDS``,
so an asset watcher on the queue resumes once the queue is fixed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from airflow_provider_sm_eval.evaluation.arns import parse_execution_arn
from airflow_provider_sm_eval.evaluation.constants import TERMINAL_STATUSES, ExecutionStatus
from airflow_provider_sm_eval.evaluation.pipeline_events import EXECUTION_STATUS_CHANGE, SOURCE
from airflow_provider_sm_eval.evaluation.polling import PollState

log = logging.getLogger(__name__)

#: Long-poll wait of one ReceiveMessage (SQS's maximum).
LONG_POLL_SECONDS = 20
#: A larger message body is refused before parsing: EventBridge's largest event (256 KB).
MAX_EVENT_BYTES = 256 * 1024
#: Retry delay after an error that retrying soon would not fix (a missing queue, a denied action);
#: at each such error every routed wait is woken, so the waits are checked at once meanwhile.
UNREADABLE_RETRY_SECONDS = 60.0

Wake = Callable[[], object]


class MalformedEvent(ValueError):
    """A queue message that is not a well-formed SageMaker pipeline event."""


@dataclass(frozen=True)
class PipelineEvent:
    """What a pipeline event says (input, not proof): its id, its execution and the new status.

    ``status`` is None for other detail types and for statuses this package does not know.
    """

    event_id: str
    execution_arn: str
    status: ExecutionStatus | None

    @property
    def is_end(self) -> bool:
        return self.status in TERMINAL_STATUSES


#: Told of every terminal status event a consumer receives (duplicates included).
Watcher = Callable[[PipelineEvent], object]


def parse_event(body: str) -> PipelineEvent:
    """The pipeline event in a message ``body``; MalformedEvent saying why it is none.

    The size is bounded before parsing, and a body nested too deep for the parser is refused
    like any other that is not JSON.
    """
    size = len(body.encode("utf-8", "surrogatepass")) if isinstance(body, str) else -1
    if size < 0 or size > MAX_EVENT_BYTES:
        raise MalformedEvent(f"body of {size} bytes (at most {MAX_EVENT_BYTES})")
    try:
        event = json.loads(body)
    except RecursionError:
        raise MalformedEvent("body nested too deep to parse") from None
    except ValueError as error:
        raise MalformedEvent(f"not JSON ({error})") from None
    if not isinstance(event, dict):
        raise MalformedEvent(f"a JSON {type(event).__name__}, not an object")
    if event.get("source") != SOURCE:
        raise MalformedEvent(f"source is not {SOURCE!r}")
    detail = event.get("detail")
    event_id = event.get("id")
    if not isinstance(detail, dict) or not isinstance(event_id, str):
        raise MalformedEvent("no 'id' string or no 'detail' object")
    arn = detail.get("pipelineExecutionArn")
    if not isinstance(arn, str):
        raise MalformedEvent("detail.pipelineExecutionArn is not a string")
    try:
        arn = str(parse_execution_arn(arn, name="detail.pipelineExecutionArn"))
    except ValueError as error:
        raise MalformedEvent(str(error)[:200]) from None
    status = detail.get("currentPipelineExecutionStatus")
    if event.get("detail-type") != EXECUTION_STATUS_CHANGE:
        return PipelineEvent(event_id, arn, None)
    if not isinstance(status, str):
        raise MalformedEvent("detail.currentPipelineExecutionStatus is not a string")
    try:
        return PipelineEvent(event_id, arn, ExecutionStatus(status))
    except ValueError:
        return PipelineEvent(event_id, arn, None)


class EventConsumer:
    """Receives one queue's events for as long as some wait or watcher of this process subscribes."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self.client = client
        self.queue_url = queue_url
        self.routes: dict[str, list[Wake]] = {}
        self.watchers: list[Watcher] = []
        #: Ends that woke a wait here, and messages refused as malformed (for tests and diagnostics).
        self.routed = 0
        self.malformed = 0
        self._task: asyncio.Task[None] | None = None

    @contextmanager
    def route(self, arn: str, wake: Wake) -> Iterator[None]:
        """Call ``wake()`` when an event says ``arn`` ended, while inside the block."""
        key = arn.lower()
        self.routes.setdefault(key, []).append(wake)
        self._ensure_running()
        try:
            yield
        finally:
            wakes = self.routes[key]
            wakes.remove(wake)
            if not wakes:
                del self.routes[key]
            if not self.in_use():
                self.close()

    @contextmanager
    def watch(self, watcher: Watcher) -> Iterator[None]:
        """Tell ``watcher`` of every end event this consumer receives, while inside the block.

        The consumer deletes every message it receives, so a watcher sees the events that reach
        this process only: give an asset watcher a queue of its own.
        """
        self.watchers.append(watcher)
        self._ensure_running()
        try:
            yield
        finally:
            self.watchers.remove(watcher)
            if not self.in_use():
                self.close()

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"events {self.queue_url}")

    def in_use(self) -> bool:
        return bool(self.routes or self.watchers)

    def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _run(self) -> None:
        backoff = PollState(self.queue_url, 1.0)
        while self.in_use():
            try:
                await self.receive_once()
            except Exception as error:
                try:
                    delay = backoff.error_delay(error)
                except Exception:
                    delay = UNREADABLE_RETRY_SECONDS
                    log.error(
                        "Cannot read events of %s (%s): retrying in %g s; the waits are polled meanwhile",
                        self.queue_url,
                        error,
                        delay,
                    )
                    self._wake_all()
                await asyncio.sleep(delay)
            else:
                backoff.next_delay()  # resets the error backoff

    async def receive_once(self, wait_seconds: int = LONG_POLL_SECONDS) -> int:
        """One long-polled receive; every message it got is handled, then deleted. Returns how many."""
        answer = await self.client.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
        )
        messages = answer.get("Messages", [])
        for message in messages:
            try:
                self._handle(message)
            except Exception:
                log.exception("Event %s of %s could not be handled", message.get("MessageId"), self.queue_url)
        if messages:
            entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)]
            deleted = await self.client.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            for failure in deleted.get("Failed", []):
                log.warning("Could not delete an event from %s: %s", self.queue_url, failure)
        return len(messages)

    def _handle(self, message: dict[str, Any]) -> None:
        """Wake the waits and tell the watchers of one message; whatever it holds, it is deleted."""
        message_id = message.get("MessageId", "?")
        try:
            event = parse_event(message.get("Body", ""))
        except MalformedEvent as reason:
            self.malformed += 1
            log.warning(
                "Deleting message %s of %s, not a pipeline event: %s", message_id, self.queue_url, reason
            )
            return
        if not event.is_end:
            return  # not an execution's end: no wait and no watcher needs it
        wakes = self.routes.get(event.execution_arn.lower(), [])
        if wakes:
            self.routed += 1
        for wake in list(wakes):
            wake()
        for watcher in list(self.watchers):
            watcher(event)

    def _wake_all(self) -> None:
        """Wake every routed wait (each then describes its execution): the events cannot tell."""
        for wakes in list(self.routes.values()):
            for wake in list(wakes):
                wake()
