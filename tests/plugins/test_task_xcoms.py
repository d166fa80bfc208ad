"""What the tabs read from each provider operator's and the sensor's XComs (pure, no Airflow run)."""

from __future__ import annotations

from airflow_provider_sm_eval.plugins.task_xcoms import read_task_evaluation

ARN = (
    "arn:aws:sagemaker:us-east-1:123456789012:pipeline/sagemakerevaluation-benchmarkevaluation-x/execution/e1"
)
STEP = {"name": "EvaluateCustomModel", "status": "Failed", "failure_reason": "AlgorithmError: OOM"}
SUMMARY = {"eval_type": "benchmark", "execution_arn": ARN, "metrics": {"custom": {"acc": 0.7}}, "deltas": {}}
REPORT = {"passed": False, "execution_arn": ARN, "eval_type": "benchmark", "checks": [], "violations": ["x"]}


def test_the_start_operator_while_waiting_has_only_the_arn() -> None:
    evaluation = read_task_evaluation({"execution_arn": ARN})
    assert evaluation.execution_arn == ARN
    assert evaluation.steps is None and evaluation.summary is None and evaluation.status is None


def test_the_start_operator_after_waiting() -> None:
    returned = {
        "execution_arn": ARN,
        "eval_type": "benchmark",
        "status": "Failed",
        "failure_reason": "Step failed",
        "steps": [STEP],
        "results": None,
        "console_url": "https://console",
    }
    evaluation = read_task_evaluation({"return_value": returned, "execution_arn": ARN, "steps": [STEP]})
    assert (evaluation.status, evaluation.failure_reason, evaluation.eval_type) == (
        "Failed",
        "Step failed",
        "benchmark",
    )
    assert evaluation.steps == [STEP]


def test_a_sensor_names_its_execution_in_its_rendered_field_until_it_pushes_steps() -> None:
    assert read_task_evaluation({}, {"execution_arn": ARN, "aws_conn_id": "aws_default"}).execution_arn == ARN
    assert read_task_evaluation({"steps": [STEP]}, {"execution_arn": ARN}).steps == [STEP]


def test_a_rendered_field_that_is_not_an_arn_names_nothing() -> None:
    assert read_task_evaluation({}, {"execution_arn": "{{ ti.xcom_pull('start') }}"}).execution_arn is None


def test_the_results_operator_returns_the_summary() -> None:
    evaluation = read_task_evaluation({"return_value": SUMMARY})
    assert evaluation.summary == SUMMARY
    assert (evaluation.execution_arn, evaluation.eval_type) == (ARN, "benchmark")


def test_the_stop_operator_returns_status_and_steps() -> None:
    evaluation = read_task_evaluation(
        {"return_value": {"execution_arn": ARN, "status": "Stopped", "steps": []}}
    )
    assert (evaluation.execution_arn, evaluation.status, evaluation.steps) == (ARN, "Stopped", [])


def test_a_gate_that_passed_returns_its_report_and_one_that_failed_only_pushes_it() -> None:
    passed = read_task_evaluation(
        {"return_value": {**REPORT, "passed": True}, "gate_report": {**REPORT, "passed": True}}
    )
    failed = read_task_evaluation({"gate_report": REPORT})
    for evaluation in (passed, failed):
        assert evaluation.execution_arn == ARN
        assert evaluation.summary is None
    assert (passed.gate_report or {})["passed"] is True
    assert failed.gate_report == REPORT
