"""What the emulator knows of the SageMaker service on its own: statuses, ARNs, S3 URIs, limits.

These facts are written here again, not imported from the provider's core: the emulator stands
for the real service, so where a client's idea of it is wrong the emulator must not agree by
construction. The SDK's pipeline definitions (``tests/fixtures/sdk_definitions``) and the
emulator tests check that both sides read the service alike.
"""

from __future__ import annotations

import re
from enum import Enum
from functools import lru_cache
from typing import NamedTuple

#: SageMaker's limit on an inline ``PipelineDefinition`` (characters).
MAX_DEFINITION_CHARS = 1_048_576


class ExecutionStatus(str, Enum):
    """``PipelineExecutionStatus`` values of the SageMaker API."""

    EXECUTING = "Executing"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    FAILED = "Failed"
    SUCCEEDED = "Succeeded"
    COMPLETED_WITH_FAILURES = "CompletedWithFailures"


class StepStatus(str, Enum):
    """``StepStatus`` values of the SageMaker API."""

    STARTING = "Starting"
    EXECUTING = "Executing"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    FAILED = "Failed"
    SUCCEEDED = "Succeeded"


#: Statuses in which StopPipelineExecution is accepted.
STOPPABLE_STATUSES = frozenset({ExecutionStatus.EXECUTING})
#: Statuses from which RetryPipelineExecution resumes the failed or stopped steps.
RETRYABLE_STATUSES = frozenset({ExecutionStatus.FAILED, ExecutionStatus.STOPPED})

_PARTITION = r"aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b"
_EXECUTION_ARN = re.compile(
    rf"^arn:(?:{_PARTITION}):sagemaker:[a-z0-9](?:-?[a-z0-9])*:\d{{12}}:"
    r"pipeline/[a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,255}/execution/[a-z0-9]{1,256}$"
)
_ROLE_ARN = re.compile(rf"^arn:(?:{_PARTITION}):iam::\d{{12}}:role/[\w+=,.@\-/]{{1,512}}$")
_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(?P<key>.*))?$")


@lru_cache(maxsize=64)
def partition_of(region: str) -> str:
    """The ARN partition of ``region`` from botocore's endpoint data; ``aws`` for one it does not know."""
    from botocore.exceptions import UnknownRegionError
    from botocore.session import get_session

    try:
        return str(get_session().get_partition_for_region(region))
    except UnknownRegionError:
        return "aws"


def pipeline_arn(partition: str, region: str, account: str, pipeline_name: str) -> str:
    """A pipeline's ARN; SageMaker writes the name in lower case there."""
    return f"arn:{partition}:sagemaker:{region}:{account}:pipeline/{pipeline_name.lower()}"


def check_execution_arn(arn: object, *, name: str) -> str:
    """``arn`` when it is a pipeline execution ARN; ValueError naming ``name`` otherwise."""
    if not isinstance(arn, str) or not _EXECUTION_ARN.match(arn.strip()):
        raise ValueError(
            f"{name} {arn!r} is not a SageMaker pipeline execution ARN of the form "
            "arn:aws:sagemaker:REGION:ACCOUNT:pipeline/NAME/execution/ID"
        )
    return arn


def check_role_arn(arn: object, *, name: str) -> str:
    """``arn`` (stripped) when it is an IAM role ARN; ValueError naming ``name`` otherwise."""
    if not isinstance(arn, str) or not _ROLE_ARN.match(arn.strip()):
        raise ValueError(f"{name} {arn!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
    return arn.strip()


class S3Uri(NamedTuple):
    """A parsed ``s3://bucket/key`` URI."""

    bucket: str
    key: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}" if self.key else f"s3://{self.bucket}"

    def join(self, *parts: str) -> S3Uri:
        """Append path parts with single slashes between them."""
        segments = [self.key.strip("/")] + [p.strip("/") for p in parts]
        return S3Uri(self.bucket, "/".join(s for s in segments if s))


def parse_s3_uri(uri: object, *, name: str) -> S3Uri:
    """Parse ``s3://bucket[/key]``; ValueError naming ``name`` when it is not one."""
    match = _S3_URI.match(uri.strip()) if isinstance(uri, str) else None
    if match is None or ".." in match.group("bucket"):
        raise ValueError(f"{name} {uri!r} is not an S3 URI of the form s3://bucket/prefix")
    return S3Uri(match.group("bucket"), (match.group("key") or "").rstrip("/"))
