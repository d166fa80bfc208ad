"""Event-driven promotion gate: runs whenever a benchmark evaluation succeeds, no schedule, no polling.

SageMaker's status-change events reach an SQS queue through an EventBridge rule (create both
with ``sm-eval-event-setup --queue-name sm-eval-events``).
An Airflow 3 ``AssetWatcher`` runs ``EvaluationEndedTrigger`` on that queue in the triggerer;
each succeeded benchmark execution updates the asset ``sm-eval://evaluations/succeeded``, and
this DAG, scheduled on the asset, gates the model of every execution whose end its run consumed
(one gate per execution: Airflow starts one run for the ends that arrive together). The trigger
reports an end only once SageMaker confirms it (a queue message is input, not proof), and each
gate reads its execution from SageMaker. Give the watcher a queue of its own (a second
``event_setup`` queue), not the queue of deferred waits (``event_queue_url``): with several
triggerers, SQS hands each event to one of them, which deletes it, so the watcher in another
triggerer would miss it. (In a single triggerer they can share one queue.)

Environment: ``SM_EVAL_ASSET_QUEUE_URL`` (the watcher's queue), ``SM_EVAL_AWS_CONN_ID``.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from airflow.sdk import DAG, Asset, AssetWatcher, task

from airflow_provider_sm_eval.operators.evaluation_gate import EvaluationGateOperator
from airflow_provider_sm_eval.triggers.evaluation_events import EvaluationEndedTrigger, ended_execution_arns

QUEUE_URL = os.environ.get(
    "SM_EVAL_ASSET_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/sm-eval-asset-events"
)
AWS_CONN_ID = os.environ.get("SM_EVAL_AWS_CONN_ID", "aws_default")

evaluation_succeeded = Asset(
    "sm-eval://evaluations/succeeded",
    watchers=[
        AssetWatcher(
            name="sm_eval_succeeded_benchmarks",
            trigger=EvaluationEndedTrigger(QUEUE_URL, eval_type="benchmark", aws_conn_id=AWS_CONN_ID),
        )
    ],
)

with DAG(
    dag_id="example_sm_eval_event_driven",
    description="Gate every benchmark evaluation as soon as it succeeds (EventBridge -> SQS -> AssetWatcher)",
    schedule=[evaluation_succeeded],
    start_date=datetime(2025, 1, 1),
    catchup=False,
    tags=["example", "sagemaker-evaluation"],
    doc_md=__doc__,
):

    @task
    def ended_executions(triggering_asset_events: Any = None) -> list[str]:
        """Every execution whose end this run consumed."""
        return ended_execution_arns(triggering_asset_events)

    EvaluationGateOperator.partial(
        task_id="quality_gate", min_delta_vs_base=0.0, aws_conn_id=AWS_CONN_ID
    ).expand(execution_arn=ended_executions())
