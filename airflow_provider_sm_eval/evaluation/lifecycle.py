"""The lifecycle of evaluation executions: start, get, list, refresh, stop, retry and wait.

Fixes the SDK's defects: every AWS error is raised (naming the operation and the resource),
every list call paginates, ``wait`` ends on every terminal status, and ``start`` pins the
definition version it stored.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar

from airflow_provider_sm_eval.evaluation.arns import parse_execution_arn
from airflow_provider_sm_eval.evaluation.clients import AwsClients, aws_errors
from airflow_provider_sm_eval.evaluation.constants import (
    LIST_EXECUTIONS_PAGE_SIZE,
    EvalType,
    ExecutionStatus,
    parse_terminal_status,
)
from airflow_provider_sm_eval.evaluation.exceptions import (
    EvaluationAWSError,
    EvaluationTimeoutError,
    execution_error_for,
)
from airflow_provider_sm_eval.evaluation.models import (
    EvaluationExecutionData,
    PipelineExecutionStatus,
    StepDetail,
    name_from_display_name,
)
from airflow_provider_sm_eval.evaluation.pipelines import evaluation_pipelines, pin_pipeline_version
from airflow_provider_sm_eval.evaluation.polling import (
    PollState,
    is_transient_aws_error,
    poll_until_terminal,
    validate_poll_interval,
    validate_timeout,
)
from airflow_provider_sm_eval.evaluation.request import StartRequest, check_role_partition
from airflow_provider_sm_eval.evaluation.s3_layout import parse_s3_uri
from airflow_provider_sm_eval.evaluation.steps_table import format_step_table
from airflow_provider_sm_eval.evaluation.types.registry import all_result_steps, kind_of_pipeline
from airflow_provider_sm_eval.evaluation.validators import fresh_token, validate_client_request_token

log = logging.getLogger(__name__)

_TRAINING_JOB_ARN_MARKER = ":training-job/"

Execution = TypeVar("Execution", bound=EvaluationExecutionData)


def start_execution(request: StartRequest, clients: AwsClients) -> EvaluationExecutionData:
    """Store the request's definition as a pinned pipeline version and start an execution of it.

    The role is checked against the client's region first: a request may not know its region.
    """
    sagemaker = clients.sagemaker
    check_role_partition(request.role_arn, sagemaker.meta.region_name)
    pinned = pin_pipeline_version(
        sagemaker,
        request.eval_type,
        request.pipeline_definition,
        request.role_arn,
        request.tags,
        pipeline_name_fields=request.pipeline_name_fields,
    )
    arguments: dict[str, Any] = {
        "PipelineName": pinned.name,
        "PipelineVersionId": pinned.version_id,
        "PipelineExecutionDisplayName": request.display_name,
        "PipelineExecutionDescription": request.description,
        "ClientRequestToken": request.client_request_token,
    }
    parameters = request.execution_parameters()
    if parameters:
        arguments["PipelineParameters"] = [{"Name": k, "Value": v} for k, v in parameters.items()]
    with aws_errors("StartPipelineExecution", pinned.name):
        arn = sagemaker.start_pipeline_execution(**arguments)["PipelineExecutionArn"]
    log.info("Started evaluation execution %s (pipeline version %s)", arn, pinned.version_id)
    try:
        execution = _describe(arn, clients, s3_output_path=request.s3_output_path)
    except Exception as error:
        if not is_transient_aws_error(error):
            raise
        # The execution runs: a throttled first read must not abandon it (the caller would fail
        # and leave it running). Waiting for it reads its status, and waits out throttling.
        log.warning("Could not read evaluation execution %s yet (%s); it is taken as Executing", arn, error)
        execution = EvaluationExecutionData(
            arn=arn,
            name=request.name,
            eval_type=kind_of_pipeline(pinned.name).eval_type,
            status=PipelineExecutionStatus(overall_status=ExecutionStatus.EXECUTING),
            pipeline_name=pinned.name,
            s3_output_path=request.s3_output_path,
            description=request.description,
            pipeline_version_id=pinned.version_id,
        )
    execution.name = request.name
    execution.pipeline_name = pinned.name
    return execution


def get_execution(arn: str, clients: AwsClients) -> EvaluationExecutionData:
    """Describe ``arn`` (validated first) with its steps and S3 output root."""
    parsed = parse_execution_arn(arn, name="arn")
    try:
        kind_of_pipeline(parsed.pipeline_name)
    except ValueError as error:
        raise ValueError(f"arn {arn!r}: {error}") from None
    return _describe(str(parsed), clients, s3_output_path=None)


def list_executions(
    eval_type: EvalType | str | None, clients: AwsClients, *, created_after: datetime | None = None
) -> Iterator[EvaluationExecutionData]:
    """Executions of every tagged pipeline of ``eval_type`` (or of all types), newest first; only
    those created after ``created_after`` when given (filtered by SageMaker, not read)."""
    eval_types = list(EvalType) if eval_type is None else [EvalType.parse(eval_type)]
    sagemaker = clients.sagemaker
    per_pipeline = [
        _pipeline_executions(pipeline.name, kind, clients, created_after)
        for kind in eval_types
        for pipeline in evaluation_pipelines(sagemaker, kind)
    ]
    return heapq.merge(*per_pipeline, key=_creation_order, reverse=True)


def refresh_execution(execution: EvaluationExecutionData, clients: AwsClients) -> None:
    """Update ``execution`` in place from DescribePipelineExecution and every step page."""
    fresh = _describe(execution.arn, clients, s3_output_path=execution.s3_output_path)
    execution.status = fresh.status
    execution.last_modified_time = fresh.last_modified_time
    execution.creation_time = fresh.creation_time or execution.creation_time
    execution.s3_output_path = fresh.s3_output_path
    execution._s3_output_path_problem = fresh.s3_output_path_problem
    execution.display_name = fresh.display_name or execution.display_name
    execution.description = fresh.description or execution.description
    execution.pipeline_version_id = fresh.pipeline_version_id or execution.pipeline_version_id


def describe_if_partial(execution: EvaluationExecutionData, clients: AwsClients) -> None:
    """Refresh an execution built from a list summary (no steps, no S3 root) before its results are read."""
    if not execution.steps or execution.s3_output_path is None:
        refresh_execution(execution, clients)


def stop_execution(execution: EvaluationExecutionData, clients: AwsClients) -> None:
    """StopPipelineExecution, then refresh; the service's refusal is raised, not swallowed.

    An execution that ended just before the call (ConflictException) is left as it ended.
    """
    try:
        with aws_errors("StopPipelineExecution", execution.arn):
            clients.sagemaker.stop_pipeline_execution(
                PipelineExecutionArn=execution.arn, ClientRequestToken=fresh_token()
            )
    except EvaluationAWSError as error:
        if error.code != "ConflictException":
            raise
        refresh_execution(execution, clients)
        if not execution.status.is_terminal:
            raise
        log.info(
            "Evaluation execution %s had already ended %s: nothing to stop",
            execution.arn,
            execution.status.overall_status.value,
        )
        return
    log.info("Asked to stop evaluation execution %s", execution.arn)
    refresh_execution(execution, clients)


def retry_execution(
    execution: EvaluationExecutionData, client_request_token: str | None, clients: AwsClients
) -> None:
    """RetryPipelineExecution from the failed steps, then refresh."""
    token = (
        fresh_token() if client_request_token is None else validate_client_request_token(client_request_token)
    )
    with aws_errors("RetryPipelineExecution", execution.arn):
        clients.sagemaker.retry_pipeline_execution(
            PipelineExecutionArn=execution.arn, ClientRequestToken=token
        )
    log.info("Retrying evaluation execution %s", execution.arn)
    refresh_execution(execution, clients)


def wait_until_terminal(
    execution: Execution,
    *,
    poll: float,
    timeout: float | None,
    on_progress: Callable[[Execution], None] | None,
    stop_on_timeout: bool,
    clients: AwsClients,
) -> ExecutionStatus:
    """Poll (see :mod:`.polling`) until a terminal status and return it; raise on timeout.

    ``execution`` is updated in place after every poll that saw progress; ``on_progress`` is
    called then. ``timeout`` raises ``EvaluationTimeoutError`` (stopping the execution first
    when ``stop_on_timeout``).
    """
    state = PollState(execution.arn, validate_poll_interval(poll, name="poll"), execution.status)
    limit = validate_timeout(timeout)
    sagemaker = clients.sagemaker

    def describe() -> Mapping[str, Any]:
        with aws_errors("DescribePipelineExecution", execution.arn):
            return sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution.arn)

    def list_steps() -> list[Mapping[str, Any]]:
        return _list_steps(execution.arn, clients)

    def progressed(status: PipelineExecutionStatus, described: Mapping[str, Any]) -> None:
        execution.status = status
        execution.last_modified_time = described.get("LastModifiedTime")
        log.info(
            "Evaluation execution %s is %s\n%s",
            execution.arn,
            status.overall_status.value,
            format_step_table(status.step_details),
        )
        if on_progress is not None:
            on_progress(execution)

    status = poll_until_terminal(describe, list_steps, state, timeout=limit, on_progress=progressed)
    if status is None or not status.is_terminal:
        if stop_on_timeout:
            stop_execution(execution, clients)
        raise EvaluationTimeoutError(execution.arn, limit or 0, execution.status.overall_status)
    execution.status = status
    if execution.s3_output_path is None:
        execution.s3_output_path, execution._s3_output_path_problem = _s3_output_root(
            status.step_details, clients
        )
    return status.overall_status


def wait_for_execution(
    execution: Execution,
    target_status: ExecutionStatus | str,
    *,
    poll: float,
    timeout: float | None,
    on_progress: Callable[[Execution], None] | None,
    stop_on_timeout: bool,
    clients: AwsClients,
) -> Execution:
    """:func:`wait_until_terminal`, then return on ``target_status`` and raise on any other."""
    target = parse_terminal_status(target_status, name="target_status")
    reached = wait_until_terminal(
        execution,
        poll=poll,
        timeout=timeout,
        on_progress=on_progress,
        stop_on_timeout=stop_on_timeout,
        clients=clients,
    )
    if reached is not target:
        raise execution_error_for(execution.status, execution.arn)
    return execution


# Helpers ---------------------------------------------------------------------------------------


def _describe(arn: str, clients: AwsClients, *, s3_output_path: str | None) -> EvaluationExecutionData:
    sagemaker = clients.sagemaker
    with aws_errors("DescribePipelineExecution", arn):
        described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    status = PipelineExecutionStatus.from_api(described, _list_steps(arn, clients))
    pipeline_name = parse_execution_arn(arn, name="arn").pipeline_name
    eval_type = kind_of_pipeline(pipeline_name).eval_type
    display_name = described.get("PipelineExecutionDisplayName")
    problem = None
    if not s3_output_path:
        s3_output_path, problem = _s3_output_root(status.step_details, clients)
    execution = EvaluationExecutionData(
        arn=arn,
        name=name_from_display_name(display_name) if display_name else arn.rsplit("/", 1)[-1],
        eval_type=eval_type,
        status=status,
        pipeline_name=pipeline_name,
        last_modified_time=described.get("LastModifiedTime"),
        creation_time=described.get("CreationTime"),
        s3_output_path=s3_output_path,
        display_name=display_name,
        description=described.get("PipelineExecutionDescription"),
        pipeline_version_id=described.get("PipelineVersionId"),
    )
    execution._s3_output_path_problem = problem
    return execution


def _list_steps(arn: str, clients: AwsClients) -> list[Mapping[str, Any]]:
    """Every ListPipelineExecutionSteps entry of ``arn``, oldest first."""
    with aws_errors("ListPipelineExecutionSteps", arn):
        pages = clients.sagemaker.get_paginator("list_pipeline_execution_steps").paginate(
            PipelineExecutionArn=arn, SortOrder="Ascending"
        )
        return [entry for page in pages for entry in page.get("PipelineExecutionSteps", [])]


def _s3_output_root(steps: list[StepDetail], clients: AwsClients) -> tuple[str | None, str | None]:
    """The S3 output root of the execution's evaluation training jobs, when one has started, and
    why it is unknown otherwise.

    Optional metadata: when a job cannot be described or names no S3 URI, that is logged and kept
    (results read later say it, naming a refused permission), so that reading and stopping the
    execution never fail on it.
    """
    result_steps = all_result_steps()
    training_jobs = sorted(
        (s for s in steps if s.job_arn and _TRAINING_JOB_ARN_MARKER in s.job_arn),
        key=lambda s: s.name not in result_steps,
    )
    problem = None
    for job_name in (s.job_arn.rsplit("/", 1)[-1] for s in training_jobs if s.job_arn):
        try:
            with aws_errors("DescribeTrainingJob", f"job {job_name}"):
                described = clients.sagemaker.describe_training_job(TrainingJobName=job_name)
            root = (described.get("OutputDataConfig") or {}).get("S3OutputPath")
            if root:
                return str(parse_s3_uri(root, name=f"S3OutputPath of training job {job_name}")), None
        except (EvaluationAWSError, ValueError) as error:
            log.warning("S3 output root of training job %s is unknown: %s", job_name, error)
            problem = problem or str(error)
    return None, problem


def _pipeline_executions(
    pipeline_name: str, eval_type: EvalType, clients: AwsClients, created_after: datetime | None
) -> Iterator[EvaluationExecutionData]:
    """Executions of one pipeline from ListPipelineExecutions summaries, newest first, in the
    largest pages."""
    window = {} if created_after is None else {"CreatedAfter": created_after}
    with aws_errors("ListPipelineExecutions", pipeline_name):
        pages = clients.sagemaker.get_paginator("list_pipeline_executions").paginate(
            PipelineName=pipeline_name,
            SortBy="CreationTime",
            SortOrder="Descending",
            **window,
            PaginationConfig={"PageSize": LIST_EXECUTIONS_PAGE_SIZE},
        )
        for page in pages:
            for summary in page.get("PipelineExecutionSummaries", []):
                display_name = summary.get("PipelineExecutionDisplayName")
                arn = summary["PipelineExecutionArn"]
                yield EvaluationExecutionData(
                    arn=arn,
                    name=name_from_display_name(display_name) if display_name else arn.rsplit("/", 1)[-1],
                    eval_type=eval_type,
                    status=PipelineExecutionStatus.from_api(summary),
                    pipeline_name=pipeline_name,
                    creation_time=summary.get("StartTime"),
                    display_name=display_name,
                    description=summary.get("PipelineExecutionDescription"),
                )


def _creation_order(execution: EvaluationExecutionData) -> datetime:
    return execution.creation_time or datetime.min.replace(tzinfo=timezone.utc)
