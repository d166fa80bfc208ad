"""LLM-as-judge evaluation: does a judge model prefer the fine-tuned model's answers?

The steps are split so that each one can be retried, timed out and watched on its own:

1. ``start`` is the SageMaker SDK's ``LLMAsJudgeEvaluator`` as an operator: it builds the
   definition the SDK would (the judge, the prompts, the built-in and custom metrics), starts
   the evaluation and returns at once (``wait_for_completion=False``); the execution ARN is in
   XCom and the task's extra links open the execution in the console.
2. ``wait`` is a deferrable sensor: it waits in the triggerer and fails with the failed steps,
   their reasons and log links if the execution does not succeed.
3. ``read_results`` reads the results (judge scores per metric, custom-vs-base win rates,
   per-example records streamed from S3) into a bounded summary in XCom and logs the tables.
4. ``judge_prefers_custom`` fails the run unless the judge prefers the custom model on at
   least half of the prompts and its correctness score reaches a floor.

Params and environment as in ``example_sm_eval_benchmark``: ``aws_conn_id``, ``role_arn``,
``s3_output_path`` (``SM_EVAL_AWS_CONN_ID``, ``SM_EVAL_ROLE_ARN``, ``SM_EVAL_S3_OUTPUT_PATH``),
the model (``SM_EVAL_MODEL``), the prompts (``SM_EVAL_DATASET``), and ``SM_EVAL_POLL_SECONDS``
for the polling interval.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG, Param, XComArg

from airflow_provider_sm_eval.operators.evaluation_gate import EvaluationGateOperator
from airflow_provider_sm_eval.operators.evaluation_results import EvaluationResultsOperator
from airflow_provider_sm_eval.operators.evaluators import LLMAsJudgeEvaluationOperator
from airflow_provider_sm_eval.sensors.evaluation_execution import EvaluationExecutionSensor

MODEL = os.environ.get(
    "SM_EVAL_MODEL", "arn:aws:sagemaker:us-east-1:123456789012:model-package/llama-3-2-1b-finetuned/1"
)
DATASET = os.environ.get("SM_EVAL_DATASET", "s3://sm-eval-example/datasets/prompts.jsonl")
#: A metric of your own, judged next to the built-in ones. ``{{prompt}}`` and ``{{prediction}}``
#: are the judge's placeholders: ``custom_metrics`` is not templated by Airflow.
CUSTOM_METRICS = [
    {
        "customMetricDefinition": {
            "name": "Concise",
            "instructions": "Is the response concise? Prompt: {{prompt}}\nResponse: {{prediction}}",
            "ratingScale": [
                {"definition": "Concise", "value": {"floatValue": 1.0}},
                {"definition": "Verbose", "value": {"floatValue": 0.0}},
            ],
        }
    }
]
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
        "model": Param(MODEL, type="string", description="The fine-tuned model package to evaluate"),
        "dataset": Param(
            DATASET,
            type="string",
            description="JSONL file of prompts both models answer (or a hub DataSet ARN)",
        ),
        "judge_model_id": Param("anthropic.claude-3-5-sonnet-20240620-v1:0", type="string"),
    },
) as dag:
    start = LLMAsJudgeEvaluationOperator(
        task_id="start",
        model="{{ params.model }}",
        evaluator_model="{{ params.judge_model_id }}",
        dataset="{{ params.dataset }}",
        builtin_metrics=["Correctness", "Helpfulness"],
        custom_metrics=CUSTOM_METRICS,
        evaluate_base_model=True,
        base_eval_name="fine-tuned-vs-base-judged",
        role_arn="{{ params.role_arn }}",
        s3_output_path="{{ params.s3_output_path }}/llm-as-judge",
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
