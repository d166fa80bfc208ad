"""Helpers of the end-to-end tests: unique names, runs, and the executions a task instance started."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from airflow_provider_sm_eval.utils.reattach import TaskInstanceIdentity
from devstack import AirflowStack


def unique_name(prefix: str) -> str:
    """An evaluation name no other run of the session uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def trigger_named(stack: AirflowStack, dag_id: str, name: str) -> str:
    """Trigger ``dag_id`` with evaluation name ``name``; the run id."""
    return stack.api.trigger(dag_id, conf={"name": name}, run_id=f"{name}__run")


def executions_of(stack: AirflowStack, dag_id: str, run_id: str, task_id: str = "evaluate") -> list[str]:
    """ARNs of every execution (of any pipeline) that the task instance's tries started.

    The operator writes the task instance's retry-stable marker into each execution's
    description, so this counts executions, not start calls.
    """
    marker = TaskInstanceIdentity(dag_id, task_id, run_id, -1).description_marker
    client = stack.emulator_client("sagemaker")
    found = []
    pipelines = client.get_paginator("list_pipelines").paginate().build_full_result()["PipelineSummaries"]
    for pipeline in pipelines:
        pages = client.get_paginator("list_pipeline_executions").paginate(
            PipelineName=pipeline["PipelineName"]
        )
        # The summaries carry the description (as SageMaker's do): no DescribePipelineExecution each.
        for summary in pages.build_full_result()["PipelineExecutionSummaries"]:
            if marker in (summary.get("PipelineExecutionDescription") or ""):
                found.append(summary["PipelineExecutionArn"])
    return found


def execution_status(stack: AirflowStack, arn: str) -> str:
    client = stack.emulator_client("sagemaker")
    return str(client.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"])


def wait_for_execution_status(stack: AirflowStack, arn: str, statuses: set[str], timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while (status := execution_status(stack, arn)) not in statuses:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{arn} is {status}, not in {sorted(statuses)}, after {timeout:g} s")
        time.sleep(0.5)
    return status


@contextmanager
def emulator_step_seconds(stack: AirflowStack, seconds: float) -> Iterator[None]:
    """Emulated steps take ``seconds`` inside the block (long enough to act while tasks wait)."""
    before = stack.emulator_control("GET", "config")["step_seconds"]
    stack.emulator_control("PUT", "config", {"step_seconds": seconds})
    try:
        yield
    finally:
        stack.emulator_control("PUT", "config", {"step_seconds": before})


def wait_for_deferred(
    stack: AirflowStack, dag_id: str, run_id: str, task_id: str = "evaluate"
) -> dict[str, Any]:
    """Wait until the task instance is deferred; the task instance (with its ``trigger``)."""
    return wait_for_all_deferred(stack, [(dag_id, run_id, task_id)])[0]


def wait_for_all_deferred(
    stack: AirflowStack, instances: list[tuple[str, str, str]], timeout: float = 240
) -> list[dict[str, Any]]:
    """Wait until each ``(dag_id, run_id, task_id)`` was seen deferred; each task instance as seen then.

    They are polled together, so that a short deferral of one is not missed while waiting for
    another. A task instance that ends without being seen deferred fails the wait.
    """
    seen: dict[int, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < len(instances):
        for index, (dag_id, run_id, task_id) in enumerate(instances):
            if index in seen:
                continue
            instance = stack.api.task_instance(dag_id, run_id, task_id)
            if instance["state"] == "deferred":
                seen[index] = instance
            elif instance["state"] in ("success", "failed", "upstream_failed", "skipped"):
                raise AssertionError(
                    f"{dag_id}/{run_id}/{task_id} ended {instance['state']} without being seen deferred\n"
                    f"{failed_task_logs(stack, dag_id, run_id)}"
                )
        if len(seen) < len(instances):
            if time.monotonic() > deadline:
                pending = [instance for index, instance in enumerate(instances) if index not in seen]
                raise TimeoutError(f"not deferred after {timeout:g} s: {pending}")
            time.sleep(0.5)
    return [seen[index] for index in range(len(instances))]


def alive_triggerer_jobs(stack: AirflowStack) -> set[int]:
    """IDs of the triggerer jobs whose heartbeat is recent."""
    jobs = stack.api.get_all("/jobs", "jobs", job_type="TriggererJob", is_alive=True)
    return {int(job["id"]) for job in jobs}


def triggerer_jobs(
    stack: AirflowStack, dag_id: str, run_ids: list[str], task_id: str = "evaluate"
) -> dict[str, int | None]:
    """Run id -> the triggerer job holding its deferred task's trigger (None: no triggerer yet)."""
    jobs: dict[str, int | None] = {}
    for run_id in run_ids:
        trigger = stack.api.task_instance(dag_id, run_id, task_id).get("trigger") or {}
        job = trigger.get("triggerer_id")
        jobs[run_id] = int(job) if job is not None else None
    return jobs


def wait_for_triggerer_jobs(
    stack: AirflowStack, dag_id: str, run_ids: list[str], timeout: float = 120
) -> dict[str, int]:
    """Run id -> triggerer job, once a triggerer holds each deferred task's trigger (a trigger is
    assigned on a triggerer's next loop after the deferral)."""
    deadline = time.monotonic() + timeout
    while None in (jobs := triggerer_jobs(stack, dag_id, run_ids)).values():
        assert time.monotonic() < deadline, f"waits not assigned to a triggerer in {timeout:g} s: {jobs}"
        time.sleep(1)
    return {run_id: job for run_id, job in jobs.items() if job is not None}


def wait_for_trigger_started(
    stack: AirflowStack,
    dag_id: str,
    run_id: str,
    task_id: str = "evaluate",
    timeout: float = 120,
    *,
    by: str | None = None,
) -> None:
    """Wait until a triggerer (component ``by``, if given) runs the task's trigger (a deferred
    task's trigger may not have started yet).

    Airflow calls a trigger's ``on_kill`` only once a triggerer runs it; the triggerer writes
    "trigger <dag>/<run>/<task>/... starting" to the try's trigger log, in its own log folder.
    """
    roots = [stack.task_log_folder_of(by)] if by is not None else stack.task_log_folders
    relative = Path(f"dag_id={dag_id}") / f"run_id={run_id}" / f"task_id={task_id}"
    started = f"trigger {dag_id}/{run_id}/{task_id}/"
    deadline = time.monotonic() + timeout
    while not any(
        started in line and "starting" in line
        for root in roots
        for path in (root / relative).glob("attempt=*.log.trigger.*.log")
        for line in path.read_text(errors="replace").splitlines()
    ):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no triggerer started the trigger of {started} in {timeout:g} s")
        time.sleep(0.5)


def run_to_end(
    stack: AirflowStack, dag_id: str, run_id: str, expected: str = "success", timeout: float = 300
) -> None:
    """Wait for the run to end in ``expected``; otherwise fail with the logs of its failed tasks."""
    state = stack.api.wait_for_run(dag_id, run_id, timeout)
    if state != expected:
        raise AssertionError(
            f"run {dag_id}/{run_id} ended {state}, not {expected}\n{failed_task_logs(stack, dag_id, run_id)}"
        )


def failed_task_logs(stack: AirflowStack, dag_id: str, run_id: str) -> str:
    """The last try's log of every task instance of the run that did not succeed."""
    parts = []
    for ti in stack.api.get_all(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", "task_instances"):
        if ti["state"] != "success":
            try_number, index = max(ti["try_number"], 1), ti["map_index"]
            log = stack.api.task_log(dag_id, run_id, ti["task_id"], try_number, map_index=index)
            parts.append(f"--- {ti['task_id']}[{index}] ({ti['state']}, try {try_number}):\n{log[-6000:]}")
    return "\n".join(parts)


def asset_events(stack: AirflowStack, dag_id: str) -> dict[str, list[str]]:
    """Execution ARN -> runs of ``dag_id`` (event-driven) that consumed its asset event (maybe none yet)."""
    events = stack.api.get_all("/assets/events", "asset_events")
    consumed: dict[str, list[str]] = {}
    for event in events:
        payload: dict[str, Any] = (event.get("extra") or {}).get("payload") or {}
        if payload.get("execution_arn"):
            runs = [run["run_id"] for run in event.get("created_dagruns") or [] if run["dag_id"] == dag_id]
            consumed.setdefault(payload["execution_arn"], []).extend(runs)
    return consumed


def ended_evaluation(stack: AirflowStack, dag_id: str, prefix: str) -> str:
    """Run one evaluation of ``dag_id`` (a stack DAG taking a ``name`` conf) to its success; its ARN."""
    run_id = trigger_named(stack, dag_id, unique_name(prefix))
    run_to_end(stack, dag_id, run_id)
    (arn,) = executions_of(stack, dag_id, run_id)
    return arn


#: The event-driven example's gate, mapped over the executions whose ends its run consumed.
GATE_TASK = "quality_gate"
#: The task of the event-driven example that lists those executions.
ENDED_EXECUTIONS_TASK = "ended_executions"


def run_gates_of(
    stack: AirflowStack, dag_id: str, arns: list[str], flush: Callable[[], str], timeout: float = 180
) -> None:
    """Wait until the end of every execution in ``arns`` reached the asset of event-driven
    ``dag_id`` and a run of it consumed the event; run each such run to its end, and check that it
    gated every execution it consumed, once each. Each wait has ``timeout``.

    Airflow starts one run for the events that arrive together, and up to 3.3 it leaves the
    events that arrive while the first one waits for its run to the run of the next event
    (apache/airflow#54659): when no event is queued for ``dag_id`` and some of ``arns`` were
    consumed by no run, ``flush`` ends one more evaluation (its ARN), whose run takes them.
    """
    expected = list(arns)
    deadline = time.monotonic() + timeout
    while not set(expected) <= set(events := asset_events(stack, dag_id)):
        assert time.monotonic() < deadline, f"no asset event for {set(expected) - set(events)}"
        time.sleep(2)
    deadline = time.monotonic() + timeout
    while left := [arn for arn in expected if not asset_events(stack, dag_id).get(arn)]:
        # A run takes its events and their queue row in one transaction: with nothing queued,
        # the events left are waiting for the next event.
        if not stack.api.get(f"/dags/{dag_id}/assets/queuedEvents")["queued_events"]:
            assert len(expected) - len(arns) < 3, f"three more ends left {left} unconsumed"
            expected.append(flush())
            deadline = time.monotonic() + timeout
            continue
        if time.monotonic() > deadline:
            listed = stack.api.get_all(f"/dags/{dag_id}/dagRuns", "dag_runs")
            runs = [(run["dag_run_id"], run["state"]) for run in listed]
            paused = stack.api.get(f"/dags/{dag_id}")["is_paused"]
            raise AssertionError(
                f"the asset events of {left} started no run of {dag_id} in {timeout:g} s "
                f"(paused: {paused}; its runs: {runs})"
            )
        time.sleep(2)
    consumed = asset_events(stack, dag_id)
    for run_id in {run for arn in expected for run in consumed[arn]}:
        run_to_end(stack, dag_id, run_id)
        by_run = {arn for arn, runs in consumed.items() if run_id in runs}
        assert set(stack.api.xcom(dag_id, run_id, ENDED_EXECUTIONS_TASK)) == by_run
        tis = stack.api.get_all(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", "task_instances")
        gates = [ti for ti in tis if ti["task_id"] == GATE_TASK]
        assert len(gates) == len(by_run), f"run {run_id} consumed {len(by_run)} ends, gated {len(gates)}"
