"""Each example DAG end to end with ``dag.test()`` against the emulator, blocking and deferred."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from dag_run_support import rendered_fields, task_states, trigger_of, xcom

from airflow_provider_sm_eval.evaluation.constants import StepName
from sagemaker_eval_emulator import EvaluationEmulator

pytestmark = pytest.mark.dag_run

LoadDag = Callable[[str], Any]
WAIT_MODES = pytest.mark.parametrize("deferrable", [False, True], ids=["blocking", "deferrable"])


def set_wait_mode(dag: Any, task_id: str, *, deferrable: bool) -> None:
    dag.get_task(task_id).deferrable = deferrable


def assert_wait_mode(run: Any, task_id: str, *, deferrable: bool) -> None:
    """A deferrable task waited in the evaluation trigger; a blocking one never deferred."""
    expected = "airflow_provider_sm_eval.triggers.evaluation_execution.EvaluationExecutionTrigger"
    assert trigger_of(run, task_id) == (expected if deferrable else None)


@WAIT_MODES
def test_benchmark(load_example_dag: LoadDag, example_dag_env: EvaluationEmulator, deferrable: bool) -> None:
    example_dag_env.step_seconds = 0.5  # still running when the task would defer
    dag = load_example_dag("example_sm_eval_benchmark")
    set_wait_mode(dag, "evaluate", deferrable=deferrable)

    run = dag.test()

    assert_wait_mode(run, "evaluate", deferrable=deferrable)
    assert task_states(run) == {"evaluate": "success", "custom_beats_base": "success"}
    evaluation = xcom(run, "evaluate")
    assert evaluation["status"] == "Succeeded"
    assert [step["name"] for step in evaluation["steps"]] == [
        "CreateEvaluationAction",
        "EvaluateBaseModel",
        "EvaluateCustomModel",
        "AssociateLineage",
    ]
    assert set(evaluation["results"]["metrics"]) == {"custom", "base"}
    # The definition the operator built: whole in XCom, in the task's rendered view up to Airflow's
    # [core] max_templated_field_length (also after a deferral).
    built = xcom(run, "evaluate", "pipeline_definition")
    assert [step["Name"] for step in built["Steps"]] == [step["name"] for step in evaluation["steps"]]
    shown = rendered_fields(run, "evaluate")
    assert shown["model"] == "arn:aws:sagemaker:us-east-1:123456789012:model-package/llama-3-2-1b-finetuned/1"
    assert "'Name': 'CreateEvaluationAction'" in str(shown["rendered_definition"])
    report = xcom(run, "custom_beats_base")
    assert report["passed"] is True
    assert report["execution_arn"] == evaluation["execution_arn"]
    assert {(c["rule"], c["subject"]) for c in report["checks"]} >= {
        ("threshold", "custom acc"),
        ("delta_vs_base", "acc"),
    }


@WAIT_MODES
def test_llm_as_judge(
    load_example_dag: LoadDag, example_dag_env: EvaluationEmulator, deferrable: bool
) -> None:
    example_dag_env.step_seconds = 2  # still running when the sensor starts waiting, on a loaded machine too
    dag = load_example_dag("example_sm_eval_llm_as_judge")
    set_wait_mode(dag, "wait", deferrable=deferrable)

    run = dag.test()

    assert_wait_mode(run, "wait", deferrable=deferrable)
    assert task_states(run) == {
        "start": "success",
        "wait": "success",
        "read_results": "success",
        "judge_prefers_custom": "success",
    }
    summary = xcom(run, "read_results")
    assert summary["eval_type"] == "llmasjudge"
    assert summary["execution_arn"] == xcom(run, "start", "execution_arn")
    assert summary["win_rates"]["pairs"] > 0
    report = xcom(run, "judge_prefers_custom")
    assert [c["rule"] for c in report["checks"]] == ["threshold", "win_rate"]
    assert report["checks"][1]["value"] == summary["win_rates"]["custom_win_rate"]


@WAIT_MODES
def test_custom_scorer(
    load_example_dag: LoadDag, example_dag_env: EvaluationEmulator, deferrable: bool
) -> None:
    example_dag_env.step_seconds = 0.5  # still running when the task would defer
    dag = load_example_dag("example_sm_eval_custom_scorer")
    set_wait_mode(dag, "evaluate", deferrable=deferrable)

    run = dag.test()

    assert_wait_mode(run, "evaluate", deferrable=deferrable)
    assert task_states(run) == {"evaluate": "success", "quality_floor": "success"}
    metrics = xcom(run, "evaluate")["results"]["metrics"]["custom"]
    assert {"bleu", "rougeL", "exact_match"} <= set(metrics)
    assert xcom(run, "quality_floor")["passed"] is True


def test_benchmark_gate_fails_the_run_when_the_custom_model_is_worse(
    load_example_dag: LoadDag, example_dag_env: EvaluationEmulator
) -> None:
    example_dag_env.results.custom_worse_than_base = True
    dag = load_example_dag("example_sm_eval_benchmark")

    run = dag.test()

    assert run.state == "failed"
    assert task_states(run) == {"evaluate": "success", "custom_beats_base": "failed"}
    report = xcom(run, "custom_beats_base", "gate_report")
    assert report["passed"] is False
    violated_deltas = {
        c["subject"] for c in report["checks"] if c["rule"] == "delta_vs_base" and not c["passed"]
    }
    assert violated_deltas == {"acc", "acc_norm", "exact_match"}
    assert len(report["violations"]) == sum(not c["passed"] for c in report["checks"])


def test_a_failed_evaluation_fails_its_task_and_skips_the_gate(
    load_example_dag: LoadDag, example_dag_env: EvaluationEmulator
) -> None:
    example_dag_env.faults.fail_step(StepName.EVALUATE_CUSTOM_MODEL.value, "CUDA out of memory")
    dag = load_example_dag("example_sm_eval_custom_scorer")
    dag.get_task("evaluate").retries = 0

    run = dag.test()

    assert task_states(run) == {"evaluate": "failed", "quality_floor": "upstream_failed"}
    steps = {step["name"]: step for step in xcom(run, "evaluate", "steps")}
    assert steps["EvaluateCustomModel"]["status"] == "Failed"
    assert steps["EvaluateCustomModel"]["failure_reason"] == "CUDA out of memory"


class TestScheduledGate:
    """The nightly DAG promotes a model that passes, keeps the old one (skip) otherwise."""

    DAG_ID = "example_sm_eval_scheduled_gate"

    #: The Airflow Variable the DAG keeps the promoted model's summary in.
    PROMOTED_VARIABLE = "sm_eval_promoted_summary"

    @pytest.fixture(autouse=True)
    def no_promoted_model(self, example_dag_env: EvaluationEmulator) -> None:
        from airflow.models.variable import Variable

        Variable.delete(self.PROMOTED_VARIABLE)

    def promoted_summary(self) -> Any:
        from airflow.models.variable import Variable

        return Variable.get(self.PROMOTED_VARIABLE, default_var=None, deserialize_json=True)

    @staticmethod
    def pin_custom_accuracy(emulator: EvaluationEmulator, value: float) -> None:
        """Pin the custom model's ``acc`` to ``value``; every other score to 0.5 for both models."""
        emulator.results.clear()
        scores = dict.fromkeys(("acc", "acc_norm", "exact_match"), 0.5)
        emulator.results.override(StepName.EVALUATE_CUSTOM_MODEL.value, {**scores, "acc": value})
        emulator.results.override(StepName.EVALUATE_BASE_MODEL.value, scores)

    def test_first_run_passes_without_a_baseline_and_promotes(
        self, load_example_dag: LoadDag, example_dag_env: EvaluationEmulator
    ) -> None:
        self.pin_custom_accuracy(example_dag_env, 0.8)

        run = load_example_dag(self.DAG_ID).test()

        assert task_states(run) == {
            "evaluate": "success",
            "quality_gate": "success",
            "promote_model": "success",
        }
        report = xcom(run, "quality_gate")
        assert report["baseline_execution_arn"] is None
        assert "regression" not in {c["rule"] for c in report["checks"]}
        assert self.promoted_summary()["execution_arn"] == report["execution_arn"]

    def test_a_regression_against_the_promoted_model_skips_promotion(
        self, load_example_dag: LoadDag, example_dag_env: EvaluationEmulator
    ) -> None:
        self.pin_custom_accuracy(example_dag_env, 0.8)
        first = load_example_dag(self.DAG_ID).test()
        promoted_arn = xcom(first, "quality_gate")["execution_arn"]
        self.pin_custom_accuracy(example_dag_env, 0.7)

        run = load_example_dag(self.DAG_ID).test()

        assert run.state == "success"
        assert task_states(run) == {
            "evaluate": "success",
            "quality_gate": "success",
            "promote_model": "skipped",
        }
        report = xcom(run, "quality_gate", "gate_report")
        assert report["passed"] is False
        assert report["baseline_execution_arn"] == promoted_arn
        assert report["violations"] == [
            "regression custom acc = 0.7, required >= 0.78 (baseline 0.8): VIOLATED"
        ]
        assert self.promoted_summary()["execution_arn"] == promoted_arn


def test_params_choose_the_connection_and_the_output_path(
    load_example_dag: LoadDag, example_dag_env: EvaluationEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_EVALUATION_ACCOUNT", os.environ["AIRFLOW_CONN_AWS_DEFAULT"])
    monkeypatch.delenv("AIRFLOW_CONN_AWS_DEFAULT")
    example_dag_env.client("s3").create_bucket(Bucket="team-evaluations")
    dag = load_example_dag("example_sm_eval_benchmark")

    run = dag.test(
        run_conf={"aws_conn_id": "evaluation_account", "s3_output_path": "s3://team-evaluations/nightly"}
    )

    assert task_states(run) == {"evaluate": "success", "custom_beats_base": "success"}
    artifacts = xcom(run, "evaluate")["results"]["artifact_uris"]
    assert artifacts
    assert all(uri.startswith("s3://team-evaluations/nightly/benchmark/") for uri in artifacts)
