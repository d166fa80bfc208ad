"""DAGs of the scale run (``benchmarks/scale.py``): N deferred evaluations as mapped tasks of ONE run.

Each DAG lists ``params.count`` evaluation names in one task, then maps a deferrable start over
them. Ours polls every ``POLL_SECONDS`` (SageMaker's Studio refreshes about as often; a
deployment with a thousand evaluations in flight would not poll faster), with or without the
stack's event queue (``SM_EVAL_WAIT_QUEUE_URL``, set for every component of the stack); the
amazon provider's operator checks at the same interval, over a pipeline of the same definition
that the script creates (``params.pipeline_name``). No retries: a failure is final and counted.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.providers.amazon.aws.operators.sagemaker import SageMakerStartPipelineOperator
from airflow.sdk import DAG, Param, get_current_context, task

from airflow_provider_sm_eval.operators.start_evaluation import StartEvaluationOperator

DEFINITION = Path(__file__).resolve().parents[2] / "example_dags" / "pipeline_definitions" / "benchmark.json"
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerEvaluationRole"
OUTPUT = "s3://sm-eval-example/scale"
POLL_SECONDS = 30
#: Airflow's default ``[core] max_map_length``: the most mapped tasks one run may expand to.
MAX_EVALUATIONS = 1024


def _dag(dag_id: str, **params: Param) -> DAG:
    return DAG(
        dag_id=dag_id,
        schedule=None,
        start_date=datetime(2025, 1, 1),
        catchup=False,
        max_active_runs=1,
        max_active_tasks=MAX_EVALUATIONS,
        tags=["sm-eval-scale"],
        params={
            "count": Param(100, type="integer", minimum=1, maximum=MAX_EVALUATIONS),
            "prefix": Param("scale", type="string", pattern="^[a-z0-9-]{1,40}$"),
            **params,
        },
    )


@task
def evaluation_names() -> list[str]:
    """One evaluation name per mapped task: ``<prefix>-<index>``."""
    params: dict[str, Any] = get_current_context()["params"]
    return [f"{params['prefix']}-{index:04d}" for index in range(int(params["count"]))]


def _ours(event_queue_url: str | None) -> None:
    StartEvaluationOperator.partial(
        task_id="evaluate",
        eval_type="benchmark",
        pipeline_definition=str(DEFINITION),
        role_arn=ROLE_ARN,
        s3_output_path=f"{OUTPUT}/ours",
        deferrable=True,
        poll_interval=POLL_SECONDS,
        event_queue_url=event_queue_url,
        retries=0,
    ).expand(evaluation_name=evaluation_names())


with _dag("scale_ours"):
    _ours(None)

with _dag("scale_ours_events"):
    _ours(os.environ.get("SM_EVAL_WAIT_QUEUE_URL") or None)

with _dag("scale_amazon", pipeline_name=Param(type="string", minLength=1)):
    SageMakerStartPipelineOperator.partial(
        task_id="evaluate",
        pipeline_name="{{ params.pipeline_name }}",
        pipeline_params={"S3OutputPath": f"{OUTPUT}/amazon"},
        deferrable=True,
        wait_for_completion=True,
        check_interval=POLL_SECONDS,
        retries=0,
    ).expand(display_name=evaluation_names())
