"""Lifecycle core of SageMaker evaluation executions: models, lifecycle, results. Imports no Airflow.

Keeps the contract of the SageMaker SDK's ``sagemaker.train.evaluate.execution``::

    execution = EvaluationPipelineExecution.start(
        "llmasjudge", "my-eval", "llm_as_judge.json", role_arn, "s3://bucket/evaluations"
    )
    execution.wait(poll=30, timeout=3 * 3600)
    print(execution.render_results(limit=5))
    summary = execution.summary()  # bounded, JSON-serializable

Importing this package (or ``.constants``, ``.models``, ``.exceptions``) does not import boto3.
The names below other than constants and exceptions are loaded when first used, so that an
Airflow DAG file importing an operator (and with it ``.constants``) loads no more than it needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from airflow_provider_sm_eval.evaluation.constants import EvalType, ExecutionStatus, StepStatus
from airflow_provider_sm_eval.evaluation.exceptions import (
    EvaluationAWSError,
    EvaluationCompletedWithFailuresError,
    EvaluationError,
    EvaluationExecutionError,
    EvaluationFailedError,
    EvaluationStoppedError,
    EvaluationTimeoutError,
    InvalidInputError,
    ResultFileError,
    ResultsNotAvailableError,
    execution_error_for,
)

if TYPE_CHECKING:
    from airflow_provider_sm_eval.evaluation.clients import AwsClients
    from airflow_provider_sm_eval.evaluation.execution import (
        BenchmarkEvaluationExecution,
        EvaluationPipelineExecution,
        LLMAJEvaluationExecution,
    )
    from airflow_provider_sm_eval.evaluation.models import PipelineExecutionStatus, StepDetail
    from airflow_provider_sm_eval.evaluation.request import StartRequest
    from airflow_provider_sm_eval.evaluation.results.summary import EvaluationSummary, WinRateSummary

_LAZY: dict[str, str] = {
    "AwsClients": "clients",
    "BenchmarkEvaluationExecution": "execution",
    "EvaluationPipelineExecution": "execution",
    "LLMAJEvaluationExecution": "execution",
    "PipelineExecutionStatus": "models",
    "StepDetail": "models",
    "StartRequest": "request",
    "EvaluationSummary": "results.summary",
    "WinRateSummary": "results.summary",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "AwsClients",
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
    "InvalidInputError",
    "LLMAJEvaluationExecution",
    "PipelineExecutionStatus",
    "ResultFileError",
    "ResultsNotAvailableError",
    "StartRequest",
    "StepDetail",
    "StepStatus",
    "WinRateSummary",
    "execution_error_for",
]
