"""Crashes and user actions against a real deployment: every task ends right, one execution each.

The triggerer is SIGKILLed (its whole process group) with waits in flight and restarted; a
worker is killed while it blocks; one of two triggerers dies; deferred tasks are marked failed,
time out and are cleared; a step fails. Emulated steps are slowed down in each test so that the
kill lands while the tasks wait.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from devstack import AirflowStack
from tests.stack.conftest import SharedRun
from tests.stack.stack_support import (
    alive_triggerer_jobs,
    emulator_step_seconds,
    execution_status,
    executions_of,
    run_to_end,
    trigger_named,
    unique_name,
    wait_for_deferred,
    wait_for_execution_status,
    wait_for_trigger_started,
    wait_for_triggerer_jobs,
)

pytestmark = pytest.mark.stack

TERMINAL = {"Stopped", "Succeeded", "Failed"}
#: Deferred tasks in flight when a triggerer dies.
WAITS = 4


def _one_execution_each(
    stack: AirflowStack, dag_id: str, run_ids: list[str], status: str = "Succeeded"
) -> None:
    for run_id in run_ids:
        arns = executions_of(stack, dag_id, run_id)
        assert len(arns) == 1, f"{run_id}: {len(arns)} executions {arns}"
        assert execution_status(stack, arns[0]) == status


@pytest.mark.timeout(600)
def test_triggerer_killed_with_waits_in_flight_then_restarted(airflow_stack: AirflowStack) -> None:
    with emulator_step_seconds(airflow_stack, 8):
        run_ids = [trigger_named(airflow_stack, "stack_deferred", unique_name("crash")) for _ in range(WAITS)]
        for run_id in run_ids:
            wait_for_deferred(airflow_stack, "stack_deferred", run_id)
        airflow_stack.kill("triggerer")
        time.sleep(2)
        airflow_stack.restart("triggerer")
        for run_id in run_ids:
            run_to_end(airflow_stack, "stack_deferred", run_id)
    _one_execution_each(airflow_stack, "stack_deferred", run_ids)


def test_worker_killed_while_blocking_the_retry_reattaches(airflow_stack: AirflowStack) -> None:
    name = unique_name("blocking")
    with emulator_step_seconds(airflow_stack, 8):
        run_id = trigger_named(airflow_stack, "stack_blocking", name)
        running = airflow_stack.api.wait_for_task_state("stack_blocking", run_id, "evaluate", {"running"})
        deadline = time.monotonic() + 120
        while not executions_of(airflow_stack, "stack_blocking", run_id):
            assert time.monotonic() < deadline, "the blocking task started no execution"
            time.sleep(1)
        pid = airflow_stack.task_process(running["id"])
        assert pid is not None, "no process runs the task"
        os.kill(pid, signal.SIGKILL)
        run_to_end(airflow_stack, "stack_blocking", run_id)
    instance = airflow_stack.api.task_instance("stack_blocking", run_id, "evaluate")
    assert instance["try_number"] == 2
    (arn,) = executions_of(airflow_stack, "stack_blocking", run_id)
    assert execution_status(airflow_stack, arn) == "Succeeded"
    assert "Reattaching to evaluation execution" in airflow_stack.api.task_log(
        "stack_blocking", run_id, "evaluate", 2
    )


@pytest.mark.timeout(900)
def test_two_triggerers_one_killed_its_waits_move_to_the_other(airflow_stack: AirflowStack) -> None:
    before = alive_triggerer_jobs(airflow_stack)
    airflow_stack.start_component("triggerer-2", "triggerer")
    try:
        deadline = time.monotonic() + 120
        while not (alive_triggerer_jobs(airflow_stack) - before):
            assert time.monotonic() < deadline, "the second triggerer never heartbeat"
            time.sleep(1)
        (second_job,) = alive_triggerer_jobs(airflow_stack) - before
        with emulator_step_seconds(airflow_stack, 20):  # the executions outlast every assignment
            run_ids = [
                trigger_named(airflow_stack, "stack_deferred", unique_name("ha")) for _ in range(2 * WAITS)
            ]
            for run_id in run_ids:
                wait_for_deferred(airflow_stack, "stack_deferred", run_id)
            # A deferred task's trigger is assigned to a triggerer on that triggerer's next loop.
            holders = wait_for_triggerer_jobs(airflow_stack, "stack_deferred", run_ids)
            # Kill the triggerer that holds waits (the second one when it holds any).
            victim, victim_job = (
                ("triggerer-2", second_job) if second_job in holders.values() else ("triggerer", None)
            )
            victim_job = victim_job or next(iter(holders.values()))
            moved = [run_id for run_id, job in holders.items() if job == victim_job]
            assert moved, f"no wait was assigned to {victim}: {holders}"
            airflow_stack.kill(victim)
            for run_id in run_ids:
                run_to_end(airflow_stack, "stack_deferred", run_id)
        _one_execution_each(airflow_stack, "stack_deferred", run_ids)
    finally:
        if airflow_stack.components["triggerer-2"].running():
            airflow_stack.stop_component("triggerer-2")
        if not airflow_stack.components["triggerer"].running():
            airflow_stack.restart("triggerer")


def test_deferred_task_marked_failed_stops_its_execution(airflow_stack: AirflowStack) -> None:
    name = unique_name("marked")
    with emulator_step_seconds(airflow_stack, 8):
        run_id = trigger_named(airflow_stack, "stack_deferred", name)
        wait_for_deferred(airflow_stack, "stack_deferred", run_id)
        # Marked failed before a triggerer runs the trigger, nothing can stop the execution:
        # Airflow drops the trigger unrun and calls no on_kill (the README's known limits).
        wait_for_trigger_started(airflow_stack, "stack_deferred", run_id)
        airflow_stack.api.patch(
            f"/dags/stack_deferred/dagRuns/{run_id}/taskInstances/evaluate", {"new_state": "failed"}
        )
        (arn,) = executions_of(airflow_stack, "stack_deferred", run_id)
        assert wait_for_execution_status(airflow_stack, arn, TERMINAL) == "Stopped"


def test_execution_timeout_while_deferred_stops_the_execution(
    airflow_stack: AirflowStack, long_step_runs: dict[str, SharedRun]
) -> None:
    run = long_step_runs["timeout"]  # the fixture waited for its execution to end
    run_to_end(airflow_stack, run.dag_id, run.run_id, expected="failed")
    (arn,) = executions_of(airflow_stack, run.dag_id, run.run_id)
    assert execution_status(airflow_stack, arn) == "Stopped"


def test_cleared_deferred_task_new_try_succeeds(airflow_stack: AirflowStack) -> None:
    name = unique_name("cleared")
    with emulator_step_seconds(airflow_stack, 8):
        run_id = trigger_named(airflow_stack, "stack_deferred", name)
        wait_for_deferred(airflow_stack, "stack_deferred", run_id)
        airflow_stack.api.post(
            "/dags/stack_deferred/clearTaskInstances",
            {"dry_run": False, "dag_run_id": run_id, "task_ids": ["evaluate"], "only_failed": False},
        )
        run_to_end(airflow_stack, "stack_deferred", run_id)
    instance = airflow_stack.api.task_instance("stack_deferred", run_id, "evaluate")
    assert instance["try_number"] == 2, "the clear's new try succeeded (retries=0: no other try)"
    value = airflow_stack.api.xcom("stack_deferred", run_id, "evaluate")
    assert value["status"] == "Succeeded"
    assert execution_status(airflow_stack, value["execution_arn"]) == "Succeeded"


def test_failed_step_fails_the_task_and_its_log_names_step_and_reason(airflow_stack: AirflowStack) -> None:
    name = unique_name("failstep")
    reason = f"ClientError: the judge endpoint refused the request ({name})"
    airflow_stack.emulator_control(
        "POST", "faults/fail-step", {"step_name": "EvaluateCustomModel", "reason": reason, "times": 1}
    )
    try:
        run_id = trigger_named(airflow_stack, "stack_deferred", name)
        run_to_end(airflow_stack, "stack_deferred", run_id, expected="failed")
    finally:
        airflow_stack.emulator_control("DELETE", "faults")
    log = airflow_stack.api.task_log("stack_deferred", run_id, "evaluate", 1)
    failure = [line for line in log.splitlines() if reason in line]
    assert failure, log[-4000:]
    assert any("EvaluateCustomModel" in line for line in failure), failure
    (arn,) = executions_of(airflow_stack, "stack_deferred", run_id)
    assert execution_status(airflow_stack, arn) == "Failed"
