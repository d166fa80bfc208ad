"""Benchmark evaluation: does the fine-tuned (custom) model beat its base model?

``evaluate`` starts a SageMaker benchmark evaluation (MMLU by default) of a fine-tuned model
package against its base model and waits for it in the triggerer (``deferrable=True``): no
worker slot is held while SageMaker works. When the execution succeeds, its step details and
the summary of its results (metrics per model, custom minus base deltas) are in XCom, and
the task log shows the step table and the results table. ``custom_beats_base`` then fails
the run unless the custom model is at least as good as the base model on every metric and
reaches an absolute accuracy floor.

Connection and AWS resources come from DAG params (defaults from the environment):
``aws_conn_id`` (``SM_EVAL_AWS_CONN_ID``, default ``aws_default``), ``role_arn``
(``SM_EVAL_ROLE_ARN``), ``s3_output_path`` (``SM_EVAL_S3_OUTPUT_PATH``) and the model package
to evaluate. ``SM_EVAL_POLL_SECONDS`` sets how often the execution is polled (default 30).

Try it locally against the emulator: ``make demo``, or start
``python -m airflow_provider_sm_eval.emulator --port 8900``, create the bucket, point
``AIRFLOW_CONN_AWS_DEFAULT`` at ``http://127.0.0.1:8900`` (``endpoint_url`` in the extra)
and run ``airflow dags test example_sm_eval_benchmark``.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG, Param

from airflow_provider_sm_eval.operators.evaluation_gate import EvaluationGateOperator
from airflow_provider_sm_eval.operators.start_evaluation import StartEvaluationOperator

PIPELINE_DEFINITION = Path(__file__).resolve().parent / "pipeline_definitions" / "benchmark.json"
POLL_SECONDS = float(os.environ.get("SM_EVAL_POLL_SECONDS", "30"))

with DAG(
    dag_id="example_sm_eval_benchmark",
    description="Benchmark a fine-tuned model against its base model on SageMaker",
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    tags=["example", "sagemaker-evaluation"],
    doc_md=__doc__,
    params={
        "aws_conn_id": Param(os.environ.get("SM_EVAL_AWS_CONN_ID", "aws_default"), type="string"),
        "role_arn": Param(
            os.environ.get("SM_EVAL_ROLE_ARN", "arn:aws:iam::123456789012:role/SageMakerEvaluationRole"),
            type="string",
            description="IAM role the evaluation pipeline runs as",
        ),
        "s3_output_path": Param(
            os.environ.get("SM_EVAL_S3_OUTPUT_PATH", "s3://sm-eval-example/evaluations"),
            type="string",
            description="S3 prefix that receives the evaluation results",
        ),
        "model_package_arn": Param(
            "arn:aws:sagemaker:us-east-1:123456789012:model-package/my-fine-tuned-model/1",
            type="string",
            description="The fine-tuned model package to evaluate",
        ),
        "benchmark": Param("mmlu", type="string"),
    },
) as dag:
    evaluate = StartEvaluationOperator(
        task_id="evaluate",
        eval_type="benchmark",
        evaluation_name="fine-tuned-vs-base-{{ params.benchmark }}",
        pipeline_definition=str(PIPELINE_DEFINITION),
        role_arn="{{ params.role_arn }}",
        s3_output_path="{{ params.s3_output_path }}/benchmark",
        pipeline_parameters={
            "RoleArn": "{{ params.role_arn }}",
            "CustomModelPackageArn": "{{ params.model_package_arn }}",
            "Benchmark": "{{ params.benchmark }}",
        },
        tags={"team": "ml-platform", "purpose": "release-evaluation"},
        deferrable=True,
        poll_interval=POLL_SECONDS,
        aws_conn_id="{{ params.aws_conn_id }}",
    )

    # The start operator's return value carries the results summary: no extra S3 read needed.
    custom_beats_base = EvaluationGateOperator(
        task_id="custom_beats_base",
        summary=evaluate.output,
        min_delta_vs_base=0.0,
        thresholds={"acc": {"min": 0.5}},
    )
