"""The emulator's call log: how many times each AWS operation was called, per service.

Every AWS request the emulator receives is counted (SageMaker calls it serves itself, and the S3,
STS, IAM, EventBridge, SQS ... calls it passes to moto), faulted and failed calls included, so
that tests can derive the IAM actions a workload needs and benchmarks can count API calls.
Requests the emulator makes to itself (writing result files, publishing events) are not counted.
Read it in-process (``EvaluationEmulator.calls``) or over ``GET /_emulator/calls``.
"""

from __future__ import annotations

import threading
from collections import Counter


class CallLog:
    """Thread-safe counts of ``(service, operation)`` calls; ``service`` is the signing name (``s3``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def record(self, service: str, operation: str) -> None:
        with self._lock:
            self._counts[(service, operation)] += 1

    def count(self, service: str, operation: str) -> int:
        """Calls of one operation, e.g. ``count("sagemaker", "DescribePipelineExecution")``."""
        with self._lock:
            return self._counts[(service, operation)]

    def counts(self) -> dict[str, dict[str, int]]:
        """``{service: {operation: calls}}``, sorted by service and operation."""
        with self._lock:
            items = sorted(self._counts.items())
        result: dict[str, dict[str, int]] = {}
        for (service, operation), calls in items:
            result.setdefault(service, {})[operation] = calls
        return result

    def actions(self) -> list[str]:
        """Every operation called at least once, as sorted ``service:Operation`` strings."""
        with self._lock:
            return sorted(f"{service}:{operation}" for service, operation in self._counts)

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    def describe(self) -> dict[str, object]:
        """The log as JSON: ``{"calls": {service: {operation: n}}, "total": n}``."""
        counts = self.counts()
        return {"calls": counts, "total": sum(n for ops in counts.values() for n in ops.values())}
