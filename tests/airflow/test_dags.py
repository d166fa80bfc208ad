"""DAGs run end to end by Airflow (``dag.test()``, triggers in-process) against the emulator."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from airflow_provider_sm_eval.evaluation.constants import StepName
from sagemaker_eval_emulator import EvaluationEmulator

pytestmark = [pytest.mark.timeout(180), pytest.mark.dag_run]


@pytest.fixture
def evaluation_dags(test_dags_folder: Path, emulator: EvaluationEmulator) -> ModuleType:
    return importlib.import_module("tests.airflow.dags.evaluation_test_dags")


def xcoms(dag_id: str, run_id: str) -> dict[tuple[str, str], Any]:
    """Every XCom of one run, by (task_id, key), read from the metadata database."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(
            select(XComModel).where(XComModel.dag_id == dag_id, XComModel.run_id == run_id)
        ).all()
        return {(row.task_id, row.key): XComModel.deserialize_value(row) for row in rows}


@pytest.mark.parametrize("dag_name", ["benchmark_blocking", "llmaj_deferred"])
def test_evaluation_dag_succeeds(evaluation_dags: ModuleType, dag_name: str) -> None:
    dag = getattr(evaluation_dags, dag_name)

    run = dag.test()

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states == {
        "start_evaluation": "success",
        "wait_for_evaluation": "success",
        "read_results": "success",
    }
    pushed = xcoms(dag.dag_id, run.run_id)
    summary = pushed[("start_evaluation", "return_value")]
    assert summary["status"] == "Succeeded"
    assert summary["execution_arn"] == pushed[("start_evaluation", "execution_arn")]
    assert pushed[("start_evaluation", "results")]["metrics"]["custom"]
    assert pushed[("read_results", "return_value")]["execution_arn"] == summary["execution_arn"]
    assert pushed[("start_evaluation", "evaluation_execution_url")].startswith(
        "https://us-east-1.console.aws"
    )
    assert pushed[("start_evaluation", "evaluation_results_url")].startswith(
        "https://console.aws.amazon.com/s3/"
    )


def test_failed_evaluation_fails_the_deferred_task_with_the_reason(
    evaluation_dags: ModuleType, emulator: EvaluationEmulator
) -> None:
    emulator.faults.fail_step(StepName.EVALUATE_CUSTOM_MODEL.value, "AlgorithmError: tokenizer missing")
    dag = evaluation_dags.benchmark_deferred

    run = dag.test()

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["start_evaluation"] == "failed"
    assert states["read_results"] == "upstream_failed"
    pushed = xcoms(dag.dag_id, run.run_id)
    failed = [s for s in pushed[("start_evaluation", "steps")] if s["status"] == "Failed"]
    assert failed[0]["failure_reason"] == "AlgorithmError: tokenizer missing"


def test_sensor_in_reschedule_mode_waits_for_the_execution(
    evaluation_dags: ModuleType, emulator: EvaluationEmulator
) -> None:
    emulator.step_seconds = 1
    dag = evaluation_dags.sensor_reschedule

    run = dag.test()

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states == {"start_evaluation": "success", "wait_for_evaluation": "success"}
    steps = xcoms(dag.dag_id, run.run_id)[("wait_for_evaluation", "steps")]
    assert {step["status"] for step in steps} == {"Succeeded"}
