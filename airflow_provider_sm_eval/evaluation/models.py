"""Plain data of evaluation executions: their status, steps and fields.

The models round-trip through JSON (they travel through XCom) and carry no behaviour: the AWS
calls live in :mod:`.lifecycle`, the SDK-compatible methods in :mod:`.execution`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr

from airflow_provider_sm_eval.evaluation.constants import (
    TERMINAL_STATUSES,
    EvalType,
    ExecutionStatus,
    StepStatus,
)

#: Metadata entries of a pipeline step that carry the ARN of the job the step ran, in SDK order.
_JOB_METADATA_KEYS = ("TrainingJob", "ProcessingJob", "TransformJob", "TuningJob", "AutoMLJob")
_UNIX_TIME_SUFFIX = re.compile(r"-\d{10}$")


class StepDetail(BaseModel):
    """One step of a pipeline execution, as ListPipelineExecutionSteps reports it."""

    model_config = ConfigDict(frozen=True)

    name: str
    status: StepStatus
    start_time: datetime | None = None
    end_time: datetime | None = None
    display_name: str | None = None
    failure_reason: str | None = None
    job_arn: str | None = None

    @property
    def job_name(self) -> str | None:
        """Name of the job the step ran: the last segment of its ARN."""
        return self.job_arn.rsplit("/", 1)[-1] if self.job_arn else None

    @classmethod
    def from_api(cls, entry: Mapping[str, Any]) -> StepDetail:
        """Build from one ``PipelineExecutionSteps`` entry of ListPipelineExecutionSteps."""
        metadata = entry.get("Metadata") or {}
        job_arn = next(
            (metadata[key]["Arn"] for key in _JOB_METADATA_KEYS if (metadata.get(key) or {}).get("Arn")),
            None,
        )
        return cls(
            name=entry["StepName"],
            status=StepStatus(entry["StepStatus"]),
            start_time=entry.get("StartTime"),
            end_time=entry.get("EndTime"),
            display_name=entry.get("StepDisplayName"),
            failure_reason=entry.get("FailureReason") or None,
            job_arn=job_arn,
        )


class PipelineExecutionStatus(BaseModel):
    """Overall status of an execution and the latest attempt of each of its steps."""

    model_config = ConfigDict(frozen=True)

    overall_status: ExecutionStatus
    step_details: list[StepDetail] = []
    failure_reason: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.overall_status in TERMINAL_STATUSES

    @property
    def is_succeeded(self) -> bool:
        return self.overall_status is ExecutionStatus.SUCCEEDED

    @property
    def failed_steps(self) -> list[StepDetail]:
        return [step for step in self.step_details if step.status is StepStatus.FAILED]

    @classmethod
    def from_api(
        cls, describe_response: Mapping[str, Any], step_entries: Sequence[Mapping[str, Any]] | None = None
    ) -> PipelineExecutionStatus:
        """Build from DescribePipelineExecution (or a ListPipelineExecutions summary) and step entries.

        A retried step appears once per attempt; only its latest attempt is kept, in the order
        the steps first appear.
        """
        latest: dict[str, StepDetail] = {}
        for entry in step_entries or []:
            step = StepDetail.from_api(entry)
            known = latest.get(step.name)
            if known is None or _started_later(step, known):
                latest[step.name] = step
        reason = describe_response.get("FailureReason") or describe_response.get(
            "PipelineExecutionFailureReason"
        )
        return cls(
            overall_status=ExecutionStatus(describe_response["PipelineExecutionStatus"]),
            step_details=list(latest.values()),
            failure_reason=reason or None,
        )


def _started_later(step: StepDetail, other: StepDetail) -> bool:
    if step.start_time is None or other.start_time is None:
        return other.start_time is None
    return step.start_time >= other.start_time


def name_from_display_name(display_name: str) -> str:
    """The evaluation name inside a display name ``{name}-{unix_time}``."""
    return _UNIX_TIME_SUFFIX.sub("", display_name)


class EvaluationExecutionData(BaseModel):
    """The fields of one execution of an evaluation pipeline, as the SDK's execution has them."""

    arn: str
    name: str
    eval_type: EvalType
    status: PipelineExecutionStatus
    pipeline_name: str
    last_modified_time: datetime | None = None
    creation_time: datetime | None = None
    s3_output_path: str | None = None
    display_name: str | None = None
    description: str | None = None
    pipeline_version_id: int | None = None
    #: Why the S3 output root could not be read from the evaluation jobs (a refused
    #: DescribeTrainingJob, say); kept out of dumps, told when results are asked for.
    _s3_output_path_problem: str | None = PrivateAttr(default=None)

    @property
    def steps(self) -> list[StepDetail]:
        return self.status.step_details

    @property
    def s3_output_path_problem(self) -> str | None:
        """Why ``s3_output_path`` is unknown, when reading it from the evaluation jobs failed."""
        return self._s3_output_path_problem
