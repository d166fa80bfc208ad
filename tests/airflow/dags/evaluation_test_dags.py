"""DAGs the Airflow layer tests run end to end with ``dag.test()`` against the emulator.

The ``aws`` connection ``sm_eval_emulator`` is set by the tests (AIRFLOW_CONN_SM_EVAL_EMULATOR).
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import DAG

from airflow_provider_sm_eval.operators.evaluation_results import EvaluationResultsOperator
from airflow_provider_sm_eval.operators.start_evaluation import StartEvaluationOperator
from airflow_provider_sm_eval.sensors.evaluation_execution import EvaluationExecutionSensor

DEFINITIONS = Path(__file__).resolve().parents[3] / "example_dags" / "pipeline_definitions"
ROLE_ARN = "arn:aws:iam::123456789012:role/EvaluationRole"
CONN_ID = "sm_eval_emulator"
OUTPUT_PATH = "s3://eval-results/{{ dag.dag_id }}/{{ run_id | replace(':', '-') | replace('+', '-') }}"
FAST = {"aws_conn_id": CONN_ID, "poll_interval": 0.05}


def _evaluation_dag(dag_id: str, eval_type: str, definition: str, *, deferrable: bool) -> DAG:
    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False) as dag:
        start = StartEvaluationOperator(
            task_id="start_evaluation",
            eval_type=eval_type,
            evaluation_name="{{ dag.dag_id | replace('_', '-') }}",
            pipeline_definition=str(DEFINITIONS / definition),
            role_arn=ROLE_ARN,
            s3_output_path=OUTPUT_PATH,
            deferrable=deferrable,
            retries=0,
            **FAST,
        )
        sensor = EvaluationExecutionSensor(
            task_id="wait_for_evaluation",
            execution_arn="{{ ti.xcom_pull(task_ids='start_evaluation', key='execution_arn') }}",
            aws_conn_id=CONN_ID,
            poke_interval=0.05,
            deferrable=deferrable,
        )
        results = EvaluationResultsOperator(
            task_id="read_results",
            execution_arn="{{ ti.xcom_pull(task_ids='start_evaluation', key='execution_arn') }}",
            aws_conn_id=CONN_ID,
        )
        start >> sensor >> results
    return dag


benchmark_blocking = _evaluation_dag(
    "sm_eval_test_benchmark_blocking", "benchmark", "benchmark.json", deferrable=False
)
benchmark_deferred = _evaluation_dag(
    "sm_eval_test_benchmark_deferred", "benchmark", "benchmark.json", deferrable=True
)
llmaj_blocking = _evaluation_dag(
    "sm_eval_test_llmaj_blocking", "llmasjudge", "llm_as_judge.json", deferrable=False
)
llmaj_deferred = _evaluation_dag(
    "sm_eval_test_llmaj_deferred", "llmasjudge", "llm_as_judge.json", deferrable=True
)


with DAG(
    "sm_eval_test_sensor_reschedule",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
) as sensor_reschedule:
    started = StartEvaluationOperator(
        task_id="start_evaluation",
        eval_type="benchmark",
        evaluation_name="sensor-reschedule",
        pipeline_definition=str(DEFINITIONS / "benchmark.json"),
        role_arn=ROLE_ARN,
        s3_output_path=OUTPUT_PATH,
        wait_for_completion=False,
        **FAST,
    )
    EvaluationExecutionSensor(
        task_id="wait_for_evaluation",
        execution_arn="{{ ti.xcom_pull(task_ids='start_evaluation', key='execution_arn') }}",
        aws_conn_id=CONN_ID,
        mode="reschedule",
        poke_interval=1,
    ).set_upstream(started)
