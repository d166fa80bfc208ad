"""Pipeline and execution ARNs: parsing, validation and construction."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

_PARTITION = r"aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b"
#: A region as ARNs carry it: lower-case letters, digits and hyphens (a host label, never a dot or a slash).
_REGION = r"[a-z0-9](?:-?[a-z0-9])*"
_EXECUTION_ARN = re.compile(
    rf"^arn:(?P<partition>{_PARTITION}):sagemaker:(?P<region>{_REGION}):(?P<account>\d{{12}}):"
    r"pipeline/(?P<pipeline>[a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,255})/execution/(?P<execution>[a-z0-9]{1,256})$"
)
_JOB_ARN = re.compile(
    rf"^arn:(?P<partition>{_PARTITION}):sagemaker:(?P<region>{_REGION}):(?P<account>\d{{12}}):"
    r"(?P<kind>[a-z]+(?:-[a-z]+)*)/(?P<name>[a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62})$"
)
_ROLE_ARN = re.compile(rf"^arn:(?:{_PARTITION}):iam::\d{{12}}:role/[\w+=,.@\-/]{{1,512}}$")


class ExecutionArn(NamedTuple):
    """The parts of ``arn:PARTITION:sagemaker:REGION:ACCOUNT:pipeline/NAME/execution/ID``."""

    partition: str
    region: str
    account: str
    pipeline_name: str
    execution_id: str

    def __str__(self) -> str:
        return (
            f"arn:{self.partition}:sagemaker:{self.region}:{self.account}:"
            f"pipeline/{self.pipeline_name}/execution/{self.execution_id}"
        )

    @property
    def pipeline_arn(self) -> str:
        return pipeline_arn(self.partition, self.region, self.account, self.pipeline_name)


def parse_execution_arn(arn: str, *, name: str = "execution_arn") -> ExecutionArn:
    """Parse a pipeline execution ARN; raise ValueError naming ``name`` when it is malformed."""
    match = _EXECUTION_ARN.match(arn.strip()) if isinstance(arn, str) else None
    if match is None:
        raise ValueError(
            f"{name} {arn!r} is not a SageMaker pipeline execution ARN of the form "
            "arn:aws:sagemaker:REGION:ACCOUNT:pipeline/NAME/execution/ID"
        )
    return ExecutionArn(
        match["partition"], match["region"], match["account"], match["pipeline"], match["execution"]
    )


class JobArn(NamedTuple):
    """The parts of ``arn:PARTITION:sagemaker:REGION:ACCOUNT:KIND/NAME`` (a training, processing... job)."""

    partition: str
    region: str
    account: str
    kind: str
    name: str


def parse_job_arn(arn: str, *, name: str = "job_arn") -> JobArn:
    """Parse a SageMaker job ARN (``training-job/NAME`` and the like); ValueError naming ``name`` when
    it is malformed."""
    match = _JOB_ARN.match(arn) if isinstance(arn, str) else None
    if match is None:
        raise ValueError(
            f"{name} {arn!r} is not a SageMaker job ARN of the form "
            "arn:aws:sagemaker:REGION:ACCOUNT:KIND/NAME"
        )
    return JobArn(match["partition"], match["region"], match["account"], match["kind"], match["name"])


def pipeline_arn(partition: str, region: str, account: str, pipeline_name: str) -> str:
    return f"arn:{partition}:sagemaker:{region}:{account}:pipeline/{pipeline_name.lower()}"


def validate_role_arn(arn: str, *, name: str = "role_arn", region: str | None = None) -> str:
    """Return ``arn`` when it is an IAM role ARN (of ``region``'s partition, when given), else raise
    ValueError naming ``name``."""
    if not isinstance(arn, str) or not _ROLE_ARN.match(arn.strip()):
        raise ValueError(f"{name} {arn!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
    arn = arn.strip()
    expected = partition_of_region(region) if region else None
    partition = arn.split(":", 2)[1]
    if expected is not None and partition != expected:
        raise ValueError(
            f"{name} {arn!r} is in partition {partition!r}, but region {region!r} is in partition "
            f"{expected!r}: SageMaker in {region} cannot assume it"
        )
    return arn


@lru_cache(maxsize=64)
def partition_of_region(region: str) -> str | None:
    """The ARN partition of ``region`` (``aws``, ``aws-cn``, ``aws-us-gov``, ...), from botocore's
    endpoint data; None for a region botocore does not know (nothing to check it against)."""
    from botocore.exceptions import UnknownRegionError
    from botocore.session import get_session

    try:
        return get_session().get_partition_for_region(region)
    except UnknownRegionError:
        return None
