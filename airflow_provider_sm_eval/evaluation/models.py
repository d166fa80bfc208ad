"""Pydantic models of evaluation executions, their status and steps, with the lifecycle methods.

The models are plain data that round-trip through JSON (they travel through XCom). The AWS
calls live in :mod:`.lifecycle` and :mod:`.pipelines`, imported when a method runs, so that
importing this module stays cheap (no boto3).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationInfo,
    model_validator,
)

from airflow_provider_sm_eval.evaluation.constants import (
    TERMINAL_STATUSES,
    EvalType,
    ExecutionStatus,
    StepStatus,
)

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient

    from airflow_provider_sm_eval.evaluation.clients import AwsClients
    from airflow_provider_sm_eval.evaluation.definition import PipelineDefinitionInput
    from airflow_provider_sm_eval.evaluation.results.summary import EvaluationSummary

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


class EvaluationPipelineExecution(BaseModel):
    """One execution of an evaluation pipeline.

    Validating a dict on this base class picks the subclass of its ``eval_type``:
    :class:`BenchmarkEvaluationExecution` or :class:`LLMAJEvaluationExecution`.
    Lifecycle methods accept keyword-only ``session``, ``region``, ``sagemaker_client`` and
    ``s3_client``; explicit clients win, else the clients this object was built with are reused,
    else boto3's defaults.
    """

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

    _clients: AwsClients | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _validate_as_eval_type_class(
        cls,
        data: Any,
        handler: ModelWrapValidatorHandler[EvaluationPipelineExecution],
        info: ValidationInfo,
    ) -> EvaluationPipelineExecution:
        """On the base class, validate as the eval type's subclass; on a subclass, check the type."""
        if isinstance(data, Mapping) and "eval_type" in data:
            target = execution_class_for(EvalType.parse(data["eval_type"]))
            if cls is EvaluationPipelineExecution and target is not cls:
                return target.model_validate(data, context=info.context)
            if cls is not EvaluationPipelineExecution and target is not cls:
                raise ValueError(
                    f"eval_type {data['eval_type']!r} belongs to {target.__name__}, not {cls.__name__}"
                )
        return handler(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvaluationPipelineExecution:
        """Rebuild an execution from ``model_dump(mode="json")`` output, as its eval type's class."""
        return EvaluationPipelineExecution.model_validate(dict(data))

    def __eq__(self, other: object) -> bool:
        """Equal when the data is; the clients an execution holds do not count."""
        if not isinstance(other, EvaluationPipelineExecution):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    @property
    def steps(self) -> list[StepDetail]:
        return self.status.step_details

    # Lifecycle -------------------------------------------------------------------------------

    @classmethod
    def start(  # noqa: PLR0917 - the SDK's positional signature
        cls,
        eval_type: EvalType | str,
        name: str,
        pipeline_definition: PipelineDefinitionInput,
        role_arn: str,
        s3_output_path: str | None = None,
        tags: Mapping[str, str] | list[dict[str, str]] | None = None,
        *,
        pipeline_parameters: Mapping[str, str | int | float] | None = None,
        client_request_token: str | None = None,
        display_name: str | None = None,
        description: str | None = None,
        session: boto3.Session | None = None,
        region: str | None = None,
        sagemaker_client: SageMakerClient | None = None,
        s3_client: S3Client | None = None,
    ) -> EvaluationPipelineExecution:
        """Start an evaluation on the tagged pipeline of ``eval_type``, pinned to this definition.

        Every input is validated before any AWS call (ValueError naming the input).
        """
        from airflow_provider_sm_eval.evaluation import lifecycle

        return lifecycle.start_execution(
            eval_type,
            name,
            pipeline_definition,
            role_arn,
            s3_output_path=s3_output_path,
            tags=tags,
            pipeline_parameters=pipeline_parameters,
            client_request_token=client_request_token,
            display_name=display_name,
            description=description,
            clients=_clients(session, region, sagemaker_client, s3_client),
        )

    @classmethod
    def get(
        cls,
        arn: str,
        *,
        session: boto3.Session | None = None,
        region: str | None = None,
        sagemaker_client: SageMakerClient | None = None,
        s3_client: S3Client | None = None,
    ) -> EvaluationPipelineExecution:
        """Describe the execution ``arn`` with all its steps and its S3 output root."""
        from airflow_provider_sm_eval.evaluation import lifecycle

        return lifecycle.get_execution(arn, _clients(session, region, sagemaker_client, s3_client))

    @classmethod
    def get_all(
        cls,
        eval_type: EvalType | str | None = None,
        *,
        session: boto3.Session | None = None,
        region: str | None = None,
        sagemaker_client: SageMakerClient | None = None,
        s3_client: S3Client | None = None,
    ) -> Iterator[EvaluationPipelineExecution]:
        """Every execution of the tagged evaluation pipelines (of one type or all), newest first.

        Built from ListPipelineExecutions summaries: call :meth:`refresh` for the steps.
        """
        from airflow_provider_sm_eval.evaluation import lifecycle

        return lifecycle.list_executions(eval_type, _clients(session, region, sagemaker_client, s3_client))

    def refresh(
        self,
        *,
        session: boto3.Session | None = None,
        region: str | None = None,
        sagemaker_client: SageMakerClient | None = None,
        s3_client: S3Client | None = None,
    ) -> EvaluationPipelineExecution:
        """Update status, steps and (when unknown) the S3 output root in place; return self."""
        from airflow_provider_sm_eval.evaluation import lifecycle

        lifecycle.refresh_execution(self, self._clients_for(session, region, sagemaker_client, s3_client))
        return self

    def stop(
        self,
        *,
        session: boto3.Session | None = None,
        region: str | None = None,
        sagemaker_client: SageMakerClient | None = None,
        s3_client: S3Client | None = None,
    ) -> EvaluationPipelineExecution:
        """Ask SageMaker to stop the execution; return self, refreshed."""
        from airflow_provider_sm_eval.evaluation import lifecycle

        lifecycle.stop_execution(self, self._clients_for(session, region, sagemaker_client, s3_client))
        return self

    def retry(
        self,
        client_request_token: str | None = None,
        *,
        session: boto3.Session | None = None,
        region: str | None = None,
        sagemaker_client: SageMakerClient | None = None,
        s3_client: S3Client | None = None,
    ) -> EvaluationPipelineExecution:
        """Re-run a Failed or Stopped execution from its failed steps; return self, refreshed."""
        from airflow_provider_sm_eval.evaluation import lifecycle

        lifecycle.retry_execution(
            self,
            client_request_token,
            self._clients_for(session, region, sagemaker_client, s3_client),
        )
        return self

    def wait(
        self,
        target_status: ExecutionStatus | str = ExecutionStatus.SUCCEEDED,
        poll: float = 5,
        timeout: float | None = None,
        *,
        on_progress: Callable[[EvaluationPipelineExecution], None] | None = None,
        stop_on_timeout: bool = False,
        session: boto3.Session | None = None,
        region: str | None = None,
        sagemaker_client: SageMakerClient | None = None,
        s3_client: S3Client | None = None,
    ) -> EvaluationPipelineExecution:
        """Poll until a terminal status; return self on ``target_status``, raise otherwise.

        Raises the :class:`~.exceptions.EvaluationExecutionError` subclass of the status reached,
        or :class:`~.exceptions.EvaluationTimeoutError` after ``timeout`` seconds (stopping the
        execution first when ``stop_on_timeout``). ``on_progress`` is called whenever a step's
        status changes.
        """
        from airflow_provider_sm_eval.evaluation import lifecycle

        return lifecycle.wait_for_execution(
            self,
            target_status,
            poll=poll,
            timeout=timeout,
            on_progress=on_progress,
            stop_on_timeout=stop_on_timeout,
            clients=self._clients_for(session, region, sagemaker_client, s3_client),
        )

    # Results ---------------------------------------------------------------------------------

    def summary(
        self,
        *,
        session: boto3.Session | None = None,
        region: str | None = None,
        sagemaker_client: SageMakerClient | None = None,
        s3_client: S3Client | None = None,
    ) -> EvaluationSummary:
        """A compact, bounded summary of the results, fit for XCom."""
        from airflow_provider_sm_eval.evaluation.results.summary import summarize

        clients = self._clients_for(session, region, sagemaker_client, s3_client)
        self._describe_if_partial(clients)
        return summarize(self, clients.s3)

    def render_results(
        self,
        limit: int = 5,
        offset: int = 0,
        show_explanations: bool = False,
        *,
        summary: EvaluationSummary | None = None,
        session: boto3.Session | None = None,
        region: str | None = None,
        sagemaker_client: SageMakerClient | None = None,
        s3_client: S3Client | None = None,
    ) -> str:
        """The results as plain-text tables (LLM-as-judge: ``limit`` examples from ``offset``).

        Pass this execution's ``summary()`` to spare a second pass over the per-example files.
        """
        from airflow_provider_sm_eval.evaluation.results.render import render_results

        clients = self._clients_for(session, region, sagemaker_client, s3_client)
        self._describe_if_partial(clients)
        return render_results(
            self,
            clients.s3,
            limit=limit,
            offset=offset,
            show_explanations=show_explanations,
            summary=summary,
        )

    def show_results(
        self,
        limit: int = 5,
        offset: int = 0,
        show_explanations: bool = False,
        *,
        session: boto3.Session | None = None,
        region: str | None = None,
        sagemaker_client: SageMakerClient | None = None,
        s3_client: S3Client | None = None,
    ) -> None:
        """Print :meth:`render_results`, like the SDK's ``show_results``."""
        print(
            self.render_results(
                limit,
                offset,
                show_explanations,
                session=session,
                region=region,
                sagemaker_client=sagemaker_client,
                s3_client=s3_client,
            )
        )

    def _describe_if_partial(self, clients: AwsClients) -> None:
        """Refresh an execution built from a list summary (no steps, no S3 root) before reading results."""
        if not self.steps or self.s3_output_path is None:
            from airflow_provider_sm_eval.evaluation import lifecycle

            lifecycle.refresh_execution(self, clients)

    def _clients_for(
        self,
        session: boto3.Session | None,
        region: str | None,
        sagemaker_client: SageMakerClient | None,
        s3_client: S3Client | None,
    ) -> AwsClients:
        from airflow_provider_sm_eval.evaluation.clients import resolve_clients

        self._clients = resolve_clients(
            session=session,
            region=region,
            sagemaker_client=sagemaker_client,
            s3_client=s3_client,
            fallback=self._clients,
        )
        return self._clients


class BenchmarkEvaluationExecution(EvaluationPipelineExecution):
    """A benchmark or custom-scorer execution (one result format: custom and base metrics)."""


class LLMAJEvaluationExecution(EvaluationPipelineExecution):
    """An LLM-as-judge execution (aggregate judge scores and per-example records)."""


def execution_class_for(eval_type: EvalType) -> type[EvaluationPipelineExecution]:
    """The execution class holding executions of ``eval_type``."""
    return LLMAJEvaluationExecution if eval_type.is_llm_as_judge else BenchmarkEvaluationExecution


def _clients(
    session: boto3.Session | None,
    region: str | None,
    sagemaker_client: SageMakerClient | None,
    s3_client: S3Client | None,
) -> AwsClients:
    from airflow_provider_sm_eval.evaluation.clients import resolve_clients

    return resolve_clients(
        session=session, region=region, sagemaker_client=sagemaker_client, s3_client=s3_client
    )
