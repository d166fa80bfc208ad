"""Nightly evaluation with a quality gate in front of the model promotion.

Every night ``evaluate`` benchmarks the latest fine-tuned model package against its base model
(deferred wait). ``quality_gate`` lets ``promote_model`` run only if the custom model

- beats the base model on every metric (``min_delta_vs_base=0``),
- reaches an absolute accuracy floor (``thresholds``), and
- is no more than two points worse on any metric than the model promoted last time
  (``baseline_summary`` from the Airflow Variable ``sm_eval_promoted_summary``, ``max_regression``).

On a failed gate the run does not fail: ``on_failure="skip"`` skips ``promote_model`` (and
anything after it), like ShortCircuitOperator, so the currently promoted model stays in place
and the gate report in XCom (``gate_report``) says which rule was violated, with the values.
On the first run there is no Variable yet, so there is no baseline to compare with.

``promote_model`` stands in for your promotion step (approving the model package in the model
registry, updating an endpoint, ...): it records the promoted model's evaluation summary in the
Variable, which becomes the next night's baseline.

Params and environment as in ``example_sm_eval_benchmark``.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, Variable, task

from airflow_provider_sm_eval.operators.evaluation_gate import EvaluationGateOperator
from airflow_provider_sm_eval.operators.start_evaluation import StartEvaluationOperator

PIPELINE_DEFINITION = Path(__file__).resolve().parent / "pipeline_definitions" / "benchmark.json"
POLL_SECONDS = float(os.environ.get("SM_EVAL_POLL_SECONDS", "30"))
#: Airflow Variable holding the evaluation summary of the model promoted last.
PROMOTED_SUMMARY_VARIABLE = "sm_eval_promoted_summary"

with DAG(
    dag_id="example_sm_eval_scheduled_gate",
    description="Nightly benchmark of the latest fine-tuned model; promote it only if it passes the gate",
    schedule="0 2 * * *",
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    # The baseline Variable renders to a dict, or to None before the first promotion.
    render_template_as_native_obj=True,
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
            description="The fine-tuned model package to evaluate and promote",
        ),
    },
) as dag:
    evaluate = StartEvaluationOperator(
        task_id="evaluate",
        eval_type="benchmark",
        evaluation_name="nightly-{{ ds_nodash }}",
        pipeline_definition=str(PIPELINE_DEFINITION),
        role_arn="{{ params.role_arn }}",
        s3_output_path="{{ params.s3_output_path }}/nightly/{{ ds_nodash }}",
        pipeline_parameters={
            "RoleArn": "{{ params.role_arn }}",
            "CustomModelPackageArn": "{{ params.model_package_arn }}",
        },
        deferrable=True,
        poll_interval=POLL_SECONDS,
        aws_conn_id="{{ params.aws_conn_id }}",
    )

    quality_gate = EvaluationGateOperator(
        task_id="quality_gate",
        summary=evaluate.output,
        min_delta_vs_base=0.0,
        thresholds={"acc": 0.5},
        baseline_summary=f"{{{{ var.json.get('{PROMOTED_SUMMARY_VARIABLE}', None) }}}}",
        # No baseline before the first promotion: the regression rule then renders to None too
        # (a baseline rendered empty while max_regression is set fails the gate).
        max_regression=f"{{{{ 0.02 if var.json.get('{PROMOTED_SUMMARY_VARIABLE}', None) else None }}}}",
        on_failure="skip",
    )

    @task
    def promote_model(evaluation: dict[str, Any], model_package_arn: str) -> str:
        """Promote the model that passed the gate; its summary becomes the next baseline."""
        Variable.set(PROMOTED_SUMMARY_VARIABLE, evaluation["results"], serialize_json=True)
        print(f"Promoted {model_package_arn} (evaluation {evaluation['execution_arn']})")
        return model_package_arn

    quality_gate >> promote_model(evaluate.output, "{{ params.model_package_arn }}")
