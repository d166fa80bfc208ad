"""Benchmark evaluation: does the fine-tuned (custom) model beat its base model?

``evaluate`` is the SageMaker SDK's ``BenchMarkEvaluator`` as an operator: with the same
arguments it looks up the model package's base model in SageMaker's public hub, builds the
pipeline definition the SDK would build, starts a benchmark evaluation (MMLU by default) of the
fine-tuned model package against its base model, and waits for it in the triggerer
(``deferrable=True``): no worker slot is held while SageMaker works. The definition it built is
in the task's rendered view and in its log. When the execution succeeds, its step details and
the summary of its results (metrics per model, custom minus base deltas) are in XCom, and
the task log shows the step table and the results table. ``custom_beats_base`` then fails
the run unless the custom model is at least as good as the base model on every metric and
reaches an absolute accuracy floor.

Connection and AWS resources come from DAG params (defaults from the environment):
``aws_conn_id`` (``SM_EVAL_AWS_CONN_ID``, default ``aws_default``), ``role_arn``
(``SM_EVAL_ROLE_ARN``), ``s3_output_path`` (``SM_EVAL_S3_OUTPUT_PATH``) and the model package
to evaluate (``SM_EVAL_MODEL``). ``SM_EVAL_POLL_SECONDS`` sets how often the execution is
polled (default 30).

Try it locally against the emulator: ``make demo``, or start
``python -m sagemaker_eval_emulator --port 8900``, create the bucket, point
``AIRFLOW_CONN_AWS_DEFAULT`` at ``http://127.0.0.1:8900`` (``endpoint_url`` in the extra)
and run ``airflow dags test example_sm_eval_benchmark``.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, Param

from airflow_provider_sm_eval.operators.evaluation_gate import EvaluationGateOperator
from airflow_provider_sm_eval.operators.evaluators import BenchmarkEvaluationOperator

#: The model to evaluate: a model package fine-tuned from a JumpStart model (the emulator has this one).
MODEL = os.environ.get(
    "SM_EVAL_MODEL", "arn:aws:sagemaker:us-east-1:123456789012:model-package/llama-3-2-1b-finetuned/1"
)
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
        "model": Param(MODEL, type="string", description="The fine-tuned model package to evaluate"),
    },
) as dag:
    evaluate = BenchmarkEvaluationOperator(
        task_id="evaluate",
        benchmark="mmlu",
        subtasks=["abstract_algebra", "college_computer_science"],
        model="{{ params.model }}",
        evaluate_base_model=True,
        base_eval_name="fine-tuned-vs-base-mmlu",
        role_arn="{{ params.role_arn }}",
        s3_output_path="{{ params.s3_output_path }}/benchmark",
        mlflow_run_name="{{ run_id }}",
        tags={"team": "ml-platform", "purpose": "release-evaluation"},
        deferrable=True,
        poll_interval=POLL_SECONDS,
        aws_conn_id="{{ params.aws_conn_id }}",
    )

    # The evaluation's return value carries the results summary: no extra S3 read needed.
    custom_beats_base = EvaluationGateOperator(
        task_id="custom_beats_base",
        summary=evaluate.output,
        min_delta_vs_base=0.0,
        thresholds={"acc": {"min": 0.5}},
    )
