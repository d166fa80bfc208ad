"""Custom scorer evaluation: score generated answers with your own evaluator (BLEU, ROUGE, exact match).

``evaluate`` starts the evaluation and waits for it in the worker (``deferrable=False``): the
simplest setup, fine for short evaluations or deployments without a triggerer. It polls every
``SM_EVAL_POLL_SECONDS`` seconds, logs the step table whenever a step changes status, and
stops the execution if the task is killed or times out (``stop_on_kill``, the default).
Retries reattach to the execution the first try started instead of starting a second one.

``quality_floor`` then checks absolute floors on the custom model's scores, and that the custom
model does not lose more than one point of ROUGE-L to the base model.

Params and environment as in ``example_sm_eval_benchmark``.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import DAG, Param

from airflow_provider_sm_eval.operators.evaluation_gate import EvaluationGateOperator
from airflow_provider_sm_eval.operators.start_evaluation import StartEvaluationOperator

PIPELINE_DEFINITION = Path(__file__).resolve().parent / "pipeline_definitions" / "custom_scorer.json"
POLL_SECONDS = float(os.environ.get("SM_EVAL_POLL_SECONDS", "30"))

with DAG(
    dag_id="example_sm_eval_custom_scorer",
    description="Score a fine-tuned model with a custom evaluator on SageMaker",
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    tags=["example", "sagemaker-evaluation"],
    doc_md=__doc__,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
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
        "dataset_s3_uri": Param(
            "s3://my-evaluation-bucket/datasets/gen_qa.jsonl",
            type="string",
            description="JSONL file of questions and reference answers",
        ),
    },
) as dag:
    evaluate = StartEvaluationOperator(
        task_id="evaluate",
        eval_type="customscorer",
        evaluation_name="fine-tuned-gen-qa",
        pipeline_definition=str(PIPELINE_DEFINITION),
        role_arn="{{ params.role_arn }}",
        s3_output_path="{{ params.s3_output_path }}/custom-scorer",
        pipeline_parameters={
            "RoleArn": "{{ params.role_arn }}",
            "CustomModelPackageArn": "{{ params.model_package_arn }}",
            "DatasetS3Uri": "{{ params.dataset_s3_uri }}",
            "Evaluator": "gen_qa",
        },
        deferrable=False,
        poll_interval=POLL_SECONDS,
        execution_timeout=timedelta(hours=4),
        aws_conn_id="{{ params.aws_conn_id }}",
    )

    quality_floor = EvaluationGateOperator(
        task_id="quality_floor",
        summary=evaluate.output,
        thresholds={"rougeL": 0.4, "bleu": 0.3},
        min_delta_vs_base={"rougeL": -0.01},
    )
