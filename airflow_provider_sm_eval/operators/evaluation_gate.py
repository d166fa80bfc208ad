"""Quality gate on an evaluation's results: fail the task or skip downstream tasks when it does not pass.

``EvaluationGateOperator`` checks an ``EvaluationSummary`` (given, pulled from XCom, or read
from a finished execution) against rules that can be combined:

- ``thresholds``: absolute bounds on one model's metrics;
- ``min_delta_vs_base``: bounds on the custom-minus-base differences;
- ``min_win_rate``: the custom model's LLM-as-judge win rate over the base model;
- ``baseline_summary`` / ``baseline_execution_arn`` with ``max_regression``: how much worse than
  an earlier evaluation each metric may get.

Every rule is checked (a failing rule does not hide the others) and the gate report (each
check with its value, bound and outcome) goes to XCom under ``gate_report`` and, when the
gate passes, as the return value. A metric named by a rule but absent from the summary is an
error naming the metrics present. Rule inputs are validated when the operator is built (or,
when templated, once rendered) before anything is read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from airflow_provider_sm_eval.evaluation.arns import parse_execution_arn
from airflow_provider_sm_eval.evaluation.results.benchmark import is_standard_error
from airflow_provider_sm_eval.evaluation.results.summary import EvaluationSummary
from airflow_provider_sm_eval.evaluation.steps_table import format_table
from airflow_provider_sm_eval.hooks.evaluation_hook_mixin import AWS_TEMPLATE_FIELDS, EvaluationHookMixin
from airflow_provider_sm_eval.operators.start_evaluation import XCOM_RESULTS
from airflow_provider_sm_eval.version_compat import (
    AirflowException,
    AirflowFailException,
    BaseOperator,
    SkipMixin,
)

if TYPE_CHECKING:
    from airflow_provider_sm_eval.version_compat import Context

#: XCom key of the gate report (pushed whatever the outcome).
GATE_REPORT_XCOM_KEY = "gate_report"

OnFailure = Literal["fail", "skip"]
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
    def passed(self) -> bool:
        return self.bound.admits(self.value)

    def describe(self) -> str:
        verdict = "ok" if self.passed else "VIOLATED"
        reference = "" if self.reference is None else f" (baseline {self.reference:g})"
        required = f"required {self.bound.describe()}{reference}"
        return f"{self.rule} {self.subject} = {self.value:g}, {required}: {verdict}"

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "subject": self.subject,
            "value": self.value,
            "bound": self.bound.to_json(),
            "reference": self.reference,
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
        if model not in ("custom", "base"):
            raise ValueError(f"model must be 'custom' or 'base', got {model!r}")
        lower = _names(lower_is_better, "lower_is_better")
        return cls(
            thresholds={}
            if thresholds is None
            else _bound_mapping(thresholds, "thresholds", lower, negate_lower=False),
            delta_bounds=_delta_bounds(min_delta_vs_base, lower),
            min_win_rate=None
            if min_win_rate is None
            else _number(min_win_rate, "min_win_rate", low=0.0, high=1.0),
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
        for name, bound in self.thresholds.items():
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


class EvaluationGateOperator(EvaluationHookMixin, BaseOperator, SkipMixin):
    """Pass, fail or short-circuit on an evaluation's metrics.

    :param summary: the ``EvaluationSummary`` to check: a dict or its JSON, typically an
        XComArg of ``EvaluationResultsOperator`` or of ``StartEvaluationOperator`` (whose return
        value holds the summary under ``results``). Templated. Give this or ``execution_arn``.
    :param execution_arn: a finished execution whose results are read through
        ``SageMakerEvaluationHook``. Templated.
    :param thresholds: ``{metric: bound}`` on the ``model``'s metrics, where a bound is
        ``{"min": x}``, ``{"max": y}`` (lower is better), both, or a bare number (a minimum;
        a maximum for metrics in ``lower_is_better``). Templated.
    :param min_delta_vs_base: least custom-minus-base improvement: a number for every metric
        both models have, or ``{metric: bound}`` with bounds on the raw difference. For
        metrics in ``lower_is_better`` a bare number ``x`` means ``custom - base <= -x``.
        Templated.
    :param min_win_rate: least LLM-as-judge win rate of the custom model over the base model,
        in [0, 1]. Templated.
    :param baseline_summary: summary of an earlier evaluation to compare against (same forms
        as ``summary``). Templated.
    :param baseline_execution_arn: an earlier execution whose results are the baseline. Templated.
    :param max_regression: how far each metric of ``model`` may fall below the baseline (rise
        above it for ``lower_is_better`` metrics): a number for every metric both summaries
        have, or ``{metric: tolerance}`` for named ones. Defaults to 0 when a baseline is
        given. Templated.
    :param lower_is_better: names of metrics where a smaller value is better (e.g. a loss).
    :param model: whose metrics ``thresholds`` and ``max_regression`` apply to: ``"custom"``
        (default) or ``"base"``.
    :param on_failure: ``"fail"`` (default) fails the task with every violated rule in the
        message; ``"skip"`` succeeds but skips the downstream tasks, like ShortCircuitOperator.
    :param ignore_downstream_trigger_rules: with ``on_failure="skip"``, skip every downstream
        task (True, default) or only the direct ones and let trigger rules decide the rest.
    :param aws_conn_id: Airflow ``aws`` connection for reading results by ARN.
    :param region_name: AWS region overriding the connection's.
    :param verify: TLS verification of the endpoints.
    :param botocore_config: botocore ``Config`` arguments.
    """

    template_fields: Sequence[str] = (
        "summary",
        "execution_arn",
        "thresholds",
        "min_delta_vs_base",
        "min_win_rate",
        "baseline_summary",
        "baseline_execution_arn",
        "max_regression",
        *AWS_TEMPLATE_FIELDS,
    )
    ui_color = "#f4d6a0"
    inherits_from_skipmixin = True

    def __init__(
        self,
        *,
        summary: Any = None,
        execution_arn: str | None = None,
        thresholds: Mapping[str, Any] | None = None,
        min_delta_vs_base: float | Mapping[str, Any] | None = None,
        min_win_rate: float | None = None,
        baseline_summary: Any = None,
        baseline_execution_arn: str | None = None,
        max_regression: float | Mapping[str, float] | None = None,
        lower_is_better: Collection[str] = (),
        model: ModelRole = "custom",
        on_failure: OnFailure = "fail",
        ignore_downstream_trigger_rules: bool = True,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.summary = summary
        self.execution_arn = execution_arn
        self.thresholds = thresholds
        self.min_delta_vs_base = min_delta_vs_base
        self.min_win_rate = min_win_rate
        self.baseline_summary = baseline_summary
        self.baseline_execution_arn = baseline_execution_arn
        self.max_regression = max_regression
        self.lower_is_better = lower_is_better
        self.model = model
        self.on_failure = on_failure
        self.ignore_downstream_trigger_rules = ignore_downstream_trigger_rules
        self.set_connection_args(aws_conn_id, region_name, verify, botocore_config)
        if on_failure not in ("fail", "skip"):
            raise ValueError(f"on_failure must be 'fail' or 'skip', got {on_failure!r}")
        self._check_inputs(rendered=False)

    def _check_inputs(self, *, rendered: bool) -> GateRules | None:
        """Validate what is known: everything once rendered, only the literal inputs before."""
        _exactly_one(self.summary, self.execution_arn, "summary", "execution_arn", required=True)
        _exactly_one(
            self.baseline_summary,
            self.baseline_execution_arn,
            "baseline_summary",
            "baseline_execution_arn",
            required=False,
        )
        has_baseline = self.baseline_summary is not None or self.baseline_execution_arn is not None
        max_regression = self.max_regression
        if max_regression is not None and not has_baseline:
            if not rendered:
                raise ValueError("max_regression needs a baseline_summary or baseline_execution_arn")
            # A templated baseline that rendered to None: typically the first run, with no baseline yet.
            self.log.warning("No baseline to compare with: the max_regression rule is not applied.")
            max_regression = None
        rule_inputs = {
            "thresholds": self.thresholds,
            "min_delta_vs_base": self.min_delta_vs_base,
            "min_win_rate": self.min_win_rate,
            "max_regression": 0.0 if has_baseline and max_regression is None else max_regression,
        }
        rules = None
        if rendered or not any(_pending(value) for value in rule_inputs.values()):
            rules = GateRules.parse(**rule_inputs, lower_is_better=self.lower_is_better, model=self.model)
            if rules.is_empty:
                raise ValueError(
                    "the gate has no rule: give thresholds, min_delta_vs_base, min_win_rate "
                    "or a baseline (baseline_summary / baseline_execution_arn)"
                )
        for name in ("summary", "baseline_summary"):
            value = getattr(self, name)
            if value is not None and (rendered or not _pending(value)):
                parse_summary(value, name=name)
        for name in ("execution_arn", "baseline_execution_arn"):
            value = getattr(self, name)
            if value is not None and (rendered or not _pending(value)):
                parse_execution_arn(value, name=name)
        return rules

    def execute(self, context: Context) -> dict[str, Any]:
        """Check the rendered inputs, read the summaries, apply the rules, then pass, fail or skip.

        Bad input (including a rule naming a metric the summary lacks) fails the task without
        retries: trying again would not change the answer.
        """
        try:
            summary, baseline, checks = self._apply_rules()
        except ValueError as error:
            raise AirflowFailException(str(error)) from None
        report = gate_report(summary, baseline, checks)
        self.log.info(
            "Quality gate on %s:\n%s",
            summary.execution_arn,
            format_table(
                ("Rule", "Subject", "Value", "Bound", "Baseline", "Result"),
                [
                    (
                        c.rule,
                        c.subject,
                        f"{c.value:g}",
                        c.bound.describe(),
                        "" if c.reference is None else f"{c.reference:g}",
                        "ok" if c.passed else "VIOLATED",
                    )
                    for c in checks
                ],
            ),
        )
        ti = context["ti"]
        ti.xcom_push(key=GATE_REPORT_XCOM_KEY, value=report)
        if report["passed"]:
            self.log.info("Quality gate passed (%d checks).", len(checks))
            return report
        violations = "\n".join(f"  - {text}" for text in report["violations"])
        message = f"Quality gate failed for {summary.execution_arn}:\n{violations}"
        if self.on_failure == "fail":
            raise AirflowFailException(message)
        self.log.warning("%s\nSkipping downstream tasks.", message)
        downstream = (
            self.get_flat_relatives(upstream=False)
            if self.ignore_downstream_trigger_rules
            else self.get_direct_relatives(upstream=False)
        )
        self.skip(ti=ti, tasks=[task for task in downstream if not task.is_teardown])
        return report

    def _apply_rules(self) -> tuple[EvaluationSummary, EvaluationSummary | None, list[GateCheck]]:
        has_baseline = self.baseline_summary is not None or self.baseline_execution_arn is not None
        rules = self._check_inputs(rendered=True)
        assert rules is not None  # rendered inputs are always fully checked
        summary = self._load(self.summary, self.execution_arn, "summary")
        baseline = (
            self._load(self.baseline_summary, self.baseline_execution_arn, "baseline_summary")
            if has_baseline
            else None
        )
        return summary, baseline, rules.evaluate(summary, baseline)

    def _load(self, value: Any, execution_arn: str | None, name: str) -> EvaluationSummary:
        if value is not None:
            return parse_summary(value, name=name)
        assert execution_arn is not None  # _check_inputs requires one of the two
        from airflow_provider_sm_eval.evaluation.exceptions import ResultsNotAvailableError

        hook = self.hook
        try:
            return hook.get_summary(hook.get_execution(execution_arn))
        except ResultsNotAvailableError as error:
            raise AirflowException(str(error)) from error


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
    """An ``EvaluationSummary`` from itself, a dict, its JSON, or StartEvaluationOperator's return value."""
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
    if "metrics" not in value and XCOM_RESULTS in value:
        # StartEvaluationOperator's return value: the summary is under its "results" key.
        if value[XCOM_RESULTS] is None:
            raise ValueError(
                f"{name}[{XCOM_RESULTS!r}] is empty: the evaluation has no results "
                f"(status {value.get('status', 'unknown')}, or results were not read)"
            )
        return parse_summary(value[XCOM_RESULTS], name=f"{name}[{XCOM_RESULTS!r}]")
    try:
        return EvaluationSummary.model_validate(value)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc'])) or 'value'}: {error['msg']}" for error in exc.errors()
        )
        raise ValueError(f"{name} is not an evaluation summary ({problems})") from None


def _pending(value: Any) -> bool:
    """True for an input only known once rendered: a Jinja string or an XComArg."""
    from airflow_provider_sm_eval.version_compat import XComArg

    if isinstance(value, XComArg):
        return True
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, Mapping):
        return any(_pending(item) for item in value.values())
    return False


def _exactly_one(first: Any, second: Any, first_name: str, second_name: str, *, required: bool) -> None:
    if first is not None and second is not None:
        raise ValueError(f"give {first_name} or {second_name}, not both")
    if required and first is None and second is None:
        raise ValueError(f"give {first_name} or {second_name}")


def _number(value: Any, name: str, *, low: float | None = None, high: float | None = None) -> float:
    """A finite number (numeric strings from templates too) within [low, high]."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        span = f"[{low:g}, {high:g}]" if low is not None and high is not None else f">= {low:g}"
        raise ValueError(f"{name} must be {span}, got {value!r}")
    return float(value)


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
    if value is None:
        return None
    if isinstance(value, Mapping) or (isinstance(value, str) and value.lstrip().startswith("{")):
        return _bound_mapping(value, "min_delta_vs_base", lower_is_better, negate_lower=True)
    return Bound(min=_number(value, "min_delta_vs_base"))


def _tolerances(value: Any) -> Mapping[str, float] | float | None:
    if value is None:
        return None
    if isinstance(value, Mapping) or (isinstance(value, str) and value.lstrip().startswith("{")):
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
