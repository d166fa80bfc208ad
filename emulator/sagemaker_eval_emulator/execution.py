"""The state machine of one pipeline execution and its steps.

Time is explicit: ``advance(now)`` moves the execution to where it is at ``now``. Every
transition happens at the exact end of its phase (not at the moment it is noticed), so step
start and end times follow from the step durations alone.

A step runs Starting -> Executing -> Succeeded | Failed, or -> Stopping -> Stopped on stop.
Steps start once all their dependencies have succeeded. After a failure no new step starts
(unless the failure was injected with ``continue_on_failure``), and the execution ends when no
step is running any more.

Every status change of the execution or of a step is reported to the execution's ``listener``
(the emulator publishes them as EventBridge events), at the time the change happened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sagemaker_eval_emulator.definition import PipelineDefinition, StepSpec
from sagemaker_eval_emulator.service import (
    RETRYABLE_STATUSES,
    STOPPABLE_STATUSES,
    ExecutionStatus,
    StepStatus,
)
from sagemaker_eval_emulator.training_jobs import TrainingJob, model_artifacts_uri

#: Share of a step's duration spent in ``Starting``; the rest is ``Executing``.
STARTING_SHARE = 0.2
#: Stopping takes this share of a step's duration.
STOPPING_SHARE = 0.2
_MAX_FAILURE_REASON = 1300
_RUNNING = frozenset({StepStatus.STARTING, StepStatus.EXECUTING, StepStatus.STOPPING})


@dataclass
class StepRun:
    """The latest run of one step of an execution; ``status`` None: not started (yet)."""

    spec: StepSpec
    status: StepStatus | None = None
    start_time: float | None = None
    end_time: float | None = None
    phase_end: float = 0.0
    failure_reason: str | None = None
    continue_on_failure: bool = False
    attempts: int = 0
    job: TrainingJob | None = None

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class StepOutcome:
    """How a step run ends: success, or failure with a reason."""

    failure_reason: str | None = None
    continue_on_failure: bool = False


#: Called when a step reaches the end of ``Executing``; decides success or failure.
FinishStep = Callable[["Execution", StepRun, float], StepOutcome]


class StepRefused(Exception):
    """SageMaker refused the request a step made when it started; the message is the failure reason."""


#: Called when a Training step starts; returns its training job, or raises StepRefused.
StartJob = Callable[["Execution", StepRun, float], TrainingJob]


@dataclass(frozen=True)
class StatusChange:
    """The execution's status (``step`` None) or a step's status changed at ``at``."""

    step: StepRun | None
    previous: str | None
    current: str
    at: float


#: Told about every status change of an execution, in the order they happen.
Listener = Callable[["Execution", StatusChange], None]


@dataclass
class Timing:
    """Durations of the step phases, from the emulator's current ``step_seconds``."""

    step_seconds: float

    @property
    def starting(self) -> float:
        return self.step_seconds * STARTING_SHARE

    @property
    def executing(self) -> float:
        return self.step_seconds * (1 - STARTING_SHARE)

    @property
    def stopping(self) -> float:
        return self.step_seconds * STOPPING_SHARE


@dataclass
class Execution:
    """One pipeline execution, pinned to a definition version."""

    arn: str
    execution_id: str
    pipeline_name: str
    pipeline_arn: str
    region: str
    version_id: int
    definition: PipelineDefinition
    parameters: dict[str, str]
    display_name: str
    description: str | None
    created: float
    client_request_token: str
    max_parallel_steps: int | None = None
    status: ExecutionStatus = ExecutionStatus.EXECUTING
    failure_reason: str | None = None
    modified: float = 0.0
    run_started: float = 0.0
    _last_event: float = field(default=0.0, init=False, repr=False)
    steps: dict[str, StepRun] = field(default_factory=dict)
    stop_tokens: set[str] = field(default_factory=set)
    retry_tokens: set[str] = field(default_factory=set)
    listener: Listener | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.modified = self.run_started = self._last_event = self.created
        self.steps = {name: StepRun(spec) for name, spec in self.definition.steps.items()}
        self._notify(StatusChange(None, None, self.status.value, self.created))

    @property
    def is_terminal(self) -> bool:
        return self.status not in (ExecutionStatus.EXECUTING, ExecutionStatus.STOPPING)

    def advance(self, now: float, timing: Timing, start_job: StartJob, finish: FinishStep) -> None:
        """Apply every transition due at or before ``now``."""
        while not self.is_terminal and self._step_once(now, timing, start_job, finish):
            pass

    def next_due(self) -> float | None:
        """When the next transition is due (None once terminal).

        After ``advance(now)`` nothing is due at ``now``: a step that can start has started and
        an execution without running steps has ended, so the next transition is the end of the
        earliest running phase.
        """
        if self.is_terminal:
            return None
        return min((s.phase_end for s in self.steps.values() if s.status in _RUNNING), default=None)

    def stop(self, now: float, timing: Timing) -> None:
        """Executing -> Stopping; running steps start stopping. Caller checks the status."""
        if self.status not in STOPPABLE_STATUSES:
            raise RuntimeError(f"execution is {self.status.value}")
        self._set_status(ExecutionStatus.STOPPING, now)
        self.modified = now
        for step in self.steps.values():
            if step.status in (StepStatus.STARTING, StepStatus.EXECUTING):
                self._set_step_status(step, StepStatus.STOPPING, now)
                step.phase_end = now + timing.stopping
                if step.job is not None:
                    step.job.set_status("Stopping", "Stopping", now)

    def retry(self, now: float) -> None:
        """Failed / Stopped -> Executing: failed and stopped steps run again, succeeded ones stay."""
        if self.status not in RETRYABLE_STATUSES:
            raise RuntimeError(f"execution is {self.status.value}")
        for step in self.steps.values():
            if step.status in (StepStatus.FAILED, StepStatus.STOPPED):
                step.status = None
                step.start_time = step.end_time = None
                step.failure_reason = None
                step.continue_on_failure = False
                step.job = None
        self._set_status(ExecutionStatus.EXECUTING, now)
        self.failure_reason = None
        self.modified = self.run_started = self._last_event = now

    def context(self) -> dict[str, Any]:
        """Values of the ``Get`` references that can be resolved now."""
        values: dict[str, Any] = {f"Parameters.{k}": v for k, v in self.parameters.items()}
        values.update(
            {
                "Execution.PipelineExecutionId": self.execution_id,
                "Execution.PipelineExecutionArn": self.arn,
                "Execution.PipelineName": self.pipeline_name,
            }
        )
        for step in self.steps.values():
            job = step.job
            if job is not None and step.status is StepStatus.SUCCEEDED:
                prefix = f"Steps.{step.name}."
                values[prefix + "TrainingJobName"] = job.name
                values[prefix + "TrainingJobArn"] = job.arn
                if job.s3_output_path:
                    values[prefix + "OutputDataConfig.S3OutputPath"] = job.s3_output_path
                    values[prefix + "ModelArtifacts.S3ModelArtifacts"] = model_artifacts_uri(job)
        return values

    def _step_once(self, now: float, timing: Timing, start_job: StartJob, finish: FinishStep) -> bool:
        """Apply the earliest due transition; False when nothing is due."""
        running = sorted(
            (s for s in self.steps.values() if s.status in _RUNNING), key=lambda s: (s.phase_end, s.name)
        )
        due = next((s for s in running if s.phase_end <= now), None)
        ready = self._ready_steps() if self.status is ExecutionStatus.EXECUTING else []
        if self.max_parallel_steps is not None and len(running) >= self.max_parallel_steps:
            ready = []
        if ready and (due is None or self._ready_time(ready[0]) <= due.phase_end):
            step = ready[0]
            at = self._ready_time(step)
            step.start_time, step.end_time, step.failure_reason = at, None, None
            step.attempts += 1
            step.phase_end = at + timing.starting
            self._last_event = at
            self.modified = max(self.modified, at)
            try:
                step.job = start_job(self, step, at) if step.spec.type == "Training" else None
            except StepRefused as exc:  # the job's create request was refused: the step fails at once
                step.job = None
                self._set_step_status(step, StepStatus.STARTING, at)
                step.end_time, step.failure_reason = at, str(exc)[:1024]
                self._set_step_status(step, StepStatus.FAILED, at)
                return True
            self._set_step_status(step, StepStatus.STARTING, at)
            return True
        if due is not None:
            self._finish_phase(due, timing, finish)
            return True
        if not running:
            self._conclude()
            return True
        return False

    def _finish_phase(self, step: StepRun, timing: Timing, finish: FinishStep) -> None:
        at = self._last_event = step.phase_end
        if step.status is StepStatus.STARTING:
            step.phase_end = at + timing.executing
            if step.job is not None:
                step.job.started = at
                step.job.set_status("InProgress", "Training", at)
            self._set_step_status(step, StepStatus.EXECUTING, at)
        elif step.status is StepStatus.EXECUTING:
            outcome = finish(self, step, at)
            step.end_time = at
            if step.job is not None:
                step.job.ended = at
            if outcome.failure_reason is None:
                if step.job is not None:
                    step.job.set_status("Completed", "Completed", at)
                self._set_step_status(step, StepStatus.SUCCEEDED, at)
            else:
                step.failure_reason = outcome.failure_reason[:1024]
                step.continue_on_failure = outcome.continue_on_failure
                if step.job is not None:
                    step.job.failure_reason = step.failure_reason
                    step.job.set_status("Failed", "Failed", at)
                self._set_step_status(step, StepStatus.FAILED, at)
        else:
            step.end_time = at
            if step.job is not None:
                step.job.ended = at
                step.job.set_status("Stopped", "Stopped", at)
            self._set_step_status(step, StepStatus.STOPPED, at)
        self.modified = max(self.modified, at)

    def _ready_steps(self) -> list[StepRun]:
        if any(s.status is StepStatus.FAILED and not s.continue_on_failure for s in self.steps.values()):
            return []
        ready = [
            s
            for s in self.steps.values()
            if s.status is None
            and all(self.steps[d].status is StepStatus.SUCCEEDED for d in s.spec.depends_on)
        ]
        return sorted(ready, key=lambda s: (self._ready_time(s), list(self.steps).index(s.name)))

    def _ready_time(self, step: StepRun) -> float:
        """When ``step`` can start: after its dependencies, and not before the last event applied
        (a step held back by the parallelism limit starts when a slot frees up)."""
        ends = [self.steps[d].end_time or self.run_started for d in step.spec.depends_on]
        return max([self.run_started, self._last_event, *ends])

    def _conclude(self) -> None:
        """No step is running and none can start: the execution ends."""
        ends = [s.end_time for s in self.steps.values() if s.end_time is not None]
        self.modified = max([self.modified, *ends])
        failed = [s for s in self.steps.values() if s.status is StepStatus.FAILED]
        if self.status is ExecutionStatus.STOPPING:
            status = ExecutionStatus.STOPPED
        elif not failed:
            status = ExecutionStatus.SUCCEEDED
        else:
            tolerated = all(s.continue_on_failure for s in failed)
            status = ExecutionStatus.COMPLETED_WITH_FAILURES if tolerated else ExecutionStatus.FAILED
            details = "; ".join(f"step {s.name} failed: {s.failure_reason}" for s in failed)
            self.failure_reason = f"Step failure: {details}"[:_MAX_FAILURE_REASON]
        self._set_status(status, self.modified)

    def _set_status(self, status: ExecutionStatus, at: float) -> None:
        previous, self.status = self.status, status
        self._notify(StatusChange(None, previous.value, status.value, at))

    def _set_step_status(self, step: StepRun, status: StepStatus, at: float) -> None:
        previous, step.status = step.status, status
        self._notify(StatusChange(step, previous.value if previous else None, status.value, at))

    def _notify(self, change: StatusChange) -> None:
        if self.listener is not None:
            self.listener(self, change)
