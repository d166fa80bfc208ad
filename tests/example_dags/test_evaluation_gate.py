"""EvaluationGateOperator: rule validation, rule outcomes and the fail / skip behaviour (no AWS)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException, DownstreamTasksSkipped
from dag_run_support import RecordingTaskInstance

from airflow_provider_sm_eval.operators.evaluation_gate import (
    GATE_REPORT_XCOM_KEY,
    EvaluationGateOperator,
    summary_from,
)

ARN = (
    "arn:aws:sagemaker:us-east-1:123456789012:pipeline/"
    "sagemakerevaluation-benchmarkevaluation-1/execution/abc"
)
BASELINE_ARN = ARN.replace("/abc", "/old")


def benchmark_summary(custom: dict[str, float], base: dict[str, float], arn: str = ARN) -> dict[str, Any]:
    return {
        "eval_type": "benchmark",
        "execution_arn": arn,
        "metrics": {"custom": custom, "base": base},
        "deltas": {
            k: round(custom[k] - base[k], 10) for k in custom.keys() & base.keys() if "stderr" not in k
        },
    }


SUMMARY = benchmark_summary(
    {"acc": 0.7, "acc_stderr": 0.01, "loss": 1.2}, {"acc": 0.6, "acc_stderr": 0.01, "loss": 1.5}
)
LLMAJ_SUMMARY = {
    "eval_type": "llmasjudge",
    "execution_arn": ARN.replace("benchmarkevaluation", "llmajevaluation"),
    "metrics": {"custom": {"Builtin.Correctness": 0.8}, "base": {"Builtin.Correctness": 0.7}},
    "deltas": {"Builtin.Correctness": 0.1},
    "win_rates": {
        "pairs": 10,
        "custom_wins": 6,
        "base_wins": 3,
        "ties": 1,
        "custom_win_rate": 0.6,
        "base_win_rate": 0.3,
        "tie_rate": 0.1,
    },
}


def run_gate(**kwargs: Any) -> tuple[dict[str, Any] | None, RecordingTaskInstance, BaseException | None]:
    gate = EvaluationGateOperator(task_id="gate", **kwargs)
    ti = RecordingTaskInstance()
    try:
        return gate.execute({"ti": ti}), ti, None  # type: ignore[arg-type]
    except (AirflowFailException, DownstreamTasksSkipped) as exc:
        return None, ti, exc


# --- validation: given arguments and literal ones at construction, rendered values in execute -----


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"thresholds": {"acc": 0.5}}, "give summary or execution_arn"),
        ({"summary": SUMMARY, "execution_arn": ARN, "thresholds": {"acc": 0.5}}, "not both"),
        ({"summary": SUMMARY}, "the gate has no rule"),
        ({"summary": SUMMARY, "max_regression": 0.1}, "max_regression needs a baseline"),
        (
            {"summary": SUMMARY, "baseline_summary": SUMMARY, "baseline_execution_arn": ARN},
            "give baseline_summary or baseline_execution_arn, not both",
        ),
        ({"summary": SUMMARY, "thresholds": {"acc": 1}, "lower_is_better": "loss"}, "lower_is_better must"),
        (
            {"summary": SUMMARY, "thresholds": {"acc": 1}, "model": "judge"},
            "model must be 'custom' or 'base'",
        ),
        ({"summary": SUMMARY, "thresholds": {"acc": 1}, "on_failure": "warn"}, "on_failure must be"),
    ],
)
def test_bad_inputs_fail_at_construction(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        EvaluationGateOperator(task_id="gate", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"summary": SUMMARY, "thresholds": {"acc": "high"}}, "thresholds['acc'] must be a number"),
        ({"summary": SUMMARY, "thresholds": {"acc": {"above": 1}}}, "thresholds['acc'] must have 'min'"),
        ({"summary": SUMMARY, "thresholds": {"acc": {"min": 0.9, "max": 0.1}}}, "min 0.9 is above max 0.1"),
        ({"summary": SUMMARY, "thresholds": {"acc": float("nan")}}, "finite number"),
        ({"summary": SUMMARY, "thresholds": {"acc": True}}, "must be a number"),
        ({"summary": SUMMARY, "thresholds": {}}, "thresholds must be a non-empty dict"),
        ({"summary": SUMMARY, "thresholds": ["acc"]}, "thresholds must be a non-empty dict"),
        ({"summary": SUMMARY, "min_delta_vs_base": "lots"}, "min_delta_vs_base must be a number"),
        ({"summary": SUMMARY, "min_win_rate": 1.5}, "min_win_rate must be [0, 1]"),
        (
            {"summary": SUMMARY, "baseline_summary": SUMMARY, "max_regression": -0.1},
            "max_regression must be >= 0",
        ),
        ({"summary": "{not json", "thresholds": {"acc": 1}}, "summary is not valid JSON"),
        ({"summary": {"metrics": {}}, "thresholds": {"acc": 1}}, "summary is not an evaluation summary"),
        ({"execution_arn": "arn:aws:s3:::bucket", "thresholds": {"acc": 1}}, "execution_arn 'arn:aws:s3"),
        ({"summary": "{{ not rendered", "thresholds": {"acc": 1}}, "summary is not valid JSON"),
    ],
)
def test_bad_templated_values_fail_the_task_before_anything_is_read(
    kwargs: dict[str, Any], message: str
) -> None:
    gate = EvaluationGateOperator(task_id="gate", aws_conn_id="no_such_connection", **kwargs)

    with pytest.raises(AirflowFailException, match=re.escape(message)):
        gate.execute({"ti": RecordingTaskInstance()})  # type: ignore[arg-type]


def test_templated_inputs_are_checked_once_rendered() -> None:
    gate = EvaluationGateOperator(
        task_id="gate", summary="{{ ti.xcom_pull('evaluate') }}", thresholds="{{ params.thresholds }}"
    )
    gate.summary = SUMMARY
    gate.thresholds = "not a dict"
    with pytest.raises(AirflowFailException, match="thresholds must be a dict"):
        gate.execute({"ti": RecordingTaskInstance()})  # type: ignore[arg-type]


def test_rendered_numbers_and_json_are_accepted() -> None:
    result, _, error = run_gate(
        summary=json.dumps(SUMMARY),
        thresholds=json.dumps({"acc": 0.65}),
        min_delta_vs_base="0.05",
        lower_is_better=["loss"],
    )
    assert error is None
    assert result is not None and result["passed"]


@pytest.mark.hostile("gate")
@pytest.mark.parametrize(("value", "shown"), [(True, "true (boolean)"), ("0.99", '"0.99" (string)')])
def test_a_summary_metric_that_is_not_a_number_fails_the_task_instead_of_passing(
    value: Any, shown: str
) -> None:
    """Hostile tester: a summary's ``true`` passed a 0.5 threshold as 1.0, ``"0.99"`` as 0.99."""
    forged = json.loads(json.dumps(SUMMARY))
    forged["metrics"]["custom"]["acc"] = value

    result, ti, error = run_gate(summary=forged, thresholds={"acc": 0.5})

    assert result is None and GATE_REPORT_XCOM_KEY not in ti.xcom
    assert isinstance(error, AirflowFailException)
    assert f"metrics.custom.acc: Value error, not a number: {shown}" in str(error)


@pytest.mark.hostile("gate")
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"thresholds": {"acc": 10**400}}, "thresholds['acc'] must be a finite number, got 1000"),
        ({"thresholds": {"acc": float("inf")}}, "thresholds['acc'] must be a finite number, got Infinity"),
        ({"thresholds": {"acc": "0.5"}}, "thresholds['acc'] must be a number, got \"0.5\" (string)"),
        ({"min_win_rate": True}, "min_win_rate must be a number, got true (boolean)"),
        (
            {"baseline_summary": SUMMARY, "max_regression": 10**400},
            "max_regression must be a finite number, got 1000",
        ),
    ],
)
def test_a_rule_value_that_is_not_a_finite_float_fails_without_retry(
    kwargs: dict[str, Any], message: str
) -> None:
    """Hostile tester: a threshold of 10**400 ended in a bare OverflowError, and the task was retried."""
    _, _, error = run_gate(summary=SUMMARY, **kwargs)

    assert isinstance(error, AirflowFailException)
    assert message in str(error)


# --- outcomes ---------------------------------------------------------------------------------


def test_every_rule_passing_returns_and_pushes_the_report() -> None:
    result, ti, error = run_gate(
        summary=SUMMARY,
        thresholds={"acc": {"min": 0.65}, "loss": {"max": 1.3}},
        min_delta_vs_base={"acc": 0.05, "loss": {"max": 0}},
        baseline_summary=benchmark_summary({"acc": 0.69, "loss": 1.25}, {}, BASELINE_ARN),
        max_regression={"acc": 0.0, "loss": 0.0},
        lower_is_better=["loss"],
    )
    assert error is None
    assert result == ti.xcom[GATE_REPORT_XCOM_KEY]
    assert result["passed"] is True
    assert result["violations"] == []
    assert result["baseline_execution_arn"] == BASELINE_ARN
    assert [(c["rule"], c["subject"]) for c in result["checks"]] == [
        ("threshold", "custom acc"),
        ("threshold", "custom loss"),
        ("delta_vs_base", "acc"),
        ("delta_vs_base", "loss"),
        ("regression", "custom acc"),
        ("regression", "custom loss"),
    ]
    json.dumps(result)


def test_failure_lists_every_violated_rule_with_values() -> None:
    _, ti, error = run_gate(
        summary=SUMMARY, thresholds={"acc": 0.9, "loss": {"max": 1.0}}, min_delta_vs_base=0.2
    )
    assert isinstance(error, AirflowFailException)
    message = str(error)
    assert "threshold custom acc = 0.7, required >= 0.9" in message
    assert "threshold custom loss = 1.2, required <= 1" in message
    assert "delta_vs_base acc = 0.1, required >= 0.2" in message
    report = ti.xcom[GATE_REPORT_XCOM_KEY]
    assert report["passed"] is False
    assert len(report["violations"]) == 4  # acc and loss deltas both miss 0.2


def test_bare_delta_is_turned_around_for_lower_is_better_metrics() -> None:
    result, _, error = run_gate(summary=SUMMARY, min_delta_vs_base=0.1, lower_is_better=["loss"])
    assert error is None and result is not None
    loss = next(c for c in result["checks"] if c["subject"] == "loss")
    assert loss["bound"] == {"max": -0.1}


def test_win_rate_rule() -> None:
    result, _, error = run_gate(summary=LLMAJ_SUMMARY, min_win_rate=0.5)
    assert error is None and result is not None and result["passed"]
    _, _, error = run_gate(summary=LLMAJ_SUMMARY, min_win_rate=0.75)
    assert isinstance(error, AirflowFailException)
    assert "win_rate custom vs base = 0.6, required >= 0.75" in str(error)


def test_win_rate_rule_on_a_benchmark_is_an_error() -> None:
    _, _, error = run_gate(summary=SUMMARY, min_win_rate=0.5)
    assert isinstance(error, AirflowFailException)
    assert "min_win_rate needs LLM-as-judge win rates" in str(error)


def test_regression_against_a_baseline_defaults_to_no_tolerance() -> None:
    baseline = benchmark_summary({"acc": 0.72, "loss": 1.0}, {}, BASELINE_ARN)
    _, _, error = run_gate(summary=SUMMARY, baseline_summary=baseline)
    assert isinstance(error, AirflowFailException)
    assert "regression custom acc = 0.7, required >= 0.72 (baseline 0.72)" in str(error)
    _, _, error = run_gate(
        summary=SUMMARY, baseline_summary=baseline, max_regression=0.05, lower_is_better=["loss"]
    )
    assert isinstance(error, AirflowFailException)
    assert "regression custom loss = 1.2, required <= 1.05 (baseline 1)" in str(error)
    assert "custom acc" not in str(error)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"thresholds": {"f1": 0.5}}, "metric 'f1' is not in the metrics; present: acc, acc_stderr, loss"),
        ({"min_delta_vs_base": {"f1": 0.0}}, "metric 'f1' is not in the deltas; present: acc, loss"),
        (
            {"baseline_summary": benchmark_summary({"f1": 0.1}, {}), "max_regression": {"acc": 0.1}},
            "metric 'acc' is not in the baseline metrics; present: f1",
        ),
        (
            {
                "summary": {**SUMMARY, "metrics": {"custom": {"acc": 1.0}}},
                "thresholds": {"acc": 1},
                "model": "base",
            },
            "has no base model metrics (models present: custom)",
        ),
    ],
)
def test_a_value_missing_from_the_summary_fails_naming_what_is_present(
    kwargs: dict[str, Any], message: str
) -> None:
    _, _, error = run_gate(**{"summary": SUMMARY, **kwargs})
    assert isinstance(error, AirflowFailException)
    assert message in str(error)


@pytest.mark.hostile("gate")
@pytest.mark.parametrize("rendered", [None, "", "None", "null"])
@pytest.mark.parametrize("argument", ["baseline_summary", "baseline_execution_arn"])
def test_a_baseline_rendered_empty_while_max_regression_is_set_fails(argument: str, rendered: Any) -> None:
    """Hostile tester: a baseline that rendered to None dropped max_regression without a word."""
    gate = EvaluationGateOperator(
        task_id="gate",
        summary=SUMMARY,
        thresholds={"acc": 0.5},
        max_regression=0.01,
        **{argument: "{{ var.json.get('promoted', None) }}"},
    )
    setattr(gate, argument, rendered)

    with pytest.raises(AirflowFailException, match=f"{argument} rendered to .* while max_regression is 0.01"):
        gate.execute({"ti": RecordingTaskInstance()})  # type: ignore[arg-type]


def test_with_no_baseline_yet_max_regression_rendered_to_none_checks_the_other_rules() -> None:
    """The first run of a DAG that gates against the model promoted last, as in the example DAG."""
    gate = EvaluationGateOperator(
        task_id="gate",
        summary=SUMMARY,
        thresholds={"acc": 0.5},
        baseline_summary="{{ var.json.get('promoted', None) }}",
        max_regression="{{ 0.01 if var.json.get('promoted', None) else None }}",
    )
    gate.baseline_summary = None
    gate.max_regression = None
    report = gate.execute({"ti": RecordingTaskInstance()})  # type: ignore[arg-type]
    assert report["passed"] is True
    assert [check["rule"] for check in report["checks"]] == ["threshold"]


def test_an_operator_return_value_without_results_is_reported_as_such() -> None:
    _, _, error = run_gate(
        summary={"execution_arn": ARN, "status": "Failed", "results": None}, thresholds={"acc": 0.5}
    )
    assert isinstance(error, AirflowFailException)
    assert "summary['results'] is empty: the evaluation has no results" in str(error)


def test_summary_from_unwraps_an_operator_return_value() -> None:
    wrapped = {"execution_arn": ARN, "status": "Succeeded", "results": SUMMARY}
    assert summary_from(wrapped).metrics["custom"]["acc"] == 0.7
    assert summary_from(json.dumps(SUMMARY)).execution_arn == ARN


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_a_non_finite_metric_fails_the_gate(value: float) -> None:
    summary = benchmark_summary({"acc": value}, {"acc": 0.5})

    _, ti, error = run_gate(summary=summary, thresholds={"acc": {"min": 0.1}})

    assert isinstance(error, AirflowFailException)
    assert "not a finite number" in str(error)
    assert ti.xcom[GATE_REPORT_XCOM_KEY]["passed"] is False
    json.loads(json.dumps(ti.xcom[GATE_REPORT_XCOM_KEY], allow_nan=False))


def test_a_regression_exactly_at_the_tolerance_passes() -> None:
    # 0.7 + 0.1 is 0.7999999999999999 in floating point: the bound must still admit 0.8.
    current = benchmark_summary({"loss": 0.8}, {"loss": 0.9})
    baseline = benchmark_summary({"loss": 0.7}, {}, BASELINE_ARN)
    result, _, error = run_gate(
        summary=current, baseline_summary=baseline, max_regression=0.1, lower_is_better=["loss"]
    )
    assert error is None and result is not None
    assert result["checks"][0]["bound"] == {"max": 0.8}
