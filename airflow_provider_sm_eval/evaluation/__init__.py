"""Lifecycle core of SageMaker evaluation executions: models, lifecycle, results. Imports no Airflow.

Keeps the contract of the SageMaker SDK's ``sagemaker.train.evaluate.execution``::

    execution = EvaluationPipelineExecution.start(
        "llmasjudge", "my-eval", "llm_as_judge.json", role_arn, "s3://bucket/evaluations"
    )
    execution.wait(poll=30, timeout=3 * 3600)
    print(execution.render_results(limit=5))
    summary = execution.summary()  # bounded, JSON-serializable

Importing this package (or ``.constants``, ``.models``, ``.exceptions``) does not import boto3.
"""

from airflow_provider_sm_eval.evaluation.constants import EvalType, ExecutionStatus, StepStatus
from airflow_provider_sm_eval.evaluation.exceptions import (
    EvaluationAWSError,
    EvaluationCompletedWithFailuresError,
    EvaluationError,
    EvaluationExecutionError,
    EvaluationFailedError,
    EvaluationStoppedError,
    EvaluationTimeoutError,
    ResultFileError,
    ResultsNotAvailableError,
    execution_error_for,
)
from airflow_provider_sm_eval.evaluation.models import (
    BenchmarkEvaluationExecution,
    EvaluationPipelineExecution,
    LLMAJEvaluationExecution,
    PipelineExecutionStatus,
    StepDetail,
)
from airflow_provider_sm_eval.evaluation.results import EvaluationSummary, WinRateSummary

__all__ = [
    "BenchmarkEvaluationExecution",
    "EvalType",
    "EvaluationAWSError",
    "EvaluationCompletedWithFailuresError",
    "EvaluationError",
    "EvaluationExecutionError",
    "EvaluationFailedError",
    "EvaluationPipelineExecution",
    "EvaluationStoppedError",
    "EvaluationSummary",
    "EvaluationTimeoutError",
    "ExecutionStatus",
    "LLMAJEvaluationExecution",
    "PipelineExecutionStatus",
    "ResultFileError",
    "ResultsNotAvailableError",
    "StepDetail",
    "StepStatus",
    "WinRateSummary",
    "execution_error_for",
]
