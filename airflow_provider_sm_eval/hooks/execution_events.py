"""Event-driven completion: one SQS consumer per (event loop, connection, queue) wakes the waits.

SageMaker publishes "SageMaker Model Building Pipeline Execution Status Change" events to
EventBridge; a rule (:mod:`..evaluation.event_setup`) delivers them to an SQS queue. In each
triggerer process one :class:`EventConsumer` per queue long-polls it (10 messages per receive,
batched deletes) and wakes the pipeline watch holding a wait on the event's execution, which
then describes that execution at once. Events are only a hint: every wait keeps a slow safety
poll, so a late, lost or misrouted event costs latency, never correctness.

Several triggerers (Airflow's HA) compete for one queue, and SQS gives each message to one
receiver. A consumer deletes what it routed (a terminal status of an execution it waits on; a
wait on the same execution in another triggerer then ends by its safety poll) or what nobody
needs (statuses other than an execution's end, messages that are no pipeline status change).
The end of an execution it does not wait on is released: made visible again, for the other
triggerers' long polls, after ``RELEASE_SECONDS`` while the event is fresh and after a growing
fraction of its age later (see :func:`release_seconds`), until it is older than
``UNCLAIMED_TTL`` (the wait it was for may be gone; its safety poll covers it). A consumer that
released events pauses (longer than ``RELEASE_SECONDS``, jittered) before it receives again:
otherwise its next receive, started as it releases, is the first to see the event reappear,
and it takes the event back every time while the holder never gets it.

A queue that cannot be read (missing, access denied) does not end the consumer: it logs the
error, wakes every wait it routes (so they are polled meanwhile) and tries again every
``UNREADABLE_RETRY_SECONDS``, so an asset watcher on the queue resumes once the queue is fixed.
Do not give the queue a redrive policy with a small ``maxReceiveCount``: released events are
received several times on purpose.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from airflow_provider_sm_eval.evaluation.constants import TERMINAL_STATUSES, ExecutionStatus
from airflow_provider_sm_eval.evaluation.event_setup import EXECUTION_STATUS_CHANGE, SOURCE
from airflow_provider_sm_eval.evaluation.polling import PollState
from airflow_provider_sm_eval.hooks.shared_registry import SharedRegistry

log = logging.getLogger(__name__)

#: Long-poll wait of one ReceiveMessage (SQS's maximum).
LONG_POLL_SECONDS = 20
#: How long a released event stays invisible, so that other consumers receive it first.
RELEASE_SECONDS = 2
#: A released event stays invisible for this fraction of its age (at least ``RELEASE_SECONDS``).
RELEASE_AGE_FRACTION = 0.25
#: The longest a released event stays invisible.
MAX_RELEASE_SECONDS = 60
#: After releasing events a consumer pauses this many times ``RELEASE_SECONDS`` (jittered).
RELEASE_PAUSE_FACTOR = (1.5, 2.5)
#: An event that no wait claimed for this long is deleted (seconds since SQS received it).
UNCLAIMED_TTL = 300.0
#: Retry delay after an error that retrying soon would not fix (a missing queue, a denied action);
#: at each such error every routed wait is woken, so the waits are polled at this pace meanwhile.
UNREADABLE_RETRY_SECONDS = 60.0
#: Safety poll of a wait fed by events (the events do the prompt part).
SAFETY_POLL_INTERVAL = 600.0

Wake = Callable[[], object]
#: Told of every terminal status event once: ``(execution ARN, status, the event's detail)``.
Watcher = Callable[[str, ExecutionStatus, dict[str, Any]], object]


def parse_event(body: str) -> tuple[str, ExecutionStatus | None, dict[str, Any]] | None:
    """``(execution ARN, its new status or None, detail)`` of a pipeline event; None for anything else."""
    try:
        event = json.loads(body)
        detail = event["detail"]
        arn = detail["pipelineExecutionArn"]
    except (ValueError, TypeError, KeyError):
        return None
    if event.get("source") != SOURCE or not isinstance(arn, str):
        return None
    if event.get("detail-type") != EXECUTION_STATUS_CHANGE:
        return arn, None, detail
    try:
        return arn, ExecutionStatus(detail.get("currentPipelineExecutionStatus")), detail
    except ValueError:
        return arn, None, detail


class EventConsumer:
    """Receives one queue's events for as long as some wait of this process subscribes."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self.client = client
        self.queue_url = queue_url
        self.routes: dict[str, list[Wake]] = {}
        self.watchers: list[Watcher] = []
        self.routed = 0
        self.released = 0
        self._task: asyncio.Task[None] | None = None
        #: Message IDs already shown to the watchers (released events come back), with their time.
        self._watched: dict[str, float] = {}

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
        """Tell ``watcher`` of every execution that ends, once, while inside the block.

        Events stay on the queue for the waits that need them (they are released as usual),
        so an asset watcher and the waits of this process can share one queue; the waits of
        another triggerer delete their events where they receive them, unseen by this watcher.
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
        backoff = PollState(self.queue_url, RELEASE_SECONDS)
        while self.in_use():
            try:
                released = await self.receive_once()
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
                if released:
                    await asyncio.sleep(release_pause())

    async def receive_once(self, wait_seconds: int = LONG_POLL_SECONDS) -> int:
        """One long-polled receive, then the routing, deletes and releases of what it got.

        Returns how many events it released for other consumers.
        """
        answer = await self.client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["SentTimestamp"],
        )
        delete: list[dict[str, str]] = []
        release: list[dict[str, Any]] = []
        trace: list[str] = []
        now_ms = time.time() * 1000
        self._forget_watched(now_ms)
        for message in answer.get("Messages", []):
            handle = {"Id": str(len(delete) + len(release)), "ReceiptHandle": message["ReceiptHandle"]}
            parsed = parse_event(message.get("Body", ""))
            attributes = message.get("Attributes", {})
            sent_ms = float(attributes.get("SentTimestamp", now_ms))
            arn, status, detail = parsed or ("", None, {})
            if status is None or status not in TERMINAL_STATUSES:
                delete.append(handle)  # not an execution's end: no wait and no watcher needs it
                continue
            if self.watchers and message["MessageId"] not in self._watched:
                self._watched[message["MessageId"]] = sent_ms
                for watcher in list(self.watchers):
                    watcher(arn, status, detail)
            if arn.lower() in self.routes:
                self.routed += 1
                for wake in list(self.routes[arn.lower()]):
                    wake()
                delete.append(handle)
                trace.append(f"routed {arn}")
            elif now_ms - sent_ms > UNCLAIMED_TTL * 1000:
                delete.append(handle)
            else:
                self.released += 1
                visibility = release_seconds((now_ms - sent_ms) / 1000)
                release.append({**handle, "VisibilityTimeout": visibility})
                trace.append(f"released {arn} for {visibility} s")
        if delete:
            answer = await self.client.delete_message_batch(QueueUrl=self.queue_url, Entries=delete)
            trace += [f"delete failed: {failure}" for failure in answer.get("Failed", [])]
        if release:
            answer = await self.client.change_message_visibility_batch(
                QueueUrl=self.queue_url, Entries=release
            )
            trace += [f"release failed: {failure}" for failure in answer.get("Failed", [])]
        if trace:
            log.debug("Consumer %x of %s: %s", id(self), self.queue_url, "; ".join(trace))
        return len(release)

    def _wake_all(self) -> None:
        """Wake every routed wait (each then describes its execution): the events cannot tell."""
        for wakes in list(self.routes.values()):
            for wake in list(wakes):
                wake()

    def _forget_watched(self, now_ms: float) -> None:
        """Forget the watched messages that the consumers delete by now (older than the TTL)."""
        horizon = now_ms - 2 * UNCLAIMED_TTL * 1000
        for message_id in [m for m, sent in self._watched.items() if sent < horizon]:
            del self._watched[message_id]


def release_seconds(age: float) -> int:
    """How long an event ``age`` seconds old stays invisible once released.

    ``RELEASE_SECONDS`` while fresh, so its holder gets many draws in its first seconds (not a
    visibility doubled at each lost draw: with a few triggerers that left the holder waiting a
    minute), then a growing fraction of its age up to ``MAX_RELEASE_SECONDS``: an event nobody
    holds is received a few dozen times in its ``UNCLAIMED_TTL``, not every few seconds.
    """
    return int(min(MAX_RELEASE_SECONDS, max(RELEASE_SECONDS, RELEASE_AGE_FRACTION * age)))


def release_pause() -> float:
    """Seconds a consumer waits after releasing events, so that the consumers holding them get them."""
    low, high = RELEASE_PAUSE_FACTOR
    return RELEASE_SECONDS * random.uniform(low, high)


_consumers: SharedRegistry[EventConsumer] = SharedRegistry()


def event_consumer(
    client_key: Hashable, client: Any, queue_url: str
) -> AbstractContextManager[EventConsumer]:
    """The consumer of ``queue_url`` over the shared SQS client of ``client_key``, in this loop."""
    return _consumers.borrow((client_key, queue_url), lambda: EventConsumer(client, queue_url))


def consumer_count() -> int:
    """How many queue consumers are open (for tests and diagnostics)."""
    return len(_consumers)
