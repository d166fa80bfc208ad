"""EvaluationGateOperator reading summaries by execution ARN through the hook, against the emulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException
from dag_run_support import RecordingTaskInstance

from airflow_provider_sm_eval.evaluation import EvaluationPipelineExecution
from airflow_provider_sm_eval.evaluation.clients import AwsClients
from airflow_provider_sm_eval.evaluation.constants import StepName
from airflow_provider_sm_eval.operators.evaluation_gate import GATE_REPORT_XCOM_KEY, EvaluationGateOperator
from sagemaker_eval_emulator import EvaluationEmulator

pytestmark = pytest.mark.dag_run

DEFINITION = Path(__file__).resolve().parents[2] / "example_dags" / "pipeline_definitions" / "benchmark.json"
ROLE_ARN = "arn:aws:iam::123456789012:role/EvaluationRole"


def finished_execution(emulator: EvaluationEmulator) -> EvaluationPipelineExecution:
    clients = AwsClients(sagemaker_client=emulator.client("sagemaker"), s3_client=emulator.client("s3"))
    execution = EvaluationPipelineExecution.start(
        "benchmark", "gate-by-arn", str(DEFINITION), ROLE_ARN, "s3://sm-eval-example/gate", clients=clients
    )
    execution.wait(target_status="Succeeded", poll=0.05, timeout=60, clients=clients)
    return execution


def test_gate_reads_the_summary_and_the_baseline_by_arn(example_dag_env: EvaluationEmulator) -> None:
    baseline = finished_execution(example_dag_env)
    example_dag_env.results.custom_worse_than_base = True
    current = finished_execution(example_dag_env)
    gate = EvaluationGateOperator(
        task_id="gate", execution_arn=current.arn, baseline_execution_arn=baseline.arn, max_regression=0.0
    )
    ti = RecordingTaskInstance()

    with pytest.raises(AirflowFailException, match="regression custom acc = ") as failure:
        gate.execute({"ti": ti})  # type: ignore[arg-type]

    report = ti.xcom[GATE_REPORT_XCOM_KEY]
    assert isinstance(report, dict)
    assert report["execution_arn"] == current.arn
    assert report["baseline_execution_arn"] == baseline.arn
    assert {check["subject"] for check in report["checks"]} == {
        "custom acc",
        "custom acc_norm",
        "custom exact_match",
    }
    assert str(failure.value).count("VIOLATED") == len(report["violations"]) > 0


def test_gate_on_an_execution_without_results_says_so(example_dag_env: EvaluationEmulator) -> None:
    example_dag_env.faults.fail_step(StepName.EVALUATE_CUSTOM_MODEL.value, "out of memory")
    clients = AwsClients(
        sagemaker_client=example_dag_env.client("sagemaker"), s3_client=example_dag_env.client("s3")
    )
    execution = EvaluationPipelineExecution.start(
        "benchmark", "gate-failed", str(DEFINITION), ROLE_ARN, "s3://sm-eval-example/gate", clients=clients
    )
    execution.wait(target_status="Failed", poll=0.05, timeout=60, clients=clients)
    gate = EvaluationGateOperator(task_id="gate", execution_arn=execution.arn, min_delta_vs_base=0.0)

    with pytest.raises(AirflowException, match=execution.arn):
        gate.execute({"ti": RecordingTaskInstance()})  # type: ignore[arg-type]
