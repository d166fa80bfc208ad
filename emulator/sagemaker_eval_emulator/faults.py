"""Fault injection: failing steps, throttling and delaying API calls.

One ``FaultController`` per emulator, shared by the HTTP control endpoint and the in-process
API. Throttling by share is deterministic (every ``1/share``-th call), not random, so that
tests see the same pattern on every run.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StepFault:
    """Fail ``step_name`` (of ``pipeline_name`` when set) with ``reason``.

    ``times`` limits how many step runs fail (None: all). With ``continue_on_failure`` the
    execution goes on with the steps that do not depend on the failed one and ends
    ``CompletedWithFailures`` instead of ``Failed``.
    """

    step_name: str
    reason: str
    pipeline_name: str | None = None
    times: int | None = None
    continue_on_failure: bool = False

    def matches(self, pipeline_name: str, step_name: str) -> bool:
        return step_name == self.step_name and (
            self.pipeline_name is None or self.pipeline_name.lower() == pipeline_name.lower()
        )


@dataclass
class _Throttle:
    share: float | None
    above_per_second: int | None
    operations: frozenset[str] | None
    calls: int = 0
    recent: deque[float] = field(default_factory=deque)


@dataclass
class CallFault:
    """Answer calls of ``operation`` with the error ``code`` (HTTP 400), ``times`` times (None: always)."""

    operation: str
    code: str
    message: str
    times: int | None = None


@dataclass
class _Delay:
    seconds: float
    operations: frozenset[str] | None


class FaultController:
    """Thread-safe set of active faults."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._step_faults: list[StepFault] = []
        self._call_faults: list[CallFault] = []
        self._throttles: list[_Throttle] = []
        self._delays: list[_Delay] = []

    def fail_step(
        self,
        step_name: str,
        reason: str,
        pipeline_name: str | None = None,
        *,
        times: int | None = None,
        continue_on_failure: bool = False,
    ) -> None:
        """Make runs of ``step_name`` fail with ``reason`` instead of succeeding."""
        if not isinstance(step_name, str) or not step_name:
            raise ValueError("fail_step: step_name must be a non-empty string")
        if not isinstance(reason, str) or not reason:
            raise ValueError("fail_step: reason must be a non-empty string")
        if times is not None and (not isinstance(times, int) or times < 1):
            raise ValueError(f"fail_step: times must be a positive integer or None, got {times!r}")
        with self._lock:
            self._step_faults.append(
                StepFault(step_name, reason, pipeline_name, times, bool(continue_on_failure))
            )

    def fail_call(
        self, operation: str, code: str, message: str = "Injected fault", *, times: int | None = 1
    ) -> None:
        """Answer the next ``times`` calls (None: all) of ``operation`` with error ``code``.

        For example ``fail_call("StartPipelineExecution", "ResourceLimitExceeded")``.
        """
        if not isinstance(operation, str) or not operation:
            raise ValueError(
                "fail_call: operation must be a non-empty string such as 'StartPipelineExecution'"
            )
        if not isinstance(code, str) or not code:
            raise ValueError("fail_call: code must be a non-empty error code such as 'ResourceLimitExceeded'")
        if times is not None and (not isinstance(times, int) or times < 1):
            raise ValueError(f"fail_call: times must be a positive integer or None, got {times!r}")
        with self._lock:
            self._call_faults.append(CallFault(operation, code, str(message), times))

    def throttle(
        self,
        share: float | None = None,
        above_per_second: int | None = None,
        operations: Iterable[str] | None = None,
    ) -> None:
        """Answer ThrottlingException to a share of calls, or to calls above a rate.

        ``share`` in (0, 1]: that fraction of the matching calls, evenly spread (1.0: all).
        ``above_per_second``: every call beyond N within the last second.
        ``operations``: API operation names (e.g. ``DescribePipelineExecution``); None: all.
        """
        if (share is None) == (above_per_second is None):
            raise ValueError("throttle: give exactly one of share or above_per_second")
        if share is not None and not (isinstance(share, int | float) and 0 < share <= 1):
            raise ValueError(f"throttle: share must be in (0, 1], got {share!r}")
        if above_per_second is not None and (not isinstance(above_per_second, int) or above_per_second < 0):
            raise ValueError(
                f"throttle: above_per_second must be a non-negative integer, got {above_per_second!r}"
            )
        with self._lock:
            self._throttles.append(
                _Throttle(
                    None if share is None else float(share), above_per_second, _operation_set(operations)
                )
            )

    def delay(self, seconds: float, operations: Iterable[str] | None = None) -> None:
        """Hold responses to the matching operations (None: all) for ``seconds``."""
        if not isinstance(seconds, int | float) or seconds < 0:
            raise ValueError(f"delay: seconds must be a non-negative number, got {seconds!r}")
        with self._lock:
            self._delays.append(_Delay(float(seconds), _operation_set(operations)))

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._step_faults.clear()
            self._call_faults.clear()
            self._throttles.clear()
            self._delays.clear()

    def describe(self) -> dict[str, Any]:
        """The active faults, JSON-serializable."""
        with self._lock:
            return {
                "step_failures": [vars(f).copy() for f in self._step_faults],
                "call_failures": [vars(f).copy() for f in self._call_faults],
                "throttles": [
                    {
                        "share": t.share,
                        "above_per_second": t.above_per_second,
                        "operations": sorted(t.operations) if t.operations else None,
                    }
                    for t in self._throttles
                ],
                "delays": [
                    {"seconds": d.seconds, "operations": sorted(d.operations) if d.operations else None}
                    for d in self._delays
                ],
            }

    def take_step_failure(self, pipeline_name: str, step_name: str) -> StepFault | None:
        """The fault that fails this step run, if any; counts the run against ``times``."""
        with self._lock:
            for fault in self._step_faults:
                if fault.matches(pipeline_name, step_name):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times == 0:
                            self._step_faults.remove(fault)
                    return fault
            return None

    def take_call_failure(self, operation: str) -> CallFault | None:
        """The injected error for this call of ``operation``, if any; counts it against ``times``."""
        with self._lock:
            for fault in self._call_faults:
                if fault.operation == operation:
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times == 0:
                            self._call_faults.remove(fault)
                    return fault
            return None

    def should_throttle(self, operation: str) -> bool:
        """Record one call of ``operation`` and say whether it is throttled."""
        now = self._clock()
        throttled = False
        with self._lock:
            for rule in self._throttles:
                if rule.operations is not None and operation not in rule.operations:
                    continue
                if rule.share is not None:
                    before = int(rule.calls * rule.share)
                    rule.calls += 1
                    throttled = throttled or int(rule.calls * rule.share) > before
                elif rule.above_per_second is not None:
                    while rule.recent and now - rule.recent[0] >= 1.0:
                        rule.recent.popleft()
                    if len(rule.recent) >= rule.above_per_second:
                        throttled = True
                    else:
                        rule.recent.append(now)
        return throttled

    def delay_for(self, operation: str) -> float:
        """Seconds to hold a response to ``operation``."""
        with self._lock:
            return sum(d.seconds for d in self._delays if d.operations is None or operation in d.operations)


def _operation_set(operations: Iterable[str] | None) -> frozenset[str] | None:
    if operations is None:
        return None
    if isinstance(operations, str):
        return frozenset({operations})
    return frozenset(operations)
