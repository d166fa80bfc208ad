"""The gate's metric rules, without Airflow: parsing rule inputs, checks, the report, summaries."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pytest

from airflow_provider_sm_eval.evaluation.gate import Bound, GateRules, gate_report, parse_summary
from airflow_provider_sm_eval.evaluation.results.summary import EvaluationSummary, NonNumericValue

ARN = (
    "arn:aws:sagemaker:us-east-1:123456789012:pipeline/sagemakerevaluation-benchmarkevaluation-1/execution/a"
)


def summary(
    custom: dict[str, float], base: dict[str, float] | None = None, arn: str = ARN
) -> EvaluationSummary:
    base = base or {}
    return EvaluationSummary(
        eval_type="benchmark",
        execution_arn=arn,
        metrics={"custom": custom, **({"base": base} if base else {})},
        deltas={k: round(custom[k] - base[k], 10) for k in sorted(custom.keys() & base.keys())},
    )


def test_the_rule_engine_imports_no_airflow() -> None:
    code = (
        "import sys, airflow_provider_sm_eval.evaluation.gate\n"
        "print(sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"thresholds": {"acc": "high"}}, "thresholds['acc'] must be a number"),
        ({"thresholds": {"acc": float("inf")}}, "thresholds['acc'] must be a finite number"),
        ({"thresholds": {"acc": {"min": 0.9, "max": 0.1}}}, "min 0.9 is above max 0.1"),
        ({"min_delta_vs_base": "lots"}, "min_delta_vs_base must be a number"),
        ({"min_win_rate": 1.5}, "min_win_rate must be [0, 1]"),
        ({"max_regression": -0.1}, "max_regression must be >= 0"),
        ({"thresholds": {"acc": 1}, "model": "judge"}, "model must be 'custom' or 'base'"),
        ({"thresholds": {"acc": 1}, "lower_is_better": "loss"}, "lower_is_better must be a list"),
    ],
)
def test_bad_rule_inputs_name_the_input(inputs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        GateRules.parse(**inputs)


def test_rendered_json_is_parsed() -> None:
    rules = GateRules.parse(
        thresholds=json.dumps({"acc": 0.5}), min_delta_vs_base="0.1", min_win_rate="0.5", max_regression="0"
    )

    assert rules.thresholds == {"acc": Bound(min=0.5)}
    assert rules.delta_bounds == Bound(min=0.1)
    assert rules.min_win_rate == 0.5
    assert rules.regression_tolerance == 0.0


@pytest.mark.hostile("gate")
@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"thresholds": {"acc": 10**400}}, "thresholds['acc'] must be a finite number, got 1000"),
        ({"thresholds": {"acc": {"min": -(10**400)}}}, "thresholds['acc']['min'] must be a finite number"),
        ({"thresholds": '{"acc": 1' + "0" * 400 + "}"}, "thresholds['acc'] must be a finite number"),
        ({"thresholds": {"acc": float("nan")}}, "thresholds['acc'] must be a finite number, got NaN"),
        ({"thresholds": {"acc": True}}, "thresholds['acc'] must be a number, got true (boolean)"),
        ({"thresholds": {"acc": "0.5"}}, "thresholds['acc'] must be a number, got \"0.5\" (string)"),
        ({"thresholds": json.dumps({"acc": "0.5"})}, "thresholds['acc'] must be a number, got \"0.5\""),
        ({"min_delta_vs_base": 10**400}, "min_delta_vs_base must be a finite number"),
        ({"min_delta_vs_base": "Infinity"}, "min_delta_vs_base must be a finite number, got Infinity"),
        ({"min_delta_vs_base": False}, "min_delta_vs_base must be a number, got false (boolean)"),
        ({"min_delta_vs_base": {"acc": "0.1"}}, "min_delta_vs_base['acc'] must be a number"),
        ({"min_win_rate": True}, "min_win_rate must be a number, got true (boolean)"),
        ({"min_win_rate": '"0.5"'}, 'min_win_rate must be a number, got "0.5" (string)'),
        ({"max_regression": 10**400}, "max_regression must be a finite number"),
        ({"max_regression": float("inf")}, "max_regression must be a finite number, got Infinity"),
        ({"max_regression": "NaN"}, "max_regression must be a finite number, got NaN"),
        ({"max_regression": {"acc": True}}, "max_regression['acc'] must be a number, got true (boolean)"),
        ({"max_regression": "inf"}, "max_regression must be a number or a dict (or its JSON), got 'inf'"),
    ],
)
def test_a_rule_value_that_is_not_a_finite_float_is_refused_naming_rule_and_value(
    inputs: dict[str, Any], message: str
) -> None:
    """Hostile tester: 10**400 ended in a bare OverflowError; True and "0.99" passed as numbers."""
    with pytest.raises(ValueError, match=re.escape(message)):
        GateRules.parse(**inputs)


@pytest.mark.hostile("gate")
@pytest.mark.parametrize(("value", "shown"), [(True, "true (boolean)"), ("0.99", '"0.99" (string)')])
def test_a_summary_metric_that_is_not_a_number_is_refused_not_coerced(value: Any, shown: str) -> None:
    """The results readers call a boolean and a numeric string non-numeric; so does the summary."""
    document = summary({"acc": 0.7}).model_dump(mode="json")
    document["metrics"]["custom"]["acc"] = value

    with pytest.raises(
        ValueError, match=re.escape(f"metrics.custom.acc: Value error, not a number: {shown}")
    ):
        parse_summary(document)


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
@pytest.mark.parametrize("bound", [{"min": 0.1}, {"max": 0.9}, {"min": -1e300, "max": 1e300}])
def test_a_non_finite_value_fails_closed_whatever_the_bound(value: float, bound: dict[str, float]) -> None:
    (check,) = GateRules.parse(thresholds={"acc": bound}).evaluate(summary({"acc": value}), None)

    assert check.passed is False
    assert "not a finite number" in check.describe()


def test_a_non_finite_baseline_fails_the_regression_check() -> None:
    rules = GateRules.parse(max_regression=0.1)

    (check,) = rules.evaluate(summary({"acc": 0.7}), summary({"acc": float("nan")}))

    assert check.passed is False


def test_report_lists_each_check_and_the_violations() -> None:
    rules = GateRules.parse(thresholds={"acc": 0.9, "loss": {"max": 2}}, min_delta_vs_base=0.05)
    current = summary({"acc": 0.7, "loss": 1.2}, {"acc": 0.6, "loss": 1.5})

    report = gate_report(current, None, rules.evaluate(current, None))

    assert report["passed"] is False
    assert [(c["rule"], c["subject"], c["passed"]) for c in report["checks"]] == [
        ("threshold", "custom acc", False),
        ("threshold", "custom loss", True),
        ("delta_vs_base", "acc", True),
        ("delta_vs_base", "loss", False),
    ]
    assert report["violations"] == [
        "threshold custom acc = 0.7, required >= 0.9: VIOLATED",
        "delta_vs_base loss = -0.3, required >= 0.05: VIOLATED",
    ]


def test_lower_is_better_turns_a_bare_delta_and_a_regression_around() -> None:
    rules = GateRules.parse(min_delta_vs_base=0.1, max_regression=0.1, lower_is_better=["loss"])
    current = summary({"loss": 0.8}, {"loss": 0.9})

    delta, regression = rules.evaluate(current, summary({"loss": 0.7}))

    assert delta.bound == Bound(max=-0.1) and delta.passed
    assert regression.bound == Bound(max=0.8) and regression.passed  # at the tolerance exactly


def test_a_missing_metric_names_the_metrics_present() -> None:
    with pytest.raises(ValueError, match="metric 'f1' is not in the metrics; present: acc"):
        GateRules.parse(thresholds={"f1": 0.5}).evaluate(summary({"acc": 0.7}), None)


def test_a_threshold_on_a_metric_that_is_not_a_number_says_so() -> None:
    reported = summary({"acc": 0.7}).model_copy(
        update={"non_numeric_metrics": {"custom": {"f1": NonNumericValue(type="string", value='"n/a"')}}}
    )
    with pytest.raises(
        ValueError, match=r"metric 'f1' of the custom model is not a number in the results \(string \"n/a\"\)"
    ):
        GateRules.parse(thresholds={"f1": 0.5}).evaluate(reported, None)


def test_parse_summary_accepts_a_model_a_dict_or_json_and_names_bad_input() -> None:
    current = summary({"acc": 0.7})

    assert parse_summary(current) is current
    assert parse_summary(current.model_dump(mode="json")) == current
    assert parse_summary(current.model_dump_json()) == current
    with pytest.raises(ValueError, match="baseline is not valid JSON"):
        parse_summary("{nope", name="baseline")
    with pytest.raises(ValueError, match="baseline must be an EvaluationSummary"):
        parse_summary(3, name="baseline")
