"""The SageMaker pipeline API of the emulator: pipelines, executions, steps and their jobs.

Each public ``op_*`` method implements one operation: it takes the request parameters (as
botocore sends them) and the region, and returns the response parameters in the shapes of
botocore's SageMaker model (timestamps as epoch seconds). All state sits behind one lock.

A call brings up to date only the executions it touches (looked up by ARN), so its cost does not
grow with the number of executions held; the emulator's clock thread advances the others from a
heap of their next transition times, so a tick costs O(due executions * log n), not O(n).
"""

from __future__ import annotations

import heapq
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sagemaker_eval_emulator.artifacts import (
    PutObject,
    eval_kind_of,
    is_custom_model_step,
    write_step_results,
    writes_results,
)
from sagemaker_eval_emulator.catalog import CATALOG_OPERATIONS, Catalog
from sagemaker_eval_emulator.definition import PipelineDefinition, parse_definition, resolve
from sagemaker_eval_emulator.errors import (
    ConflictException,
    ResourceNotFound,
    ValidationException,
)
from sagemaker_eval_emulator.execution import (
    Execution,
    Listener,
    StepOutcome,
    StepRefused,
    StepRun,
    Timing,
)
from sagemaker_eval_emulator.faults import FaultController
from sagemaker_eval_emulator.params import (
    EXECUTION_DISPLAY_NAME,
    MAX_TAGS,
    checked_pipeline_name,
    checked_role_arn,
    created_in_window,
    max_parallel_steps,
    paginate,
    parsed_tags,
    required_param,
    with_next_token,
    with_optional,
)
from sagemaker_eval_emulator.results import MetricSeed, ResultSettings
from sagemaker_eval_emulator.service import (
    RETRYABLE_STATUSES,
    STOPPABLE_STATUSES,
    S3Uri,
    check_execution_arn,
    parse_s3_uri,
    partition_of,
    pipeline_arn,
)
from sagemaker_eval_emulator.step_requests import check_training_request, run_lineage_step
from sagemaker_eval_emulator.training_jobs import (
    TrainingJob,
    describe_training_job,
    training_job_name,
)
from sagemaker_eval_emulator.validation import max_definition_length

#: Reads one object (at a version when given); raises when it cannot.
GetObject = Callable[[S3Uri, str | None], bytes]

#: Account of every resource the emulator creates (moto's default account).
ACCOUNT_ID = "123456789012"
_PIPELINE_ARN = re.compile(r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:\d{12}:pipeline/(?P<name>[^/]+)$")


@dataclass
class PipelineVersion:
    version_id: int
    definition: PipelineDefinition
    created: float
    display_name: str | None = None
    description: str | None = None
    last_execution_arn: str | None = None


@dataclass
class Pipeline:
    name: str
    arn: str
    region: str
    role_arn: str
    display_name: str
    description: str | None
    created: float
    create_token: str
    parallelism: dict[str, Any] | None
    versions: list[PipelineVersion]
    modified: float = 0.0
    last_run: float | None = None
    tags: dict[str, str] = field(default_factory=dict)
    executions: list[Execution] = field(default_factory=list)  # in creation order

    @property
    def current(self) -> PipelineVersion:
        return self.versions[-1]


class PipelineBackend:
    """In-memory SageMaker pipelines of one emulator (all regions)."""

    def __init__(
        self,
        *,
        put_object: PutObject,
        get_object: GetObject,
        faults: FaultController,
        result_settings: ResultSettings,
        step_seconds: float,
        examples: int,
        listener: Listener | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        self._lock = threading.RLock()
        #: Hubs, model packages, MLflow apps and lineage (what the SDK looks up around a pipeline).
        self.catalog = catalog if catalog is not None else Catalog(ACCOUNT_ID)
        self._listener = listener
        self._put_object = put_object
        self._get_object = get_object
        self.faults = faults
        self.result_settings = result_settings
        self.step_seconds = step_seconds
        self.examples = examples
        self._pipelines: dict[tuple[str, str], Pipeline] = {}
        self._executions: dict[str, Execution] = {}
        self._start_tokens: dict[tuple[str, str], str] = {}
        self._jobs: dict[tuple[str, str], TrainingJob] = {}
        self._last_stamp = 0.0
        self._due: list[tuple[float, str]] = []  # heap of (next transition time, execution ARN)
        self._scheduled: dict[str, float] = {}  # ARN -> its live entry in _due (others are stale)

    # --- state -------------------------------------------------------------------------
    def _now(self) -> float:
        """A fresh timestamp for a change made by a request (caller holds the lock).

        Millisecond precision, as AWS timestamps have, so that a timestamp read back and sent
        again (``CreatedAfter=...``) compares equal; strictly increasing, so that resources
        created one after the other never share a creation time.
        """
        self._last_stamp = max(round(time.time(), 3), round(self._last_stamp + 0.001, 3))
        return self._last_stamp

    def reset(self) -> None:
        with self._lock:
            self._pipelines.clear()
            self._executions.clear()
            self._start_tokens.clear()
            self._jobs.clear()
            self._due.clear()
            self._scheduled.clear()
            self.catalog.reset()

    def advance(self, now: float | None = None) -> None:
        """Bring every execution with a transition due at ``now`` up to ``now`` (the clock's tick)."""
        with self._lock:
            now = time.time() if now is None else now
            while self._due and self._due[0][0] <= now:
                due, arn = heapq.heappop(self._due)
                if self._scheduled.get(arn) != due:
                    continue  # stale: the execution was advanced or changed since
                del self._scheduled[arn]
                execution = self._executions.get(arn)
                if execution is not None:
                    self._touch(execution, now)

    def _touch(self, execution: Execution, now: float | None = None) -> Execution:
        """Bring one execution up to ``now`` and schedule its next transition."""
        if not execution.is_terminal:
            now = time.time() if now is None else now
            execution.advance(now, Timing(self.step_seconds), self._start_job, self._finish_step)
        self._schedule(execution)
        return execution

    def _schedule(self, execution: Execution) -> None:
        due = execution.next_due()
        if due is None:
            self._scheduled.pop(execution.arn, None)
        elif self._scheduled.get(execution.arn) != due:
            self._scheduled[execution.arn] = due
            heapq.heappush(self._due, (due, execution.arn))

    def handles_training_job(self, name: str, region: str) -> bool:
        with self._lock:
            return (region, name) in self._jobs

    def handles_resource(self, arn: str) -> bool:
        """True for the ARN of a pipeline of this backend (tags of others go to moto)."""
        return isinstance(arn, str) and _PIPELINE_ARN.match(arn) is not None

    # --- pipelines ----------------------------------------------------------------------
    def op_create_pipeline(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        name = checked_pipeline_name(params)
        token = required_param(params, "ClientRequestToken")
        role = checked_role_arn(params["RoleArn"]) if "RoleArn" in params else None
        if role is None:
            raise ValidationException(
                "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint"
            )
        tags = parsed_tags(params.get("Tags", []))
        with self._lock:
            existing = self._pipelines.get((region, name.lower()))
            if existing is not None:
                if existing.create_token == token:
                    return {"PipelineArn": existing.arn}
                raise ValidationException(
                    f"Pipeline names must be unique within an AWS account and region. "
                    f"Pipeline with name ({name}) already exists."
                )
            definition = self._definition(params)
            now = self._now()
            pipeline = Pipeline(
                name=name,
                arn=pipeline_arn(partition_of(region), region, ACCOUNT_ID, name),
                region=region,
                role_arn=role,
                display_name=params.get("PipelineDisplayName") or name,
                description=params.get("PipelineDescription"),
                created=now,
                modified=now,
                create_token=token,
                parallelism=params.get("ParallelismConfiguration"),
                versions=[PipelineVersion(1, definition, now)],
                tags=tags,
            )
            self._pipelines[(region, name.lower())] = pipeline
            return {"PipelineArn": pipeline.arn}

    def op_update_pipeline(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        with self._lock:
            pipeline = self._pipeline(params, region)
            has_definition = "PipelineDefinition" in params or "PipelineDefinitionS3Location" in params
            definition = self._definition(params) if has_definition else pipeline.current.definition
            if "RoleArn" in params:
                pipeline.role_arn = checked_role_arn(params["RoleArn"])
            for key, attr in (
                ("PipelineDisplayName", "display_name"),
                ("PipelineDescription", "description"),
            ):
                if key in params:
                    setattr(pipeline, attr, params[key])
            if "ParallelismConfiguration" in params:
                pipeline.parallelism = params["ParallelismConfiguration"]
            now = self._now()
            pipeline.versions.append(PipelineVersion(pipeline.current.version_id + 1, definition, now))
            pipeline.modified = now
            return {"PipelineArn": pipeline.arn, "PipelineVersionId": pipeline.current.version_id}

    def op_describe_pipeline(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        with self._lock:
            pipeline = self._pipeline(params, region)
            version = self._version(pipeline, params.get("PipelineVersionId"))
            response: dict[str, Any] = {
                "PipelineArn": pipeline.arn,
                "PipelineName": pipeline.name,
                "PipelineDisplayName": pipeline.display_name,
                "PipelineDefinition": version.definition.text,
                "RoleArn": pipeline.role_arn,
                "PipelineStatus": "Active",
                "CreationTime": pipeline.created,
                "LastModifiedTime": pipeline.modified,
            }
            return with_optional(
                response,
                PipelineDescription=pipeline.description,
                LastRunTime=pipeline.last_run,
                ParallelismConfiguration=pipeline.parallelism or None,
                PipelineVersionDisplayName=version.display_name,
                PipelineVersionDescription=version.description,
            )

    def op_list_pipeline_versions(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        with self._lock:
            pipeline = self._pipeline(params, region)
            versions = [
                v
                for v in pipeline.versions
                if created_in_window(v.created, params.get("CreatedAfter"), params.get("CreatedBefore"))
            ]
            if params.get("SortOrder", "Descending") == "Descending":
                versions.reverse()
            page, token = paginate(versions, params)
            summaries = [
                with_optional(
                    {
                        "PipelineArn": pipeline.arn,
                        "PipelineVersionId": v.version_id,
                        "CreationTime": v.created,
                    },
                    PipelineVersionDisplayName=v.display_name,
                    PipelineVersionDescription=v.description,
                    LastExecutionPipelineExecutionArn=v.last_execution_arn,
                )
                for v in page
            ]
            return with_next_token({"PipelineVersionSummaries": summaries}, token)

    def op_update_pipeline_version(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        version_id = required_param(params, "PipelineVersionId")
        with self._lock:
            pipeline = self._pipeline_by_arn(required_param(params, "PipelineArn"))
            version = self._version(pipeline, version_id)
            if "PipelineVersionDisplayName" in params:
                version.display_name = params["PipelineVersionDisplayName"]
            if "PipelineVersionDescription" in params:
                version.description = params["PipelineVersionDescription"]
            return {"PipelineArn": pipeline.arn, "PipelineVersionId": version.version_id}

    def op_list_pipelines(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        prefix = params.get("PipelineNamePrefix", "")
        sort_by = params.get("SortBy", "CreationTime")
        with self._lock:
            pipelines = [
                p
                for p in self._pipelines.values()
                if p.region == region
                and p.name.startswith(prefix)
                and created_in_window(p.created, params.get("CreatedAfter"), params.get("CreatedBefore"))
            ]
            descending = params.get("SortOrder", "Descending") == "Descending"
            if sort_by == "Name":
                pipelines.sort(key=lambda p: p.name, reverse=descending)
            elif descending:  # the state keeps creation order, so ties in CreationTime stay ordered
                pipelines.reverse()
            page, token = paginate(pipelines, params)
            summaries = [
                with_optional(
                    {
                        "PipelineArn": p.arn,
                        "PipelineName": p.name,
                        "PipelineDisplayName": p.display_name,
                        "RoleArn": p.role_arn,
                        "CreationTime": p.created,
                        "LastModifiedTime": p.modified,
                    },
                    PipelineDescription=p.description,
                    LastExecutionTime=p.last_run,
                )
                for p in page
            ]
            return with_next_token({"PipelineSummaries": summaries}, token)

    def op_delete_pipeline(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        required_param(params, "ClientRequestToken")
        with self._lock:
            pipeline = self._pipeline(params, region)
            del self._pipelines[(region, pipeline.name.lower())]
            for execution in pipeline.executions:
                del self._executions[execution.arn]
                self._scheduled.pop(execution.arn, None)
            return {"PipelineArn": pipeline.arn}

    def op_add_tags(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        tags = parsed_tags(params.get("Tags", []))
        with self._lock:
            pipeline = self._pipeline_by_arn(required_param(params, "ResourceArn"))
            merged = {**pipeline.tags, **tags}
            if len(merged) > MAX_TAGS:
                raise ValidationException(f"A resource can have at most {MAX_TAGS} tags")
            pipeline.tags = merged
            return {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}

    def op_list_tags(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        with self._lock:
            pipeline = self._pipeline_by_arn(required_param(params, "ResourceArn"))
            tags = [{"Key": k, "Value": v} for k, v in pipeline.tags.items()]
            page, token = paginate(tags, params, default=MAX_TAGS, bounds=(MAX_TAGS, 10_000))
            return with_next_token({"Tags": page}, token)

    def op_delete_tags(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        with self._lock:
            pipeline = self._pipeline_by_arn(required_param(params, "ResourceArn"))
            for key in params.get("TagKeys", []):
                pipeline.tags.pop(key, None)
            return {}

    # --- executions ---------------------------------------------------------------------
    def op_start_pipeline_execution(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        token = required_param(params, "ClientRequestToken")
        if not 32 <= len(token) <= 128:
            raise ValidationException(
                f"ClientRequestToken must be 32 to 128 characters long, got {len(token)}"
            )
        display = params.get("PipelineExecutionDisplayName")
        if display is not None and not EXECUTION_DISPLAY_NAME.match(display):
            raise ValidationException(
                f"PipelineExecutionDisplayName {display!r} must match {EXECUTION_DISPLAY_NAME.pattern}"
            )
        with self._lock:
            pipeline = self._pipeline(params, region)
            known = self._start_tokens.get((pipeline.arn, token))
            if known is not None and known in self._executions:
                return {"PipelineExecutionArn": known}
            version = self._version(pipeline, params.get("PipelineVersionId"))
            values = version.definition.bind_parameters(params.get("PipelineParameters"))
            execution_id = uuid.uuid4().hex[:12]
            arn = f"{pipeline.arn}/execution/{execution_id}"
            now = self._now()
            execution = Execution(
                arn=arn,
                execution_id=execution_id,
                pipeline_name=pipeline.name,
                pipeline_arn=pipeline.arn,
                region=region,
                version_id=version.version_id,
                definition=version.definition,
                parameters=values,
                display_name=display or f"execution-{int(now * 1000)}",
                description=params.get("PipelineExecutionDescription"),
                created=now,
                client_request_token=token,
                max_parallel_steps=max_parallel_steps(
                    params.get("ParallelismConfiguration") or pipeline.parallelism
                ),
                listener=self._listener,
            )
            self._executions[arn] = execution
            pipeline.executions.append(execution)
            self._touch(execution, now)
            self._start_tokens[(pipeline.arn, token)] = arn
            pipeline.last_run = now
            version.last_execution_arn = arn
            return {"PipelineExecutionArn": arn}

    def op_describe_pipeline_execution(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        with self._lock:
            execution = self._execution(params, region)
            response: dict[str, Any] = {
                "PipelineArn": execution.pipeline_arn,
                "PipelineExecutionArn": execution.arn,
                "PipelineExecutionDisplayName": execution.display_name,
                "PipelineExecutionStatus": execution.status.value,
                "PipelineExperimentConfig": {
                    "ExperimentName": execution.pipeline_name.lower(),
                    "TrialName": execution.execution_id,
                },
                "CreationTime": execution.created,
                "LastModifiedTime": execution.modified,
                "PipelineVersionId": execution.version_id,
            }
            if execution.description is not None:
                response["PipelineExecutionDescription"] = execution.description
            if execution.failure_reason is not None:
                response["FailureReason"] = execution.failure_reason
            return response

    def op_list_pipeline_executions(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        with self._lock:
            pipeline = self._pipeline(params, region)
            executions = [
                e
                for e in pipeline.executions
                if created_in_window(e.created, params.get("CreatedAfter"), params.get("CreatedBefore"))
            ]
            descending = params.get("SortOrder", "Descending") == "Descending"
            if params.get("SortBy") == "PipelineExecutionArn":
                executions.sort(key=lambda e: e.arn, reverse=descending)
            elif descending:  # the state keeps creation order, so ties in CreationTime stay ordered
                executions.reverse()
            page, token = paginate(executions, params)
            summaries = []
            for e in map(self._touch, page):
                summary: dict[str, Any] = {
                    "PipelineExecutionArn": e.arn,
                    "StartTime": e.created,
                    "PipelineExecutionStatus": e.status.value,
                    "PipelineExecutionDisplayName": e.display_name,
                }
                if e.description is not None:
                    summary["PipelineExecutionDescription"] = e.description
                if e.failure_reason is not None:
                    summary["PipelineExecutionFailureReason"] = e.failure_reason
                summaries.append(summary)
            return with_next_token({"PipelineExecutionSummaries": summaries}, token)

    def op_list_pipeline_execution_steps(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        with self._lock:
            execution = self._execution(params, region)
            order = list(execution.steps)
            started = sorted(
                (s for s in execution.steps.values() if s.start_time is not None),
                key=lambda s: (s.start_time or 0.0, order.index(s.name)),
                reverse=params.get("SortOrder", "Descending") == "Descending",
            )
            page, token = paginate(started, params)
            return with_next_token({"PipelineExecutionSteps": [_step_entry(s) for s in page]}, token)

    def op_stop_pipeline_execution(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        token = required_param(params, "ClientRequestToken")
        with self._lock:
            execution = self._execution(params, region)
            if token in execution.stop_tokens:
                return {"PipelineExecutionArn": execution.arn}
            if execution.status not in STOPPABLE_STATUSES:
                raise ConflictException(
                    f"Pipeline execution {execution.arn} is {execution.status.value}; "
                    "only an Executing pipeline execution can be stopped"
                )
            execution.stop(self._now(), Timing(self.step_seconds))
            execution.stop_tokens.add(token)
            self._schedule(execution)
            return {"PipelineExecutionArn": execution.arn}

    def op_retry_pipeline_execution(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        token = required_param(params, "ClientRequestToken")
        with self._lock:
            execution = self._execution(params, region)
            if token in execution.retry_tokens:
                return {"PipelineExecutionArn": execution.arn}
            if execution.status not in RETRYABLE_STATUSES:
                raise ConflictException(
                    f"Pipeline execution {execution.arn} is {execution.status.value}; only Failed or "
                    "Stopped pipeline executions can be retried"
                )
            execution.retry(self._now())
            execution.retry_tokens.add(token)
            self._touch(execution)
            return {"PipelineExecutionArn": execution.arn}

    def op_describe_pipeline_definition_for_execution(
        self, params: dict[str, Any], region: str
    ) -> dict[str, Any]:
        with self._lock:
            execution = self._execution(params, region)
            return {"PipelineDefinition": execution.definition.text, "CreationTime": execution.created}

    def op_describe_training_job(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        name = required_param(params, "TrainingJobName")
        with self._lock:
            job = self._jobs.get((region, name))
            if job is None:
                raise ResourceNotFound(f"Requested resource not found: training job {name} does not exist")
            execution = self._executions.get(job.execution_arn)
            if execution is not None:
                self._touch(execution)
            return describe_training_job(job)

    # --- lookups ------------------------------------------------------------------------
    def _pipeline(self, params: dict[str, Any], region: str) -> Pipeline:
        ref = required_param(params, "PipelineName")
        match = _PIPELINE_ARN.match(ref)
        name = match["name"] if match else ref
        pipeline = self._pipelines.get((region, name.lower()))
        if pipeline is None:
            raise ResourceNotFound(f"Pipeline '{ref}' does not exist.")
        return pipeline

    def _pipeline_by_arn(self, arn: str) -> Pipeline:
        for pipeline in self._pipelines.values():
            if pipeline.arn == arn:
                return pipeline
        raise ResourceNotFound(f"Resource {arn} does not exist.")

    def _version(self, pipeline: Pipeline, version_id: Any) -> PipelineVersion:
        if version_id is None:
            return pipeline.current
        for version in pipeline.versions:
            if version.version_id == version_id:
                return version
        raise ResourceNotFound(f"Pipeline version {version_id} of pipeline '{pipeline.name}' does not exist.")

    def _execution(self, params: dict[str, Any], region: str) -> Execution:
        """The execution of ``PipelineExecutionArn``, brought up to date; one of another region
        than the request's is not found, as SageMaker's endpoints are regional."""
        arn = required_param(params, "PipelineExecutionArn")
        try:
            check_execution_arn(arn, name="PipelineExecutionArn")
        except ValueError as exc:
            raise ValidationException(str(exc)) from None
        execution = self._executions.get(arn)
        if execution is None or execution.region != region:
            raise ResourceNotFound(f"Pipeline execution '{arn}' does not exist.")
        return self._touch(execution)

    def _definition(self, params: dict[str, Any]) -> PipelineDefinition:
        """The request's definition, given inline or read from ``PipelineDefinitionS3Location``."""
        inline, location = params.get("PipelineDefinition"), params.get("PipelineDefinitionS3Location")
        if (inline is None) == (location is None):
            raise ValidationException(
                "Give exactly one of PipelineDefinition and PipelineDefinitionS3Location"
            )
        if inline is not None:
            return parse_definition(inline)
        if not isinstance(location, dict) or not location.get("Bucket") or not location.get("ObjectKey"):
            raise ValidationException("PipelineDefinitionS3Location needs a Bucket and an ObjectKey")
        uri = S3Uri(location["Bucket"], location["ObjectKey"])
        try:
            body = self._get_object(uri, location.get("VersionId"))
        except Exception as exc:  # the service reports an unreadable location as a bad request
            raise ValidationException(f"Unable to read the pipeline definition from {uri}: {exc}") from None
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationException(f"The pipeline definition at {uri} is not UTF-8 text") from None
        if len(text) > (limit := max_definition_length()):
            raise ValidationException(
                f"The pipeline definition at {uri} has {len(text)} characters; at most {limit} are allowed"
            )
        return parse_definition(text)

    # --- step runs ----------------------------------------------------------------------
    def _start_job(self, execution: Execution, step: StepRun, at: float) -> TrainingJob:
        """The training job of a Training step; StepRefused when SageMaker refuses its request."""
        arguments = resolve(step.spec.arguments, execution.context())
        name = training_job_name(execution.arn, execution.execution_id, step.name, step.attempts)
        check_training_request(arguments, job_name=name, mlflow_config=execution.definition.mlflow_config)
        output = arguments.get("OutputDataConfig")
        s3_output_path = output.get("S3OutputPath") if isinstance(output, dict) else None
        job = TrainingJob(
            name=name,
            arn=f"arn:{partition_of(execution.region)}:sagemaker:{execution.region}:{ACCOUNT_ID}:training-job/{name}",
            step_name=step.name,
            execution_arn=execution.arn,
            arguments=arguments,
            s3_output_path=s3_output_path if isinstance(s3_output_path, str) else None,
            created=at,
            modified=at,
        )
        self._jobs[(execution.region, name)] = job
        return job

    def _finish_step(self, execution: Execution, step: StepRun, at: float) -> StepOutcome:
        fault = self.faults.take_step_failure(execution.pipeline_name, step.name)
        if fault is not None:
            return StepOutcome(fault.reason, fault.continue_on_failure)
        if step.spec.type == "Lineage":
            try:
                run_lineage_step(
                    self.catalog, resolve(step.spec.arguments, execution.context()), execution.region
                )
            except StepRefused as exc:
                return StepOutcome(str(exc))
            return StepOutcome()
        kind = eval_kind_of(execution.pipeline_name, execution.steps)
        if kind is None or step.job is None or not writes_results(kind, step.name):
            return StepOutcome()
        raw_root = step.job.s3_output_path
        if raw_root is None:
            return StepOutcome("ClientError: OutputDataConfig.S3OutputPath of the training job is missing")
        try:
            root = parse_s3_uri(raw_root, name="OutputDataConfig.S3OutputPath")
        except ValueError as exc:
            return StepOutcome(f"ClientError: {exc}")
        seed = MetricSeed(
            execution_id=execution.execution_id,
            step_name=step.name,
            is_custom=is_custom_model_step(kind, step.name),
            custom_worse_than_base=self.result_settings.custom_worse_than_base,
            overrides=self.result_settings.overrides_for(execution.pipeline_name, step.name),
        )
        try:
            write_step_results(
                self._put_object,
                root=root,
                kind=kind,
                training_job_name=step.job.name,
                seed=seed,
                examples=self.examples,
                finished_at=datetime.fromtimestamp(at, timezone.utc),
                hyperparameters=step.job.arguments.get("HyperParameters"),
            )
        except Exception as exc:  # the job fails as a real one would on an upload error
            return StepOutcome(f"ClientError: Failed to upload evaluation results to {raw_root}: {exc}")
        return StepOutcome()


def _step_entry(step: StepRun) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "StepName": step.name,
        "StepStatus": step.status.value if step.status else None,
        "StartTime": step.start_time,
        "AttemptCount": step.attempts,
        "Metadata": {},
    }
    if step.spec.display_name:
        entry["StepDisplayName"] = step.spec.display_name
    if step.spec.description:
        entry["StepDescription"] = step.spec.description
    if step.end_time is not None:
        entry["EndTime"] = step.end_time
    if step.failure_reason is not None:
        entry["FailureReason"] = step.failure_reason
    if step.job is not None:
        entry["Metadata"] = {"TrainingJob": {"Arn": step.job.arn}}
    return entry


#: Operation name -> backend method.
OPERATIONS: dict[str, Callable[[PipelineBackend, dict[str, Any], str], dict[str, Any]]] = {
    "CreatePipeline": PipelineBackend.op_create_pipeline,
    "UpdatePipeline": PipelineBackend.op_update_pipeline,
    "DescribePipeline": PipelineBackend.op_describe_pipeline,
    "ListPipelineVersions": PipelineBackend.op_list_pipeline_versions,
    "UpdatePipelineVersion": PipelineBackend.op_update_pipeline_version,
    "ListPipelines": PipelineBackend.op_list_pipelines,
    "DeletePipeline": PipelineBackend.op_delete_pipeline,
    "AddTags": PipelineBackend.op_add_tags,
    "ListTags": PipelineBackend.op_list_tags,
    "DeleteTags": PipelineBackend.op_delete_tags,
    "StartPipelineExecution": PipelineBackend.op_start_pipeline_execution,
    "DescribePipelineExecution": PipelineBackend.op_describe_pipeline_execution,
    "ListPipelineExecutions": PipelineBackend.op_list_pipeline_executions,
    "ListPipelineExecutionSteps": PipelineBackend.op_list_pipeline_execution_steps,
    "StopPipelineExecution": PipelineBackend.op_stop_pipeline_execution,
    "RetryPipelineExecution": PipelineBackend.op_retry_pipeline_execution,
    "DescribePipelineDefinitionForExecution": PipelineBackend.op_describe_pipeline_definition_for_execution,
    "DescribeTrainingJob": PipelineBackend.op_describe_training_job,
}


def _catalog_operation(
    method: Callable[[Catalog, dict[str, Any], str], dict[str, Any]],
) -> Callable[[PipelineBackend, dict[str, Any], str], dict[str, Any]]:
    return lambda backend, params, region: method(backend.catalog, params, region)


OPERATIONS.update({name: _catalog_operation(method) for name, method in CATALOG_OPERATIONS.items()})
#: Operations on resources that may belong to moto instead (decided per request).
SHARED_OPERATIONS = frozenset({"AddTags", "ListTags", "DeleteTags", "DescribeTrainingJob"})
