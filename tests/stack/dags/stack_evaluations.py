"""DAGs of the end-to-end suite (tests/stack): one evaluation task each, in every mode.

Each run gets its evaluation name from ``conf`` (``{"name": ...}``), so a test finds exactly the
executions its run started. They use the example benchmark definition and the stack's
``aws_default`` connection (the emulator); ``SM_EVAL_POLL_SECONDS`` sets the poll interval.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, XComArg

from airflow_provider_sm_eval.operators.start_evaluation import StartEvaluationOperator
from airflow_provider_sm_eval.operators.stop_evaluation import StopEvaluationOperator
from airflow_provider_sm_eval.sensors.evaluation_execution import EvaluationExecutionSensor

#: The example DAGs' benchmark definition (both folders are in the stack's DAG bundles).
DEFINITION = Path(__file__).resolve().parents[3] / "example_dags" / "pipeline_definitions" / "benchmark.json"
POLL_SECONDS = float(os.environ.get("SM_EVAL_POLL_SECONDS", "1"))
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerEvaluationRole"


def _dag(dag_id: str, **kwargs: Any) -> DAG:
    return DAG(
        dag_id=dag_id,
        schedule=None,
        start_date=datetime(2025, 1, 1),
        catchup=False,
        max_active_runs=200,
        max_active_tasks=200,
        tags=["sm-eval-stack-test"],
        params={"name": Param("stack-evaluation", type="string"), "role_arn": Param(ROLE_ARN, type="string")},
        **kwargs,
    )


def _start(
    task_id: str = "evaluate", poll_interval: float = POLL_SECONDS, **kwargs: Any
) -> StartEvaluationOperator:
    return StartEvaluationOperator(
        task_id=task_id,
        eval_type="benchmark",
        evaluation_name="{{ params.name }}",
        pipeline_definition=str(DEFINITION),
        role_arn="{{ params.role_arn }}",
        s3_output_path="s3://sm-eval-example/stack/{{ params.name }}",
        poll_interval=poll_interval,
        **kwargs,
    )


# Deferrable start, no retries: the trigger waits; a failure is final.
with _dag("stack_deferred"):
    _start(deferrable=True, retries=0)

# Deferrable start woken by SageMaker's status-change events (the stack's queue), no retries.
with _dag("stack_deferred_events"):
    _start(deferrable=True, retries=0, event_queue_url=os.environ.get("SM_EVAL_WAIT_QUEUE_URL") or None)

# The load test's: deferred, no retries, polling every 10 s (a third of the default) rather than
# every second, as a deployment with many evaluations in flight would.
with _dag("stack_deferred_load"):
    _start(deferrable=True, retries=0, poll_interval=10)

# Deferrable start with retries (triggerer crashes, clears, ...).
with _dag("stack_deferred_retries"):
    _start(deferrable=True, retries=2, retry_delay=timedelta(seconds=2))

# Blocking start with one retry: the worker that waits can be killed.
with _dag("stack_blocking"):
    _start(deferrable=False, retries=1, retry_delay=timedelta(seconds=2))

# Deferred until execution_timeout: the execution must be stopped.
with _dag("stack_deferred_timeout"):
    _start(deferrable=True, retries=0, execution_timeout=timedelta(seconds=15))

# Start without waiting, then the sensor in deferrable mode.
with _dag("stack_sensor"):
    started = _start("start", wait_for_completion=False, retries=0)
    EvaluationExecutionSensor(
        task_id="wait",
        execution_arn=XComArg(started, key="execution_arn"),
        deferrable=True,
        poke_interval=POLL_SECONDS,
        timeout=600,
    )

# Start without waiting, then stop it.
with _dag("stack_stop"):
    started = _start("start", wait_for_completion=False, retries=0)
    StopEvaluationOperator(
        task_id="stop",
        execution_arn=XComArg(started, key="execution_arn"),
        poll_interval=POLL_SECONDS,
    )

# A failed execution resumed from its failed steps (RetryPipelineExecution) by the retry.
with _dag("stack_resume_failed"):
    _start(deferrable=False, retries=1, retry_delay=timedelta(seconds=0), on_failed_execution="retry")

# Another definition of the benchmark type: the existing pipeline gets a new definition.
with _dag("stack_definition_variant"):
    StartEvaluationOperator(
        task_id="evaluate",
        eval_type="benchmark",
        evaluation_name="{{ params.name }}",
        pipeline_definition={**json.loads(DEFINITION.read_text()), "Metadata": {"variant": "stack-test"}},
        role_arn="{{ params.role_arn }}",
        s3_output_path="s3://sm-eval-example/stack/{{ params.name }}",
        poll_interval=POLL_SECONDS,
        retries=0,
    )
