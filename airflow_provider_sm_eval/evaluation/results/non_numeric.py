"""Metrics whose value is not a number: kept, logged and reported, never dropped silently.

They take no part in deltas, win rates or gates; the summary and the rendering list them with
their JSON type and raw value (cut to :data:`MAX_RAW_CHARS`). :func:`is_number` is the one rule
of what counts as a number, for the result readers, the summary and the gate alike.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

#: Characters of a non-numeric value's JSON text that are kept.
MAX_RAW_CHARS = 200
#: JSON type names of the values a metric may hold instead of a number (anything else is null).
_JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (str, "string"),
    (dict, "object"),
    (list, "array"),
)


def is_number(value: Any) -> bool:
    """Whether ``value`` is a number: an int or a float, never a boolean nor a numeric string."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def finite_float(value: Any) -> float | None:
    """A number as a finite float; None for NaN, an infinity or an int too large for a float."""
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def describe_value(value: Any) -> str:
    """``value`` as its (cut) JSON text and JSON type, for messages: ``true (boolean)``."""
    metric = NonNumericMetric.of("", value)
    return f"{metric.raw} ({'number' if is_number(value) else metric.json_type})"


@dataclass(frozen=True)
class NonNumericMetric:
    """A metric of a result file whose value is not a number: its JSON type and raw JSON text."""

    name: str
    json_type: str
    raw: str

    @classmethod
    def of(cls, name: str, value: Any) -> NonNumericMetric:
        json_type = next((label for kind, label in _JSON_TYPES if isinstance(value, kind)), "null")
        raw = json.dumps(value, default=str)
        if len(raw) > MAX_RAW_CHARS:
            raw = raw[: MAX_RAW_CHARS - 3] + "..."
        return cls(name, json_type, raw)

    def describe(self) -> str:
        return f"{self.name} = {self.raw} ({self.json_type})"


def warn_non_numeric(uri: str, metrics: Iterable[NonNumericMetric]) -> None:
    """Log a warning naming the file and each metric that is not a number."""
    described = [metric.describe() for metric in metrics]
    if described:
        log.warning(
            "Result file %s: %d metric(s) not numeric, left out of deltas and comparisons: %s",
            uri,
            len(described),
            "; ".join(described),
        )


def render_non_numeric(models: Mapping[str, Iterable[NonNumericMetric]]) -> list[str]:
    """Text lines listing each model's non-numeric metrics; none when every metric is a number."""
    lines = [f"  {role} model: {metric.describe()}" for role, metrics in models.items() for metric in metrics]
    return ["", "Metrics that are not numbers (not compared)", *lines] if lines else []
