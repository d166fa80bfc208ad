"""The metric rules of the quality gate: bounds, deltas vs base, win rates, regression vs a baseline.

Pure logic over :class:`EvaluationSummary` values (no Airflow, no AWS): the gate operator parses
its arguments with :meth:`GateRules.parse`, applies them with :meth:`GateRules.evaluate` and
reports with :func:`gate_report`. Every rule is checked (a failing rule does not hide the
others). A check passes only on a finite value: NaN or an infinity fails closed, whatever the
bound. A metric named by a rule but absent from the summary is a ValueError naming the metrics
present; a malformed rule input is a ValueError naming the input and what is wrong. Numbers are
what the results readers call numbers (:func:`is_number`): a boolean or a string never is, and
a rule's number must also be a finite float.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from airflow_provider_sm_eval.evaluation.results.benchmark import is_standard_error
from airflow_provider_sm_eval.evaluation.results.non_numeric import describe_value, finite_float, is_number
from airflow_provider_sm_eval.evaluation.results.summary import EvaluationSummary

ModelRole = Literal["custom", "base"]


@dataclass(frozen=True)
class Bound:
    """An inclusive range; either end may be open."""

    min: float | None = None
    max: float | None = None

    def admits(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def describe(self) -> str:
        if self.max is None:
            return f">= {self.min:g}"
        if self.min is None:
            return f"<= {self.max:g}"
        return f"in [{self.min:g}, {self.max:g}]"

    def to_json(self) -> dict[str, float]:
        return {key: value for key, value in (("min", self.min), ("max", self.max)) if value is not None}


@dataclass(frozen=True)
class GateCheck:
    """One rule applied to one value."""

    rule: str
    subject: str
    value: float
    bound: Bound
    reference: float | None = None

    @property
    def finite(self) -> bool:
        """Whether the value (and the baseline it is compared with) are finite numbers."""
        return math.isfinite(self.value) and (self.reference is None or math.isfinite(self.reference))

    @property
    def passed(self) -> bool:
        """Within the bound, and finite: NaN and infinities fail closed."""
        return self.finite and self.bound.admits(self.value)

    def describe(self) -> str:
        verdict = "ok" if self.passed else "VIOLATED" if self.finite else "VIOLATED (not a finite number)"
        reference = "" if self.reference is None else f" (baseline {self.reference:g})"
        required = f"required {self.bound.describe()}{reference}"
        return f"{self.rule} {self.subject} = {self.value:g}, {required}: {verdict}"

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "subject": self.subject,
            "value": _json_number(self.value),
            "bound": self.bound.to_json(),
            "reference": None if self.reference is None else _json_number(self.reference),
            "passed": self.passed,
        }


@dataclass(frozen=True)
class GateRules:
    """Validated rules of a gate; ``evaluate`` applies them to summaries."""

    thresholds: Mapping[str, Bound]
    delta_bounds: Mapping[str, Bound] | Bound | None
    min_win_rate: float | None
    regression_tolerance: Mapping[str, float] | float | None
    lower_is_better: frozenset[str]
    model: ModelRole

    @staticmethod
    def parse_model(model: Any) -> ModelRole:
        """``model`` checked: whose metrics thresholds and regressions apply to."""
        if model not in ("custom", "base"):
            raise ValueError(f"model must be 'custom' or 'base', got {model!r}")
        return model

    @staticmethod
    def parse_lower_is_better(value: Any) -> frozenset[str]:
        """``lower_is_better`` checked: names of metrics where a smaller value is better."""
        return _names(value, "lower_is_better")

    @classmethod
    def parse(
        cls,
        *,
        thresholds: Any = None,
        min_delta_vs_base: Any = None,
        min_win_rate: Any = None,
        max_regression: Any = None,
        lower_is_better: Any = (),
        model: Any = "custom",
    ) -> GateRules:
        """Check the raw rule inputs; a ValueError names the input and what is wrong with it."""
        model = cls.parse_model(model)
        lower = cls.parse_lower_is_better(lower_is_better)
        return cls(
            thresholds={}
            if thresholds is None
            else _bound_mapping(thresholds, "thresholds", lower, negate_lower=False),
            delta_bounds=_delta_bounds(min_delta_vs_base, lower),
            min_win_rate=None
            if min_win_rate is None
            else _number(_decoded(min_win_rate, "min_win_rate"), "min_win_rate", low=0.0, high=1.0),
            regression_tolerance=_tolerances(max_regression),
            lower_is_better=lower,
            model=model,
        )

    @property
    def is_empty(self) -> bool:
        return (
            not self.thresholds
            and self.delta_bounds is None
            and self.min_win_rate is None
            and self.regression_tolerance is None
        )

    def evaluate(self, summary: EvaluationSummary, baseline: EvaluationSummary | None) -> list[GateCheck]:
        """Apply every rule; raise ValueError when a rule names a value the summaries lack."""
        checks: list[GateCheck] = []
        metrics = _model_metrics(summary, self.model, "summary")
        not_numbers = summary.non_numeric_metrics.get(self.model, {})
        for name, bound in self.thresholds.items():
            if name in not_numbers:
                raise ValueError(
                    f"thresholds: metric {name!r} of the {self.model} model is not a number in the "
                    f"results ({not_numbers[name].type} {not_numbers[name].value})"
                )
            checks.append(GateCheck("threshold", f"{self.model} {name}", _metric(metrics, name), bound))
        checks += self._delta_checks(summary)
        if self.min_win_rate is not None:
            if summary.win_rates is None:
                raise ValueError(
                    f"min_win_rate needs LLM-as-judge win rates, but the summary of "
                    f"{summary.execution_arn} ({summary.eval_type.value}) has none"
                )
            checks.append(
                GateCheck(
                    "win_rate",
                    "custom vs base",
                    summary.win_rates.custom_win_rate,
                    Bound(min=self.min_win_rate),
                )
            )
        if self.regression_tolerance is not None:
            if baseline is None:
                raise ValueError("max_regression needs a baseline_summary or baseline_execution_arn")
            checks += self._regression_checks(
                self.regression_tolerance, metrics, _model_metrics(baseline, self.model, "baseline")
            )
        return checks

    def _delta_checks(self, summary: EvaluationSummary) -> list[GateCheck]:
        if self.delta_bounds is None:
            return []
        if isinstance(self.delta_bounds, Bound):
            if not summary.deltas:
                raise ValueError(
                    "min_delta_vs_base needs custom and base metrics, but the summary has deltas for none "
                    f"(models present: {_listing(summary.metrics)})"
                )
            return [
                GateCheck("delta_vs_base", name, value, self._directed(name, self.delta_bounds))
                for name, value in summary.deltas.items()
            ]
        return [
            GateCheck("delta_vs_base", name, _metric(summary.deltas, name, "deltas"), bound)
            for name, bound in self.delta_bounds.items()
        ]

    def _directed(self, name: str, improvement: Bound) -> Bound:
        """A bare minimum improvement, turned around for lower-is-better metrics."""
        if name in self.lower_is_better and improvement.min is not None:
            return Bound(max=-improvement.min)
        return improvement

    def _regression_checks(
        self,
        tolerance_rule: Mapping[str, float] | float,
        current: Mapping[str, float],
        baseline: Mapping[str, float],
    ) -> list[GateCheck]:
        if isinstance(tolerance_rule, Mapping):
            tolerances = dict(tolerance_rule)
            for name in tolerances:
                _metric(current, name)
                _metric(baseline, name, "baseline metrics")
        else:
            shared = sorted(name for name in current.keys() & baseline.keys() if not is_standard_error(name))
            if not shared:
                raise ValueError(
                    f"max_regression: the summary ({_listing(current)}) and the baseline "
                    f"({_listing(baseline)}) have no metric in common"
                )
            tolerances = dict.fromkeys(shared, tolerance_rule)
        checks = []
        for name, tolerance in tolerances.items():
            reference = baseline[name]
            # Rounded like the summary's deltas, so that "no worse than the baseline" holds at equality.
            bound = (
                Bound(max=round(reference + tolerance, 10))
                if name in self.lower_is_better
                else Bound(min=round(reference - tolerance, 10))
            )
            checks.append(GateCheck("regression", f"{self.model} {name}", current[name], bound, reference))
        return checks


def gate_report(
    summary: EvaluationSummary, baseline: EvaluationSummary | None, checks: Sequence[GateCheck]
) -> dict[str, Any]:
    """The JSON gate report: what was checked, the values, and whether the gate passed."""
    return {
        "passed": all(check.passed for check in checks),
        "execution_arn": summary.execution_arn,
        "eval_type": summary.eval_type.value,
        "baseline_execution_arn": None if baseline is None else baseline.execution_arn,
        "checks": [check.to_json() for check in checks],
        "violations": [check.describe() for check in checks if not check.passed],
    }


def parse_summary(value: Any, *, name: str = "summary") -> EvaluationSummary:
    """An ``EvaluationSummary`` from itself, a dict or its JSON; ValueError naming ``name`` otherwise."""
    if isinstance(value, EvaluationSummary):
        return value
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{name} is not valid JSON: {exc}") from None
    if not isinstance(value, Mapping):
        raise ValueError(
            f"{name} must be an EvaluationSummary, a dict or its JSON, got {type(value).__name__}"
        )
    try:
        return EvaluationSummary.model_validate(value)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc'])) or 'value'}: {error['msg']}" for error in exc.errors()
        )
        raise ValueError(f"{name} is not an evaluation summary ({problems})") from None


def _number(value: Any, name: str, *, low: float | None = None, high: float | None = None) -> float:
    """A finite float within [low, high]; a boolean, a string or a number beyond a float's range
    is refused (the results readers' rule of what a number is, :func:`is_number`)."""
    if not is_number(value):
        raise ValueError(f"{name} must be a number, got {describe_value(value)}")
    number = finite_float(value)
    if number is None:
        raise ValueError(f"{name} must be a finite number, got {describe_value(value)}")
    if (low is not None and number < low) or (high is not None and number > high):
        span = f"[{low:g}, {high:g}]" if low is not None and high is not None else f">= {low:g}"
        raise ValueError(f"{name} must be {span}, got {describe_value(value)}")
    return number


def _decoded(value: Any, name: str) -> Any:
    """A rendered template's text decoded as JSON (a number, or a dict of them); other values as given.

    Only the argument as a whole may be text: a string inside it is not a number.
    """
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise ValueError(f"{name} must be a number or a dict (or its JSON), got {value!r}") from None


def _mapping(value: Any, name: str) -> Mapping[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError(f"{name} must be a dict (or its JSON), got {value!r}") from None
    if not isinstance(value, Mapping) or not value:
        raise ValueError(f"{name} must be a non-empty dict of metric name to bound, got {value!r}")
    for key in value:
        if not isinstance(key, str) or not key:
            raise ValueError(f"{name}: metric names must be non-empty strings, got {key!r}")
    return value


def _bound(spec: Any, name: str, *, lower_is_better: bool, negate_lower: bool) -> Bound:
    """A bound from ``{"min": x}``, ``{"max": y}``, both, or a bare number."""
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"min", "max"}
        if unknown or not spec:
            raise ValueError(f"{name} must have 'min' and/or 'max', got keys {sorted(map(str, spec))}")
        low = None if spec.get("min") is None else _number(spec["min"], f"{name}['min']")
        high = None if spec.get("max") is None else _number(spec["max"], f"{name}['max']")
        if low is None and high is None:
            raise ValueError(f"{name} must set 'min' or 'max' to a number")
        if low is not None and high is not None and low > high:
            raise ValueError(f"{name}: min {low:g} is above max {high:g}")
        return Bound(low, high)
    number = _number(spec, name)
    if lower_is_better:
        return Bound(max=-number if negate_lower else number)
    return Bound(min=number)


def _bound_mapping(
    value: Any, name: str, lower_is_better: frozenset[str], *, negate_lower: bool
) -> dict[str, Bound]:
    return {
        metric: _bound(
            spec,
            f"{name}[{metric!r}]",
            lower_is_better=metric in lower_is_better,
            negate_lower=negate_lower,
        )
        for metric, spec in _mapping(value, name).items()
    }


def _delta_bounds(value: Any, lower_is_better: frozenset[str]) -> Mapping[str, Bound] | Bound | None:
    value = _decoded(value, "min_delta_vs_base")
    if value is None:
        return None
    if isinstance(value, Mapping):
        return _bound_mapping(value, "min_delta_vs_base", lower_is_better, negate_lower=True)
    return Bound(min=_number(value, "min_delta_vs_base"))


def _tolerances(value: Any) -> Mapping[str, float] | float | None:
    value = _decoded(value, "max_regression")
    if value is None:
        return None
    if isinstance(value, Mapping):
        return {
            metric: _number(tolerance, f"max_regression[{metric!r}]", low=0.0)
            for metric, tolerance in _mapping(value, "max_regression").items()
        }
    return _number(value, "max_regression", low=0.0)


def _names(value: Any, name: str) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Collection):
        raise ValueError(f"{name} must be a list of metric names, got {value!r}")
    if not all(isinstance(item, str) and item for item in value):
        raise ValueError(f"{name} must hold non-empty metric names, got {sorted(map(repr, value))}")
    return frozenset(value)


def _model_metrics(summary: EvaluationSummary, model: str, name: str) -> Mapping[str, float]:
    if model not in summary.metrics:
        raise ValueError(
            f"the {name} of {summary.execution_arn} has no {model} model metrics "
            f"(models present: {_listing(summary.metrics)})"
        )
    return summary.metrics[model]


def _metric(values: Mapping[str, float], metric: str, where: str = "metrics") -> float:
    if metric not in values:
        raise ValueError(f"metric {metric!r} is not in the {where}; present: {_listing(values)}")
    return values[metric]


def _listing(names: Collection[str]) -> str:
    return ", ".join(sorted(names)) or "none"


def _json_number(value: float) -> float | str:
    """``value`` as JSON can hold it: NaN and infinities as their names (strict JSON has no such numbers)."""
    return value if math.isfinite(value) else str(value)
