"""Facts of SageMaker evaluation pipelines, defined once and imported everywhere.

Evaluation types and their pipeline name prefixes follow the SageMaker Python SDK's
``sagemaker.train.evaluate`` conventions, so that executions started here and there are
visible to both.
"""

from __future__ import annotations

import re
from enum import Enum


class EvalType(str, Enum):  # not StrEnum: str() and format() must stay as they are for importers
    """Kind of evaluation; its value is the SDK's. What differs per type is in ``types.registry``."""

    BENCHMARK = "benchmark"
    CUSTOM_SCORER = "customscorer"
    LLM_AS_JUDGE = "llmasjudge"

    @classmethod
    def parse(cls, value: str | EvalType) -> EvalType:
        """Return the member for ``value`` (a member, its value or its name), else raise ValueError."""
        if isinstance(value, cls):
            return value
        text = str(value).strip()
        for member in cls:
            if text.lower() in (member.value, member.name.lower()):
                return member
        allowed = ", ".join(m.value for m in cls)
        raise ValueError(f"eval_type {value!r} is not one of: {allowed}")


#: Tag that marks a pipeline as an evaluation pipeline (the SDK filters on it).
EVALUATION_TAG_KEY = "SagemakerModelEvaluation"
EVALUATION_TAG_VALUE = "true"


class ExecutionStatus(str, Enum):  # not StrEnum: str() and format() must stay as they are for importers
    """``PipelineExecutionStatus`` values of the SageMaker API."""

    EXECUTING = "Executing"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    FAILED = "Failed"
    SUCCEEDED = "Succeeded"
    COMPLETED_WITH_FAILURES = "CompletedWithFailures"


class StepStatus(str, Enum):  # not StrEnum: str() and format() must stay as they are for importers
    """``StepStatus`` values of the SageMaker API."""

    STARTING = "Starting"
    EXECUTING = "Executing"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    FAILED = "Failed"
    SUCCEEDED = "Succeeded"


#: Execution statuses after which nothing changes any more (the SDK forgets all but Failed).
TERMINAL_STATUSES: frozenset[ExecutionStatus] = frozenset(
    {
        ExecutionStatus.SUCCEEDED,
        ExecutionStatus.FAILED,
        ExecutionStatus.STOPPED,
        ExecutionStatus.COMPLETED_WITH_FAILURES,
    }
)
#: Terminal statuses that are not a success by default.
UNSUCCESSFUL_STATUSES: frozenset[ExecutionStatus] = TERMINAL_STATUSES - {ExecutionStatus.SUCCEEDED}
#: Statuses in which StopPipelineExecution is accepted.
STOPPABLE_STATUSES: frozenset[ExecutionStatus] = frozenset({ExecutionStatus.EXECUTING})
#: Statuses from which RetryPipelineExecution resumes the failed or stopped steps.
RETRYABLE_STATUSES: frozenset[ExecutionStatus] = frozenset({ExecutionStatus.FAILED, ExecutionStatus.STOPPED})
#: ListPipelineExecutions' largest page (MaxResults 1-100; without it the API answers 10 per page).
LIST_EXECUTIONS_PAGE_SIZE = 100


def parse_terminal_status(value: ExecutionStatus | str, *, name: str) -> ExecutionStatus:
    """``value`` as a terminal ExecutionStatus; ValueError naming ``name`` for anything else."""
    try:
        status = ExecutionStatus(value)
    except ValueError:
        status = None
    if status not in TERMINAL_STATUSES:
        allowed = ", ".join(sorted(s.value for s in TERMINAL_STATUSES))
        raise ValueError(f"{name} {value!r} is not a terminal status ({allowed})")
    return status


TERMINAL_STEP_STATUSES: frozenset[StepStatus] = frozenset(
    {StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.STOPPED}
)


class StepName(str, Enum):  # not StrEnum: str() and format() must stay as they are for importers
    """Step names inside the SDK's evaluation pipeline templates."""

    CREATE_EVALUATION_ACTION = "CreateEvaluationAction"
    EVALUATE_BASE_MODEL = "EvaluateBaseModel"
    EVALUATE_CUSTOM_MODEL = "EvaluateCustomModel"
    EVALUATE_BASE_INFERENCE_MODEL = "EvaluateBaseInferenceModel"
    EVALUATE_CUSTOM_INFERENCE_MODEL = "EvaluateCustomInferenceModel"
    EVALUATE_BASE_MODEL_METRICS = "EvaluateBaseModelMetrics"
    EVALUATE_CUSTOM_MODEL_METRICS = "EvaluateCustomModelMetrics"
    ASSOCIATE_LINEAGE = "AssociateLineage"


#: Steps whose training jobs write the result files, per result family: (custom, base).
BENCHMARK_RESULT_STEPS: tuple[StepName, StepName] = (
    StepName.EVALUATE_CUSTOM_MODEL,
    StepName.EVALUATE_BASE_MODEL,
)
LLMAJ_RESULT_STEPS: tuple[StepName, StepName] = (
    StepName.EVALUATE_CUSTOM_MODEL_METRICS,
    StepName.EVALUATE_BASE_MODEL_METRICS,
)

#: Version string of pipeline definitions.
PIPELINE_DEFINITION_VERSION = "2020-12-01"

#: ARN partitions and their console domains.
PARTITION_CONSOLE_DOMAINS: dict[str, str] = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}

#: Pipeline parameter that receives ``s3_output_path`` when a definition declares it.
S3_OUTPUT_PATH_PARAMETER = "S3OutputPath"

#: Placeholder the SageMaker SDK's evaluators leave in rendered definitions; replaced by the
#: pipeline's real name when the pipeline is created or updated.
PIPELINE_NAME_PLACEHOLDER = re.compile(r"\{\{\s*pipeline_name\s*\}\}")

#: Inference hyperparameters an evaluation recipe takes (the SDK's override parameters of the hub
#: recipe): the evaluator operators' arguments, the inputs' fields, the names checked against a
#: model's recipe spec.
INFERENCE_HYPERPARAMETERS = (
    "max_new_tokens",
    "temperature",
    "top_k",
    "top_p",
    "aggregation",
    "postprocessing",
    "max_model_len",
)
