"""Training jobs of pipeline Training steps: their state, names and DescribeTrainingJob responses."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass
class TrainingJob:
    """The training job of one run of a Training step."""

    name: str
    arn: str
    step_name: str
    execution_arn: str
    arguments: Mapping[str, Any]
    s3_output_path: str | None
    created: float
    status: str = "InProgress"
    secondary_status: str = "Starting"
    failure_reason: str | None = None
    started: float | None = None
    ended: float | None = None
    modified: float = 0.0

    def set_status(self, status: str, secondary: str, at: float) -> None:
        self.status, self.secondary_status, self.modified = status, secondary, at


def model_artifacts_uri(job: TrainingJob) -> str:
    """``ModelArtifacts.S3ModelArtifacts`` of a training job."""
    return f"{(job.s3_output_path or '').rstrip('/')}/{job.name}/output/model.tar.gz"


def training_job_name(execution_arn: str, execution_id: str, step_name: str, attempt: int) -> str:
    """``pipelines-{execution}-{step}-{hash}``, unique per step run, at most 63 characters."""
    digest = hashlib.sha256(f"{execution_arn}|{step_name}|{attempt}".encode()).hexdigest()[:10]
    head = f"pipelines-{execution_id}-{step_name}"[:52].rstrip("-")
    return f"{head}-{digest}"


def describe_training_job(job: TrainingJob) -> dict[str, Any]:
    """The DescribeTrainingJob response for ``job``."""
    args = job.arguments
    response: dict[str, Any] = {
        "TrainingJobName": job.name,
        "TrainingJobArn": job.arn,
        "ModelArtifacts": {"S3ModelArtifacts": model_artifacts_uri(job) if job.s3_output_path else ""},
        "TrainingJobStatus": job.status,
        "SecondaryStatus": job.secondary_status,
        "StoppingCondition": _only_numbers(args.get("StoppingCondition")) or {"MaxRuntimeInSeconds": 86400},
        "CreationTime": job.created,
        "LastModifiedTime": job.modified,
        "RoleArn": args["RoleArn"] if isinstance(args.get("RoleArn"), str) else None,
        "HyperParameters": {
            k: v if isinstance(v, str) else json.dumps(v)
            for k, v in (args.get("HyperParameters") or {}).items()
        },
    }
    if response["RoleArn"] is None:
        del response["RoleArn"]
    if job.s3_output_path:
        response["OutputDataConfig"] = {"S3OutputPath": job.s3_output_path}
    if job.failure_reason:
        response["FailureReason"] = job.failure_reason
    if job.started is not None:
        response["TrainingStartTime"] = job.started
    if job.ended is not None:
        response["TrainingEndTime"] = job.ended
        if job.started is not None:
            response["TrainingTimeInSeconds"] = max(1, round(job.ended - job.started))
    return response


def _only_numbers(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(v, int) and not isinstance(v, bool)}
