"""Triggerer-wide waits on executions: one poller per (shared client, pipeline), woken by events.

A triggerer holds many waits, and the executions of one eval type run on one pipeline. Instead
of one DescribePipelineExecution per wait and poll, a :class:`PipelineWatch` per pipeline asks
ListPipelineExecutions (newest first, pages of 100) once per cycle, which tells the status of
every recent execution at once:

- the listing starts at the oldest open wait's execution (``CreatedAfter``, from the start
  times the summaries and describes tell) and reads pages while some wait is not covered: up to
  one page per 100 open waits plus one, and one more per wait still missing whose start is
  known (a triggerer holding waits on every other of 1,000 executions reads 10 pages, not a
  describe per wait; a wait far behind the newest executions is described instead of listed up
  to). A wait not listed is described on its own, which tells its start;
- an execution is described, and its steps listed, only when its status became terminal (or
  when an event woke its wait, see :mod:`.events`), the ends of one cycle concurrently; status
  changes before that are logged from the summary, without a call;
- several waits on one ARN (a sensor and an operator, a retried trigger) share one future;
- the cycle runs every ``poll_interval`` of its most demanding wait, or up to three times per
  interval when as many waits share it and one page lists them (never more often than every
  5 s), jittered by the core's polling rules (:mod:`..evaluation.polling`), the first cycle
  spread over one interval, so waits restored after a restart do not poll in lockstep;
  transient errors back off apart.

A wait fed by events keeps its ``poll_interval``: an event only makes the watch describe the
execution sooner (see :mod:`.events`), so the end is known within the interval
whatever the queue holds and whichever triggerer receives the event.
If the connection may not call ListPipelineExecutions (AccessDenied and the like), the waits
fall back to polling their own execution with the core's loop.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from airflow_provider_sm_eval.evaluation.constants import (
    LIST_EXECUTIONS_PAGE_SIZE,
    TERMINAL_STATUSES,
    ExecutionStatus,
)
from airflow_provider_sm_eval.evaluation.exceptions import ACCESS_DENIED_CODES
from airflow_provider_sm_eval.evaluation.models import PipelineExecutionStatus
from airflow_provider_sm_eval.evaluation.polling import (
    PollState,
    StatusCallback,
    is_transient_aws_error,
    poll_until_terminal_async,
)


@dataclass
class _Wait:
    """Every user of one ARN in this watch: one result, several progress callbacks."""

    arn: str
    interval: float
    first_check_by: float
    done: asyncio.Future[PipelineExecutionStatus]
    callbacks: list[StatusCallback] = field(default_factory=list)
    users: int = 0
    known: ExecutionStatus | None = None
    #: When the execution was created or started (SageMaker's clock): bounds the listing.
    started: datetime | None = None


#: Most listing pages per ``poll_interval`` spent on listing more often: each listing serves every
#: wait of the pipeline, so with several waits and one page per listing the watch lists up to
#: three times per interval (no more listings than waits: fewer calls than a describe per wait),
#: and tells ends sooner and in smaller batches (a batch of ends is a batch of task resumes
#: queueing for worker slots). A listing of several pages (hundreds of waits) runs once.
PAGES_PER_INTERVAL = 3
#: Shortest time between two listings of one watch.
MIN_LISTING_SECONDS = 5.0

#: How far before an execution's ``StartTime`` the listing starts: ``CreatedAfter`` compares the
#: ``CreationTime``, which a start follows within seconds.
START_MARGIN = timedelta(minutes=15)


class FallBackToPolling(Exception):
    """The pipeline cannot be listed with these credentials: each wait polls its own execution."""


class PipelineWatch:
    """The waits on executions of one pipeline, over one shared client, in one event loop."""

    def __init__(self, client: Any, pipeline_arn: str) -> None:
        self.client = client
        self.pipeline_arn = pipeline_arn
        self.waits: dict[str, _Wait] = {}
        self.list_calls = 0
        self._pages = 1  # of the last listing
        self._woken: set[str] = set()
        self._sleeper: asyncio.Future[None] | None = None
        self._next_list = math.inf
        self._task: asyncio.Task[None] | None = None

    # Waits ---------------------------------------------------------------------------------------

    async def wait(
        self,
        arn: str,
        poll_interval: float,
        on_progress: StatusCallback | None = None,
    ) -> PipelineExecutionStatus:
        """The terminal status of ``arn``; raises what ended the wait (or FallBackToPolling)."""
        wait = self.waits.get(arn)
        loop = asyncio.get_running_loop()
        first = loop.time() + PollState(arn, poll_interval).first_delay()
        if wait is None:
            wait = self.waits[arn] = _Wait(arn, poll_interval, first, loop.create_future())
        wait.interval = min(wait.interval, poll_interval)
        wait.first_check_by = min(wait.first_check_by, first)
        wait.users += 1
        if on_progress is not None:
            wait.callbacks.append(on_progress)
        self._next_list = min(self._next_list, wait.first_check_by)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name=f"watch {self.pipeline_arn}")
        self._interrupt_sleep()
        try:
            return await asyncio.shield(wait.done)
        finally:
            wait.users -= 1
            if on_progress is not None:
                wait.callbacks.remove(on_progress)
            if wait.users == 0 and self.waits.get(arn) is wait:
                del self.waits[arn]

    def wake(self, arn: str) -> bool:
        """An event says ``arn`` changed: describe it now. False when no wait here holds it."""
        if arn not in self.waits:
            return False
        self._woken.add(arn)
        self._interrupt_sleep()
        return True

    # The loop -----------------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        backoff = PollState(self.pipeline_arn, self._interval())
        while self.waits:
            delay = self._next_list - loop.time()
            if delay > 0 and not self._woken:
                await self._sleep(delay)
                continue
            try:
                await self._cycle(listing=delay <= 0)
            except Exception as error:
                try:
                    self._next_list = loop.time() + backoff.error_delay(error)
                except Exception:
                    self._fail_all(FallBackToPolling(str(error)) if _denied(error) else error)
                    return
                continue
            if delay <= 0:
                backoff.poll_interval = self._interval()
                self._next_list = loop.time() + backoff.next_delay()

    async def _sleep(self, seconds: float) -> None:
        """Sleep ``seconds``, or less when a new wait or an event interrupts it."""
        loop = asyncio.get_running_loop()
        sleeper = self._sleeper = loop.create_future()
        timer = loop.call_later(seconds, _resolve, sleeper)
        try:
            await sleeper
        finally:
            timer.cancel()
            self._sleeper = None

    def _interrupt_sleep(self) -> None:
        if self._sleeper is not None:
            _resolve(self._sleeper)

    def _interval(self) -> float:
        return listing_interval([wait.interval for wait in self.waits.values()], self._pages)

    async def _cycle(self, *, listing: bool) -> None:
        due = set(self._woken)
        self._woken.clear()
        if listing:
            listed = await self._list_recent()
            for arn, wait in list(self.waits.items()):
                if wait.done.done():
                    continue
                summary = listed.get(arn)
                if summary is None:
                    due.add(arn)  # not listed (its start unknown, or beyond the window): describe it
                    continue
                wait.started = wait.started or summary.get("StartTime")
                status = ExecutionStatus(summary["PipelineExecutionStatus"])
                if status in TERMINAL_STATUSES:
                    due.add(arn)
                elif status is not wait.known:
                    wait.known = status
                    _report(wait, PipelineExecutionStatus.from_api(summary), summary)
        # The ends one cycle notices are settled together, over the client's connection pool: the
        # last end of a batch does not wait for a describe and a step listing of each end before it.
        ending = [end for arn in due if (end := self.waits.get(arn)) and not end.done.done()]
        outcomes = await asyncio.gather(*(self._settle(end) for end in ending), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome  # transient: the loop backs off, and the next listing finds the end again

    async def _list_recent(self) -> dict[str, dict[str, Any]]:
        """Summaries of the executions since the oldest open wait's, newest first, page by page
        until every open wait is covered.

        Pages are read while some wait is not covered, up to one per ``LIST_EXECUTIONS_PAGE_SIZE``
        open waits plus one, and beyond that one more per wait still missing whose start is known:
        never more pages than the describes they spare (a wait on a days-old execution of a busy
        pipeline is described, not listed up to). A wait not listed is described on its own.
        """
        pending = {arn: wait for arn, wait in self.waits.items() if not wait.done.done()}
        arguments: dict[str, Any] = {
            "PipelineName": self.pipeline_arn,
            "SortBy": "CreationTime",
            "SortOrder": "Descending",
            "MaxResults": LIST_EXECUTIONS_PAGE_SIZE,
        }
        starts = [wait.started for wait in pending.values() if wait.started is not None]
        if starts:
            arguments["CreatedAfter"] = min(starts) - START_MARGIN
        allowance = math.ceil(len(pending) / LIST_EXECUTIONS_PAGE_SIZE) + 1
        listed: dict[str, dict[str, Any]] = {}
        pages = 0
        while True:
            self.list_calls += 1
            pages += 1
            page = await self.client.list_pipeline_executions(**arguments)
            listed.update((s["PipelineExecutionArn"], s) for s in page.get("PipelineExecutionSummaries", []))
            missing = [wait for arn, wait in pending.items() if arn not in listed]
            known = sum(1 for wait in missing if wait.started is not None)
            if not page.get("NextToken") or not missing or pages >= allowance + known:
                self._pages = pages
                return listed
            arguments["NextToken"] = page["NextToken"]

    async def _settle(self, wait: _Wait) -> None:
        """Describe ``wait``'s execution; on a terminal status list its steps and end the wait."""
        try:
            described = await self.client.describe_pipeline_execution(PipelineExecutionArn=wait.arn)
            wait.started = wait.started or described.get("CreationTime")
            status = ExecutionStatus(described["PipelineExecutionStatus"])
            if status not in TERMINAL_STATUSES:
                if status is not wait.known:
                    wait.known = status
                    _report(wait, PipelineExecutionStatus.from_api(described), described)
                return
            entries = await list_steps(self.client, wait.arn)
        except Exception as error:
            if is_transient_aws_error(error):
                raise
            wait.done.set_exception(error)
            return
        final = PipelineExecutionStatus.from_api(described, entries)
        wait.known = final.overall_status
        _report(wait, final, described)
        wait.done.set_result(final)

    def in_use(self) -> bool:
        return bool(self.waits)

    def close(self) -> None:
        """Stop the poller (no wait is left)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def _fail_all(self, error: BaseException) -> None:
        for wait in self.waits.values():
            if not wait.done.done():
                wait.done.set_exception(error)


def listing_interval(poll_intervals: Collection[float], pages: int = 1) -> float:
    """Seconds between two listings of ``pages`` pages for waits of ``poll_intervals``: the most
    demanding one, split among as many listings as ``PAGES_PER_INTERVAL`` pays for (no more than
    the waits), never under ``MIN_LISTING_SECONDS`` (nor over the most demanding interval)."""
    interval = min(poll_intervals, default=60.0)
    listings = max(1, min(PAGES_PER_INTERVAL // max(1, pages), len(poll_intervals)))
    return min(interval, max(interval / listings, MIN_LISTING_SECONDS))


async def list_steps(client: Any, arn: str) -> list[dict[str, Any]]:
    """Every page of ListPipelineExecutionSteps, oldest step first, without blocking."""
    entries: list[dict[str, Any]] = []
    paginator = client.get_paginator("list_pipeline_execution_steps")
    async for page in paginator.paginate(PipelineExecutionArn=arn, SortOrder="Ascending"):
        entries.extend(page.get("PipelineExecutionSteps", []))
    return entries


async def poll_alone(
    client: Any, arn: str, poll_interval: float, on_progress: StatusCallback | None = None
) -> PipelineExecutionStatus:
    """Poll ``arn`` with the core's loop: the fallback of a wait whose pipeline cannot be listed."""
    return await poll_until_terminal_async(
        lambda: client.describe_pipeline_execution(PipelineExecutionArn=arn),
        lambda: list_steps(client, arn),
        PollState(arn, poll_interval),
        on_progress=on_progress,
    )


def _report(wait: _Wait, status: PipelineExecutionStatus, described: Any) -> None:
    for callback in list(wait.callbacks):
        callback(status, described)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _denied(error: BaseException) -> bool:
    code = str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
    return code in ACCESS_DENIED_CODES
