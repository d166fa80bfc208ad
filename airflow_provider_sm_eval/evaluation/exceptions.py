"""Errors raised by the evaluation lifecycle core.

Every AWS failure surfaces as an exception naming the operation and the resource; no error is
turned into a status string. This module imports neither boto3 nor Airflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_sm_eval.evaluation.constants import ExecutionStatus

if TYPE_CHECKING:
    from airflow_provider_sm_eval.evaluation.models import PipelineExecutionStatus, StepDetail


class EvaluationError(Exception):
    """Base class of every error of this package."""


class InvalidInputError(EvaluationError, ValueError):
    """An input was refused before any AWS call; ``field`` names it, the message says what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(message)

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return (type(self), (self.field, self.message))


#: Error codes of an AWS answer refusing a call for want of a permission.
ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
#: IAM actions of the S3 operations this package calls (every other one is SageMaker's).
_S3_ACTIONS = {"ListObjectsV2": "s3:ListBucket", "GetObject": "s3:GetObject"}


def iam_action(operation: str) -> str:
    """The IAM action that allows ``operation``: ``sagemaker:StopPipelineExecution``, ``s3:GetObject``."""
    return _S3_ACTIONS.get(operation, f"sagemaker:{operation}")


def access_denied_message(code: str, operation: str, resource: str, message: str) -> str:
    """What a refused permission is called, what it was refused on, and what to grant."""
    action = iam_action(operation)
    return f"{code} on {action} for {resource}: grant {action} to the caller's IAM role ({message})"


class EvaluationAWSError(EvaluationError):
    """An AWS API call failed; wraps botocore's ClientError. A refused permission is named."""

    def __init__(self, operation: str, resource: str, code: str, message: str) -> None:
        self.operation = operation
        self.resource = resource
        self.code = code
        self.message = message
        super().__init__(
            access_denied_message(code, operation, resource, message)
            if self.access_denied
            else f"{operation} on {resource} failed: {code}: {message}"
        )

    @property
    def access_denied(self) -> bool:
        """Whether AWS refused the call for want of a permission (:func:`iam_action` names it)."""
        return self.code in ACCESS_DENIED_CODES

    def __reduce__(self) -> tuple[type, tuple[str, str, str, str]]:
        return (type(self), (self.operation, self.resource, self.code, self.message))


class EvaluationExecutionError(EvaluationError):
    """An execution ended in a terminal status other than the one waited for."""

    def __init__(
        self,
        execution_arn: str,
        status: ExecutionStatus,
        failure_reason: str | None = None,
        failed_steps: list[StepDetail] | None = None,
    ) -> None:
        self.execution_arn = execution_arn
        self.status = ExecutionStatus(status)
        self.failure_reason = failure_reason
        self.failed_steps = list(failed_steps or [])
        super().__init__(self._message())

    def _message(self) -> str:
        lines = [f"Evaluation execution {self.execution_arn} ended with status {self.status.value}"]
        if self.failure_reason:
            lines[0] += f": {self.failure_reason}"
        for step in self.failed_steps:
            line = f"  step {step.name} {step.status.value}"
            if step.failure_reason:
                line += f": {step.failure_reason}"
            if step.job_arn:
                line += f" (job {step.job_arn})"
            lines.append(line)
        return "\n".join(lines)

    def __reduce__(self) -> tuple[type, tuple[str, ExecutionStatus, str | None, list[StepDetail]]]:
        return (type(self), (self.execution_arn, self.status, self.failure_reason, self.failed_steps))


class EvaluationFailedError(EvaluationExecutionError):
    """The execution ended ``Failed``."""


class EvaluationStoppedError(EvaluationExecutionError):
    """The execution ended ``Stopped``."""


class EvaluationCompletedWithFailuresError(EvaluationExecutionError):
    """The execution ended ``CompletedWithFailures``: some steps failed, the others succeeded."""


_ERRORS_BY_STATUS: dict[ExecutionStatus, type[EvaluationExecutionError]] = {
    ExecutionStatus.FAILED: EvaluationFailedError,
    ExecutionStatus.STOPPED: EvaluationStoppedError,
    ExecutionStatus.COMPLETED_WITH_FAILURES: EvaluationCompletedWithFailuresError,
}


def execution_error_for(status: PipelineExecutionStatus, arn: str) -> EvaluationExecutionError:
    """The error matching a terminal ``status``: its subclass carries the failed steps and reasons."""
    error_class = _ERRORS_BY_STATUS.get(status.overall_status, EvaluationExecutionError)
    return error_class(arn, status.overall_status, status.failure_reason, status.failed_steps)


class EvaluationTimeoutError(EvaluationError):
    """``wait`` gave up before the execution reached a terminal status."""

    def __init__(self, execution_arn: str, timeout: float, status: ExecutionStatus) -> None:
        self.execution_arn = execution_arn
        self.timeout = timeout
        self.status = ExecutionStatus(status)
        super().__init__(
            f"Evaluation execution {execution_arn} still {self.status.value} after {timeout:g} s"
        )

    def __reduce__(self) -> tuple[type, tuple[str, float, ExecutionStatus]]:
        return (type(self), (self.execution_arn, self.timeout, self.status))


class EvaluationStopError(EvaluationError):
    """An execution could not be stopped (a killed task's): it keeps running."""

    def __init__(self, execution_arn: str, reason: str) -> None:
        self.execution_arn = execution_arn
        self.reason = reason
        super().__init__(
            f"Could not stop evaluation execution {execution_arn}; it keeps running: {reason}. "
            "Stop it with StopEvaluationOperator or in the SageMaker console."
        )

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return (type(self), (self.execution_arn, self.reason))


class ResultsNotAvailableError(EvaluationError):
    """Results were asked for an execution that has not succeeded."""


class ResultFileError(EvaluationError):
    """A result file is missing or malformed."""

    def __init__(self, s3_uri: str, problem: str) -> None:
        self.s3_uri = s3_uri
        self.problem = problem
        super().__init__(f"Result file {s3_uri}: {problem}")

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return (type(self), (self.s3_uri, self.problem))
