"""LLM-as-judge evaluation: does a judge model prefer the fine-tuned model's answers?

The steps are split so that each one can be retried, timed out and watched on its own:

1. ``start`` starts the evaluation and returns at once (``wait_for_completion=False``); the
   execution ARN is in XCom and the task's extra links open the execution in the console.
2. ``wait`` is a deferrable sensor: it waits in the triggerer and fails with the failed steps,
   their reasons and log links if the execution does not succeed.
3. ``read_results`` reads the results (judge scores per metric, custom-vs-base win rates,
   per-example records streamed from S3) into a bounded summary in XCom and logs the tables.
4. ``judge_prefers_custom`` fails the run unless the judge prefers the custom model on at
   least half of the prompts and its correctness score reaches a floor.

Params and environment as in ``example_sm_eval_benchmark``: ``aws_conn_id``, ``role_arn``,
``s3_output_path`` (``SM_EVAL_AWS_CONN_ID``, ``SM_EVAL_ROLE_ARN``, ``SM_EVAL_S3_OUTPUT_PATH``),
and ``SM_EVAL_POLL_SECONDS`` for the polling interval.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import DAG, Param, XComArg

from airflow_provider_sm_eval.operators.evaluation_gate import EvaluationGateOperator
from airflow_provider_sm_eval.operators.evaluation_results import EvaluationResultsOperator
from airflow_provider_sm_eval.operators.start_evaluation import StartEvaluationOperator
from airflow_provider_sm_eval.sensors.evaluation_execution import EvaluationExecutionSensor

PIPELINE_DEFINITION = Path(__file__).resolve().parent / "pipeline_definitions" / "llm_as_judge.json"
POLL_SECONDS = float(os.environ.get("SM_EVAL_POLL_SECONDS", "30"))

with DAG(
    dag_id="example_sm_eval_llm_as_judge",
    description="Judge a fine-tuned model against its base model with an LLM on SageMaker",
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
        "prompts_s3_uri": Param(
            "s3://my-evaluation-bucket/datasets/prompts.jsonl",
            type="string",
            description="JSONL file of prompts both models answer",
        ),
        "judge_model_id": Param("anthropic.claude-3-5-sonnet-20240620-v1:0", type="string"),
    },
) as dag:
    start = StartEvaluationOperator(
        task_id="start",
        eval_type="llmasjudge",
        evaluation_name="fine-tuned-vs-base-judged",
        pipeline_definition=str(PIPELINE_DEFINITION),
        role_arn="{{ params.role_arn }}",
        s3_output_path="{{ params.s3_output_path }}/llm-as-judge",
        pipeline_parameters={
            "RoleArn": "{{ params.role_arn }}",
            "CustomModelPackageArn": "{{ params.model_package_arn }}",
            "DatasetS3Uri": "{{ params.prompts_s3_uri }}",
            "JudgeModelId": "{{ params.judge_model_id }}",
        },
        wait_for_completion=False,
        aws_conn_id="{{ params.aws_conn_id }}",
    )

    wait = EvaluationExecutionSensor(
        task_id="wait",
        execution_arn=XComArg(start, key="execution_arn"),
        deferrable=True,
        poke_interval=POLL_SECONDS,
        timeout=timedelta(hours=6).total_seconds(),
        aws_conn_id="{{ params.aws_conn_id }}",
    )

    read_results = EvaluationResultsOperator(
        task_id="read_results",
        execution_arn=XComArg(start, key="execution_arn"),
        results_log_limit=3,
        aws_conn_id="{{ params.aws_conn_id }}",
    )

    judge_prefers_custom = EvaluationGateOperator(
        task_id="judge_prefers_custom",
        summary=read_results.output,
        min_win_rate=0.5,
        thresholds={"Builtin.Correctness": 0.5},
    )

    wait >> read_results
