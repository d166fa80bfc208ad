"""The lifecycle of evaluation executions: start, get, list, refresh, stop, retry and wait.

Fixes the SDK's defects: every AWS error is raised (naming the operation and the resource),
every list call paginates, ``wait`` ends on every terminal status, and ``start`` pins the
definition version it stored.
"""

from __future__ import annotations

import heapq
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from airflow_provider_sm_eval.evaluation.arns import parse_execution_arn, validate_role_arn
from airflow_provider_sm_eval.evaluation.clients import AwsClients, aws_errors
from airflow_provider_sm_eval.evaluation.constants import (
    BENCHMARK_RESULT_STEPS,
    LLMAJ_RESULT_STEPS,
    S3_OUTPUT_PATH_PARAMETER,
    EvalType,
    ExecutionStatus,
    parse_terminal_status,
)
from airflow_provider_sm_eval.evaluation.definition import (
    PipelineDefinition,
    PipelineDefinitionInput,
    load_pipeline_definition,
)
from airflow_provider_sm_eval.evaluation.exceptions import EvaluationTimeoutError, execution_error_for
from airflow_provider_sm_eval.evaluation.models import (
    EvaluationPipelineExecution,
    PipelineExecutionStatus,
    StepDetail,
    execution_class_for,
    name_from_display_name,
)
from airflow_provider_sm_eval.evaluation.pipelines import (
    evaluation_pipelines,
    normalize_tags,
    pin_pipeline_version,
)
from airflow_provider_sm_eval.evaluation.polling import (
    PollState,
    poll_until_terminal,
    validate_poll_interval,
    validate_timeout,
)
from airflow_provider_sm_eval.evaluation.s3_layout import parse_s3_uri
from airflow_provider_sm_eval.evaluation.steps_table import format_step_table

log = logging.getLogger(__name__)

_DISPLAY_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}$")
#: The evaluation name leaves room for the ``-{unix_time}`` suffix of the display name.
_EVALUATION_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,70}$")
_MIN_TOKEN, _MAX_TOKEN = 32, 128
_MAX_DESCRIPTION = 3072
_MAX_PARAMETER_VALUE = 1024
_TRAINING_JOB_ARN_MARKER = ":training-job/"

ProgressCallback = Callable[[EvaluationPipelineExecution], None]


@dataclass(frozen=True)
class _StartRequest:
    """Everything ``start`` sends, validated."""

    eval_type: EvalType
    name: str
    definition: PipelineDefinition
    role_arn: str
    s3_output_path: str | None
    tags: list[dict[str, str]]
    parameters: dict[str, str]
    client_request_token: str
    display_name: str
    description: str


def start_execution(
    eval_type: EvalType | str,
    name: str,
    pipeline_definition: PipelineDefinitionInput,
    role_arn: str,
    *,
    s3_output_path: str | None,
    tags: Mapping[str, str] | list[dict[str, str]] | None,
    pipeline_parameters: Mapping[str, str | int | float] | None,
    client_request_token: str | None,
    display_name: str | None,
    description: str | None,
    clients: AwsClients,
) -> EvaluationPipelineExecution:
    """Validate, store the definition as a pinned pipeline version and start an execution of it."""
    request = _validate_start(
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
    )
    sagemaker = clients.sagemaker
    pinned = pin_pipeline_version(
        sagemaker, request.eval_type, request.definition, request.role_arn, request.tags
    )
    arguments: dict[str, Any] = {
        "PipelineName": pinned.name,
        "PipelineVersionId": pinned.version_id,
        "PipelineExecutionDisplayName": request.display_name,
        "PipelineExecutionDescription": request.description,
        "ClientRequestToken": request.client_request_token,
    }
    if request.parameters:
        arguments["PipelineParameters"] = [{"Name": k, "Value": v} for k, v in request.parameters.items()]
    with aws_errors("StartPipelineExecution", pinned.name):
        arn = sagemaker.start_pipeline_execution(**arguments)["PipelineExecutionArn"]
    log.info("Started evaluation execution %s (pipeline version %s)", arn, pinned.version_id)
    execution = _describe(arn, clients, s3_output_path=request.s3_output_path)
    execution.name = request.name
    execution.pipeline_name = pinned.name
    return execution


def get_execution(arn: str, clients: AwsClients) -> EvaluationPipelineExecution:
    """Describe ``arn`` (validated first) with its steps and S3 output root."""
    parsed = parse_execution_arn(arn, name="arn")
    try:
        EvalType.from_pipeline_name(parsed.pipeline_name)
    except ValueError as error:
        raise ValueError(f"arn {arn!r}: {error}") from None
    return _describe(str(parsed), clients, s3_output_path=None)


def list_executions(
    eval_type: EvalType | str | None, clients: AwsClients
) -> Iterator[EvaluationPipelineExecution]:
    """Executions of every tagged pipeline of ``eval_type`` (or of all types), newest first."""
    eval_types = list(EvalType) if eval_type is None else [EvalType.parse(eval_type)]
    sagemaker = clients.sagemaker
    per_pipeline = [
        _pipeline_executions(pipeline.name, kind, clients)
        for kind in eval_types
        for pipeline in evaluation_pipelines(sagemaker, kind)
    ]
    return heapq.merge(*per_pipeline, key=_creation_order, reverse=True)


def refresh_execution(execution: EvaluationPipelineExecution, clients: AwsClients) -> None:
    """Update ``execution`` in place from DescribePipelineExecution and every step page."""
    fresh = _describe(execution.arn, clients, s3_output_path=execution.s3_output_path)
    execution.status = fresh.status
    execution.last_modified_time = fresh.last_modified_time
    execution.creation_time = fresh.creation_time or execution.creation_time
    execution.s3_output_path = fresh.s3_output_path
    execution.display_name = fresh.display_name or execution.display_name
    execution.description = fresh.description or execution.description
    execution.pipeline_version_id = fresh.pipeline_version_id or execution.pipeline_version_id


def stop_execution(execution: EvaluationPipelineExecution, clients: AwsClients) -> None:
    """StopPipelineExecution, then refresh; the service's refusal is raised, not swallowed."""
    with aws_errors("StopPipelineExecution", execution.arn):
        clients.sagemaker.stop_pipeline_execution(
            PipelineExecutionArn=execution.arn, ClientRequestToken=_fresh_token()
        )
    log.info("Asked to stop evaluation execution %s", execution.arn)
    refresh_execution(execution, clients)


def retry_execution(
    execution: EvaluationPipelineExecution, client_request_token: str | None, clients: AwsClients
) -> None:
    """RetryPipelineExecution from the failed steps, then refresh."""
    token = _validate_token(client_request_token) if client_request_token is not None else _fresh_token()
    with aws_errors("RetryPipelineExecution", execution.arn):
        clients.sagemaker.retry_pipeline_execution(
            PipelineExecutionArn=execution.arn, ClientRequestToken=token
        )
    log.info("Retrying evaluation execution %s", execution.arn)
    refresh_execution(execution, clients)


def wait_until_terminal(
    execution: EvaluationPipelineExecution,
    *,
    poll: float,
    timeout: float | None,
    on_progress: ProgressCallback | None,
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
        execution.s3_output_path = _s3_output_root(status.step_details, clients)
    return status.overall_status


def wait_for_execution(
    execution: EvaluationPipelineExecution,
    target_status: ExecutionStatus | str,
    *,
    poll: float,
    timeout: float | None,
    on_progress: ProgressCallback | None,
    stop_on_timeout: bool,
    clients: AwsClients,
) -> EvaluationPipelineExecution:
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


def _validate_start(
    eval_type: EvalType | str,
    name: str,
    pipeline_definition: PipelineDefinitionInput,
    role_arn: str,
    *,
    s3_output_path: str | None,
    tags: Mapping[str, str] | list[dict[str, str]] | None,
    pipeline_parameters: Mapping[str, str | int | float] | None,
    client_request_token: str | None,
    display_name: str | None,
    description: str | None,
) -> _StartRequest:
    kind = EvalType.parse(eval_type)
    if not isinstance(name, str) or not _EVALUATION_NAME.match(name):
        raise ValueError(
            f"name {name!r} must be 1-71 letters or digits, optionally joined by hyphens "
            "(it becomes the execution display name with a -{unix_time} suffix)"
        )
    definition = load_pipeline_definition(pipeline_definition)
    role = validate_role_arn(role_arn)
    output = str(parse_s3_uri(s3_output_path, name="s3_output_path")) if s3_output_path is not None else None
    parameters = _validate_parameters(pipeline_parameters, definition, output)
    if display_name is None:
        display_name = f"{name}-{int(time.time())}"
    elif not isinstance(display_name, str) or not _DISPLAY_NAME.match(display_name):
        raise ValueError(
            f"display_name {display_name!r} must be 1-82 letters or digits, optionally joined by hyphens"
        )
    if description is None:
        description = f"Evaluation execution: {name}"
    elif not isinstance(description, str) or len(description) > _MAX_DESCRIPTION:
        raise ValueError(f"description must be a string of at most {_MAX_DESCRIPTION} characters")
    token = _validate_token(client_request_token) if client_request_token is not None else _fresh_token()
    return _StartRequest(
        eval_type=kind,
        name=name,
        definition=definition,
        role_arn=role,
        s3_output_path=output,
        tags=normalize_tags(tags),
        parameters=parameters,
        client_request_token=token,
        display_name=display_name,
        description=description,
    )


def _validate_parameters(
    parameters: Mapping[str, str | int | float] | None,
    definition: PipelineDefinition,
    s3_output_path: str | None,
) -> dict[str, str]:
    if parameters is not None and not isinstance(parameters, Mapping):
        raise ValueError("pipeline_parameters must be a dict of parameter name to value")
    values: dict[str, str] = {}
    for key, value in (parameters or {}).items():
        if not definition.declares_parameter(key):
            raise ValueError(
                f"pipeline_parameters names {key!r}, which the pipeline definition does not declare"
            )
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError(f"pipeline_parameters[{key!r}] must be a string or a number, got {value!r}")
        if len(str(value)) > _MAX_PARAMETER_VALUE:
            raise ValueError(f"pipeline_parameters[{key!r}] is longer than {_MAX_PARAMETER_VALUE} characters")
        values[key] = str(value)
    if s3_output_path is not None and definition.declares_parameter(S3_OUTPUT_PATH_PARAMETER):
        given = values.get(S3_OUTPUT_PATH_PARAMETER)
        if given is not None and given.rstrip("/") != s3_output_path:
            raise ValueError(
                f"s3_output_path {s3_output_path!r} and pipeline_parameters[{S3_OUTPUT_PATH_PARAMETER!r}] "
                f"{given!r} disagree"
            )
        values[S3_OUTPUT_PATH_PARAMETER] = s3_output_path
    return values


def _validate_token(token: str) -> str:
    if not isinstance(token, str) or not _MIN_TOKEN <= len(token) <= _MAX_TOKEN:
        raise ValueError(f"client_request_token must be a string of {_MIN_TOKEN}-{_MAX_TOKEN} characters")
    return token


def _fresh_token() -> str:
    return f"sm-eval-{uuid.uuid4()}"


def _describe(arn: str, clients: AwsClients, *, s3_output_path: str | None) -> EvaluationPipelineExecution:
    sagemaker = clients.sagemaker
    with aws_errors("DescribePipelineExecution", arn):
        described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    status = PipelineExecutionStatus.from_api(described, _list_steps(arn, clients))
    pipeline_name = parse_execution_arn(arn, name="arn").pipeline_name
    eval_type = EvalType.from_pipeline_name(pipeline_name)
    display_name = described.get("PipelineExecutionDisplayName")
    execution = execution_class_for(eval_type)(
        arn=arn,
        name=name_from_display_name(display_name) if display_name else arn.rsplit("/", 1)[-1],
        eval_type=eval_type,
        status=status,
        pipeline_name=pipeline_name,
        last_modified_time=described.get("LastModifiedTime"),
        creation_time=described.get("CreationTime"),
        s3_output_path=s3_output_path or _s3_output_root(status.step_details, clients),
        display_name=display_name,
        description=described.get("PipelineExecutionDescription"),
        pipeline_version_id=described.get("PipelineVersionId"),
    )
    execution._clients = clients
    return execution


def _list_steps(arn: str, clients: AwsClients) -> list[Mapping[str, Any]]:
    """Every ListPipelineExecutionSteps entry of ``arn``, oldest first."""
    with aws_errors("ListPipelineExecutionSteps", arn):
        pages = clients.sagemaker.get_paginator("list_pipeline_execution_steps").paginate(
            PipelineExecutionArn=arn, SortOrder="Ascending"
        )
        return [entry for page in pages for entry in page.get("PipelineExecutionSteps", [])]


def _s3_output_root(steps: list[StepDetail], clients: AwsClients) -> str | None:
    """The S3 output root of the execution's evaluation training jobs, when one has started."""
    result_steps = {step.value for step in (*BENCHMARK_RESULT_STEPS, *LLMAJ_RESULT_STEPS)}
    training_jobs = sorted(
        (s for s in steps if s.job_arn and _TRAINING_JOB_ARN_MARKER in s.job_arn),
        key=lambda s: s.name not in result_steps,
    )
    for job_name in (s.job_arn.rsplit("/", 1)[-1] for s in training_jobs if s.job_arn):
        with aws_errors("DescribeTrainingJob", job_name):
            described = clients.sagemaker.describe_training_job(TrainingJobName=job_name)
        root = (described.get("OutputDataConfig") or {}).get("S3OutputPath")
        if root:
            return str(parse_s3_uri(root, name=f"S3OutputPath of training job {job_name}"))
    return None


def _pipeline_executions(
    pipeline_name: str, eval_type: EvalType, clients: AwsClients
) -> Iterator[EvaluationPipelineExecution]:
    """Executions of one pipeline from ListPipelineExecutions summaries, newest first."""
    execution_class = execution_class_for(eval_type)
    with aws_errors("ListPipelineExecutions", pipeline_name):
        pages = clients.sagemaker.get_paginator("list_pipeline_executions").paginate(
            PipelineName=pipeline_name, SortBy="CreationTime", SortOrder="Descending"
        )
        for page in pages:
            for summary in page.get("PipelineExecutionSummaries", []):
                display_name = summary.get("PipelineExecutionDisplayName")
                arn = summary["PipelineExecutionArn"]
                execution = execution_class(
                    arn=arn,
                    name=name_from_display_name(display_name) if display_name else arn.rsplit("/", 1)[-1],
                    eval_type=eval_type,
                    status=PipelineExecutionStatus.from_api(summary),
                    pipeline_name=pipeline_name,
                    creation_time=summary.get("StartTime"),
                    display_name=display_name,
                    description=summary.get("PipelineExecutionDescription"),
                )
                execution._clients = clients
                yield execution


def _creation_order(execution: EvaluationPipelineExecution) -> datetime:
    return execution.creation_time or datetime.min.replace(tzinfo=timezone.utc)
