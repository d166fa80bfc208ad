"""Writers of result files at the spec's S3 layouts, and executions pointing at them."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_sm_eval.evaluation.constants import (
    BENCHMARK_RESULT_STEPS,
    LLMAJ_RESULT_STEPS,
    EvalType,
    ExecutionStatus,
    StepName,
    StepStatus,
)
from airflow_provider_sm_eval.evaluation.execution import EvaluationPipelineExecution
from airflow_provider_sm_eval.evaluation.models import PipelineExecutionStatus, StepDetail
from airflow_provider_sm_eval.evaluation.s3_layout import (
    LLMAJ_AGGREGATE_FILE,
    S3Uri,
    job_output_prefix,
    llmaj_examples_prefix,
)
from airflow_provider_sm_eval.evaluation.types.registry import kind_of

REGION = "us-east-1"
ACCOUNT = "123456789012"


def put_text(s3: Any, uri: S3Uri, text: str) -> None:
    s3.put_object(Bucket=uri.bucket, Key=uri.key, Body=text.encode())


def benchmark_result(s3: Any, root: S3Uri, job_name: str, results: dict[str, Any]) -> S3Uri:
    uri = job_output_prefix(root, job_name).join("results_2026-11-28.json")
    put_text(s3, uri, json.dumps({"results": results}))
    return uri


def judge_record(prompt: str, response: str, scores: dict[str, float]) -> dict[str, Any]:
    """One per-example record shaped as the judge writes it."""
    return {
        "inputRecord": {"prompt": str([{"role": "user", "content": prompt}])},
        "modelResponses": [{"response": str([response])}],
        "automatedEvaluationResult": {
            "scores": [
                {
                    "metricName": name,
                    "result": value,
                    "evaluatorDetails": [{"explanation": f"{name} because"}],
                }
                for name, value in scores.items()
            ]
        },
    }


def llmaj_result(
    s3: Any,
    root: S3Uri,
    *,
    job_name: str,
    judge_job_name: str,
    aggregate: dict[str, dict[str, float]],
    records: list[dict[str, Any]] | None,
) -> tuple[S3Uri, S3Uri]:
    """Write an aggregate file and (when ``records`` is not None) a per-example file."""
    aggregate_uri = job_output_prefix(root, job_name).join(
        judge_job_name, "eval_results", LLMAJ_AGGREGATE_FILE
    )
    put_text(s3, aggregate_uri, json.dumps({"job_name": judge_job_name, "results": aggregate}))
    examples_uri = llmaj_examples_prefix(root, judge_job_name).join("dataset_output.jsonl")
    if records is not None:
        put_text(s3, examples_uri, "".join(json.dumps(r) + "\n" for r in records))
    return aggregate_uri, examples_uri


def job_arn(job_name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/{job_name}"


def succeeded_execution(
    eval_type: EvalType, root: S3Uri | None, jobs: dict[StepName, str]
) -> EvaluationPipelineExecution:
    """A Succeeded execution whose result steps ran the given training jobs."""
    start = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
    steps = [
        StepDetail(
            name=name.value,
            status=StepStatus.SUCCEEDED,
            start_time=start + timedelta(seconds=i),
            end_time=start + timedelta(seconds=i + 1),
            job_arn=job_arn(job),
        )
        for i, (name, job) in enumerate(jobs.items())
    ]
    pipeline = f"{kind_of(eval_type).pipeline_name_prefix}-{uuid.uuid4()}".lower()
    execution_id = uuid.uuid4().hex[:12]
    return EvaluationPipelineExecution.model_validate(
        {
            "arn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/{pipeline}/execution/{execution_id}",
            "name": "my-eval",
            "eval_type": eval_type,
            "status": PipelineExecutionStatus(overall_status=ExecutionStatus.SUCCEEDED, step_details=steps),
            "pipeline_name": pipeline,
            "s3_output_path": str(root) if root else None,
        }
    )


CUSTOM_BENCHMARK_STEP, BASE_BENCHMARK_STEP = BENCHMARK_RESULT_STEPS
CUSTOM_METRICS_STEP, BASE_METRICS_STEP = LLMAJ_RESULT_STEPS
