"""SageMaker's pipeline status-change events, published to EventBridge (moto) as SageMaker does.

SageMaker Pipelines sends every execution and step status change to the default event bus of the
execution's region, source ``aws.sagemaker``, with the detail-types and detail fields below
(SageMaker developer guide, "Automating SageMaker with Amazon EventBridge"). The emulator does the
same, so that EventBridge rules with SQS targets work locally. Events are handed to a background
publisher (a queue and one thread calling PutEvents in batches), so neither requests nor the
clock ever wait for EventBridge; the order of the changes is kept.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from sagemaker_eval_emulator.execution import Execution, StatusChange

log = logging.getLogger(__name__)

SOURCE = "aws.sagemaker"
EXECUTION_STATUS_CHANGE = "SageMaker Model Building Pipeline Execution Status Change"
STEP_STATUS_CHANGE = "SageMaker Model Building Pipeline Execution Step Status Change"
#: PutEvents takes at most 10 entries per call.
_BATCH = 10

#: Makes an EventBridge client for a region (the emulator's own, not counted in the call log).
EventsClientFactory = Callable[[str], Any]


def event_entry(execution: Execution, change: StatusChange) -> tuple[str, dict[str, Any]]:
    """``(region, PutEvents entry)`` for one status change, in SageMaker's event shape."""
    detail: dict[str, Any] = {
        "pipelineArn": execution.pipeline_arn,
        "pipelineExecutionArn": execution.arn,
    }
    step = change.step
    if step is None:
        detail_type = EXECUTION_STATUS_CHANGE
        detail.update(
            pipelineExecutionDisplayName=execution.display_name,
            currentPipelineExecutionStatus=change.current,
            executionStartTime=_iso(execution.created),
        )
        if change.previous is not None:
            detail["previousPipelineExecutionStatus"] = change.previous
        if execution.description is not None:
            detail["pipelineExecutionDescription"] = execution.description
        if execution.is_terminal:
            detail["executionEndTime"] = _iso(change.at)
    else:
        detail_type = STEP_STATUS_CHANGE
        detail.update(stepName=step.name, stepType=step.spec.type, currentStepStatus=change.current)
        if change.previous is not None:
            detail["previousStepStatus"] = change.previous
        if step.start_time is not None:
            detail["stepStartTime"] = _iso(step.start_time)
        if step.end_time is not None:
            detail["stepEndTime"] = _iso(step.end_time)
        if step.failure_reason is not None:
            detail["failureReason"] = step.failure_reason
        if step.job is not None:
            detail["metadata"] = {"trainingJob": {"arn": step.job.arn}}
    entry = {
        "Source": SOURCE,
        "DetailType": detail_type,
        "Detail": json.dumps(detail),
        "Resources": [execution.pipeline_arn, execution.arn],
        "Time": datetime.fromtimestamp(change.at, timezone.utc),
    }
    return execution.region, entry


class EventPublisher:
    """Publishes queued events to EventBridge from one background thread, in order."""

    def __init__(self, client_for_region: EventsClientFactory, *, enabled: bool = True) -> None:
        #: False: status changes are not published (saves the emulator's CPU in load tests).
        self.enabled = enabled
        self._client_for_region = client_for_region
        self._clients: dict[str, Any] = {}
        self._queue: queue.SimpleQueue[tuple[str, dict[str, Any]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition()
        self._pending = 0

    def publish(self, execution: Execution, change: StatusChange) -> None:
        """Queue the event of one status change (never blocks)."""
        if not self.enabled:
            return
        with self._idle:
            self._pending += 1
        self._queue.put(event_entry(execution, change))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sm-eval-emulator-events", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Publish what is queued, then stop the thread."""
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join()
        self._thread = None

    def discard(self) -> None:
        """Drop the events not published yet (the emulator was reset)."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is None:  # keep a pending stop request
                self._queue.put(None)
                return
            self._done(1)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every queued event was handed to EventBridge; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < _BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._send(batch)
                    return
                batch.append(more)
            self._send(batch)

    def _send(self, batch: list[tuple[str, dict[str, Any]]]) -> None:
        by_region: dict[str, list[dict[str, Any]]] = {}
        for region, entry in batch:
            by_region.setdefault(region, []).append(entry)
        for region, entries in by_region.items():
            try:
                client = self._clients.get(region)
                if client is None:
                    client = self._clients[region] = self._client_for_region(region)
                response = client.put_events(Entries=entries)
                if response.get("FailedEntryCount"):
                    log.warning("EventBridge refused %s status-change events", response["FailedEntryCount"])
            except Exception:  # events are best effort, as in AWS: a consumer keeps a fallback poll
                log.exception("emulator could not publish %d status-change events", len(entries))
        self._done(len(batch))

    def _done(self, count: int) -> None:
        with self._idle:
            self._pending -= count
            self._idle.notify_all()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
