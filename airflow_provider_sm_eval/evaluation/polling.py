"""One polling loop for every wait on an execution: the blocking wait and the trigger alike.

The loop is written once, without I/O, as a generator that asks its driver for what to do next
(:class:`Sleep`, :data:`DESCRIBE`, :data:`LIST_STEPS`); :func:`poll_until_terminal` drives it with
blocking calls, :func:`poll_until_terminal_async` with awaited ones. The loop decides:

- the interval: every ``poll_interval`` seconds, jittered down by up to ``JITTER`` so waits drift
  apart and never poll later than the interval the user set (no backoff while nothing changes);
  the first poll of a trigger is spread over one interval, so that waits restored after a
  triggerer restart do not poll in lockstep;
- what is progress: the execution's status or ``LastModifiedTime`` changed. Each poll is one
  DescribePipelineExecution; the steps (ListPipelineExecutionSteps, every page) are listed only
  on progress, at the end, and every ``STEPS_EVERY_POLLS``-th poll: the API documents
  ``LastModifiedTime`` as "the time the pipeline execution was modified last" without promising
  that a step's change moves it, so a periodic listing keeps the step table from going stale;
- what is transient (:func:`is_transient_aws_error`): waited out with its own capped,
  jittered exponential backoff; anything else ends the wait with the error.

The poll-argument validators used by the core, the operators, the sensor and the trigger are
here too. No Airflow import; botocore is imported only when an error is classified.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_sm_eval.evaluation.constants import TERMINAL_STATUSES, ExecutionStatus
from airflow_provider_sm_eval.evaluation.models import PipelineExecutionStatus

log = logging.getLogger(__name__)

#: Largest share of the interval a sleep is shortened by, so waits do not poll in lockstep.
JITTER = 0.1
#: Steps are listed at least every this many polls, even when nothing seems to change.
STEPS_EVERY_POLLS = 10
#: Longest wait after transient errors (the backoff starts at the poll interval and doubles).
TRANSIENT_BACKOFF_CAP = 300.0

#: Error codes AWS services answer when a caller should slow down or try again later.
TRANSIENT_ERROR_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


def validate_poll_interval(value: object, *, name: str = "poll_interval") -> float:
    """``value`` as seconds between polls: a finite number above zero, else ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise ValueError(f"{name} must be a positive, finite number of seconds, got {value!r}")
    return float(value)


def validate_timeout(value: object, *, name: str = "timeout") -> float | None:
    """``value`` as a timeout: None (no timeout) or a finite number of seconds >= 0, else ValueError."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise ValueError(f"{name} must be None or a finite number of seconds >= 0, got {value!r}")
    return float(value)


def is_transient_aws_error(error: BaseException) -> bool:
    """True for throttling, HTTP 5xx answers, timeouts and connection failures, also when wrapped.

    Follows ``__cause__``, so the core's ``EvaluationAWSError`` raised from botocore's
    ``ClientError`` is classified by the original.
    """
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotocoreConnectionError

    current: BaseException | None = error
    while current is not None:
        if isinstance(current, ClientError):
            code = str(current.response.get("Error", {}).get("Code", ""))
            http_status = current.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
            return code in TRANSIENT_ERROR_CODES or int(http_status) >= 500
        if isinstance(
            current,
            HTTPClientError | BotocoreConnectionError | ConnectionError | TimeoutError | asyncio.TimeoutError,
        ):
            return True
        current = current.__cause__
    return False


@dataclass(frozen=True)
class Sleep:
    """The loop asks its driver to sleep this many seconds."""

    seconds: float


#: The loop asks for DescribePipelineExecution's response.
DESCRIBE = "DescribePipelineExecution"
#: The loop asks for every ListPipelineExecutionSteps entry, in ascending order.
LIST_STEPS = "ListPipelineExecutionSteps"

Request = Sleep | str
StatusCallback = Callable[[PipelineExecutionStatus, Mapping[str, Any]], None]
Loop = Generator[Request, Any, PipelineExecutionStatus]


class PollState:
    """What one wait has seen, and how long it sleeps next. No I/O."""

    __slots__ = ("_errors", "_polls_since_steps", "_rng", "_seen", "arn", "poll_interval", "status")

    def __init__(
        self,
        arn: str,
        poll_interval: float,
        status: PipelineExecutionStatus | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.arn = arn
        self.poll_interval = validate_poll_interval(poll_interval)
        self.status = status
        self._rng = rng or _RNG
        self._seen: tuple[object, object] | None = None
        self._polls_since_steps = 0
        self._errors = 0

    def first_delay(self) -> float:
        """A random point of the first interval: restored waits spread out instead of polling together."""
        return self._rng.uniform(0, self.poll_interval)

    def next_delay(self) -> float:
        """The interval after a poll, shortened by up to ``JITTER`` of itself (never longer)."""
        self._errors = 0
        return self.poll_interval * (1 - JITTER * self._rng.random())

    def error_delay(self, error: BaseException) -> float:
        """The backoff after a transient ``error`` (capped, jittered); any other error is raised."""
        if not is_transient_aws_error(error):
            raise error
        cap = max(self.poll_interval, TRANSIENT_BACKOFF_CAP)
        delay = min(cap, self.poll_interval * 2 ** min(self._errors, 32)) * self._rng.uniform(0.5, 1)
        self._errors += 1
        log.warning("Polling evaluation execution %s failed (%s); retrying in %.1f s", self.arn, error, delay)
        return delay

    def needs_steps(self, described: Mapping[str, Any]) -> bool:
        """Whether this poll lists the steps: on progress, at the end, or when they are due."""
        seen = (described.get("PipelineExecutionStatus"), described.get("LastModifiedTime"))
        self._polls_since_steps += 1
        if seen != self._seen or self._polls_since_steps >= STEPS_EVERY_POLLS:
            self._seen = seen
            return True
        return ExecutionStatus(described["PipelineExecutionStatus"]) in TERMINAL_STATUSES

    def record(self, described: Mapping[str, Any], step_entries: Sequence[Mapping[str, Any]]) -> bool:
        """Take a fresh status; True when the overall status or a step's status changed."""
        self._polls_since_steps = 0
        status = PipelineExecutionStatus.from_api(described, step_entries)
        changed = self.status is None or _progress(status) != _progress(self.status)
        self.status = status
        return changed


def polling_loop(state: PollState, *, spread_first_poll: bool, on_progress: StatusCallback | None) -> Loop:
    """The loop both drivers run; returns the first terminal status."""
    delay = state.first_delay() if spread_first_poll else 0.0
    while True:
        yield Sleep(delay)
        try:
            described = yield DESCRIBE
            if state.needs_steps(described):
                entries = yield LIST_STEPS
                if state.record(described, entries) and on_progress is not None:
                    assert state.status is not None
                    on_progress(state.status, described)
        except Exception as error:  # transient ones are waited out, the others raised by error_delay
            delay = state.error_delay(error)
            continue
        assert state.status is not None
        if state.status.is_terminal:
            return state.status
        delay = state.next_delay()


def poll_until_terminal(
    describe: Callable[[], Mapping[str, Any]],
    list_steps: Callable[[], Sequence[Mapping[str, Any]]],
    state: PollState,
    *,
    timeout: float | None = None,
    on_progress: StatusCallback | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PipelineExecutionStatus | None:
    """Blocking driver: the terminal status, or the last status seen once ``timeout`` ran out.

    The first poll is immediate; a timeout of 0 still polls once.
    """
    limit = validate_timeout(timeout)
    deadline = None if limit is None else time.monotonic() + limit
    loop = polling_loop(state, spread_first_poll=False, on_progress=on_progress)
    request = next(loop)
    polled = False
    while True:
        try:
            if isinstance(request, Sleep):
                seconds = request.seconds
                if polled and deadline is not None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return state.status
                    seconds = min(seconds, remaining)
                if seconds > 0:
                    sleep(seconds)
                polled = True
                request = loop.send(None)
            else:
                try:
                    result = describe() if request == DESCRIBE else list_steps()
                except Exception as error:
                    request = loop.throw(error)
                else:
                    request = loop.send(result)
        except StopIteration as stop:
            return stop.value


async def poll_until_terminal_async(
    describe: Callable[[], Awaitable[Mapping[str, Any]]],
    list_steps: Callable[[], Awaitable[Sequence[Mapping[str, Any]]]],
    state: PollState,
    *,
    on_progress: StatusCallback | None = None,
    spread_first_poll: bool = True,
) -> PipelineExecutionStatus:
    """Awaiting driver (triggers): the terminal status; never blocks the event loop."""
    loop = polling_loop(state, spread_first_poll=spread_first_poll, on_progress=on_progress)
    request = next(loop)
    while True:
        try:
            if isinstance(request, Sleep):
                await asyncio.sleep(request.seconds)
                request = loop.send(None)
            else:
                try:
                    result = await (describe() if request == DESCRIBE else list_steps())
                except Exception as error:
                    request = loop.throw(error)
                else:
                    request = loop.send(result)
        except StopIteration as stop:
            return stop.value


def _progress(status: PipelineExecutionStatus) -> tuple[object, ...]:
    """What a wait reports a change of: the overall status and each step's status."""
    return (status.overall_status, *((step.name, step.status) for step in status.step_details))


_RNG = random.Random()
