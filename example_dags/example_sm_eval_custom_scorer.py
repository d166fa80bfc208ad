"""Custom scorer evaluation: score generated answers with a built-in metric or your own evaluator.

``evaluate`` is the SageMaker SDK's ``CustomScorerEvaluator`` as an operator: ``evaluator`` is a
built-in metric (``prime_math``, ``prime_code``) or the hub-content ARN of an evaluator of your
own. It starts the evaluation and waits for it in the worker (``deferrable=False``): the
simplest setup, fine for short evaluations or deployments without a triggerer. It polls every
``SM_EVAL_POLL_SECONDS`` seconds, logs the step table whenever a step changes status, and
stops the execution if the task is killed or times out (``stop_on_kill``, the default).
Retries reattach to the execution the first try started instead of starting a second one.

``quality_floor`` then checks an absolute floor on the custom model's score, and that the custom
model does not lose more than one point to the base model.

Params and environment as in ``example_sm_eval_llm_as_judge``.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG, Param

from airflow_provider_sm_eval.operators.evaluation_gate import EvaluationGateOperator
from airflow_provider_sm_eval.operators.evaluators import CustomScorerEvaluationOperator

MODEL = os.environ.get(
    "SM_EVAL_MODEL", "arn:aws:sagemaker:us-east-1:123456789012:model-package/llama-3-2-1b-finetuned/1"
)
DATASET = os.environ.get("SM_EVAL_DATASET", "s3://sm-eval-example/datasets/prompts.jsonl")
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
        "model": Param(MODEL, type="string", description="The fine-tuned model package to evaluate"),
        "dataset": Param(
            DATASET,
            type="string",
            description="JSONL file of questions and reference answers (or a hub DataSet ARN)",
        ),
        "evaluator": Param("prime_math", type="string", description="Built-in metric or evaluator ARN"),
    },
) as dag:
    evaluate = CustomScorerEvaluationOperator(
        task_id="evaluate",
        model="{{ params.model }}",
        evaluator="{{ params.evaluator }}",
        dataset="{{ params.dataset }}",
        evaluate_base_model=True,
        base_eval_name="fine-tuned-prime-math",
        role_arn="{{ params.role_arn }}",
        s3_output_path="{{ params.s3_output_path }}/custom-scorer",
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
