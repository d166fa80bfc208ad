"""The fault suite on the Celery profile: components as on separate hosts, each fault survived.

One Celery-profile stack (``AirflowStack(executor="CeleryExecutor")``: two Celery workers, two
triggerers, two API servers, a scheduler, a dag-processor, Redis as broker) serves the whole
module. Each scenario ends with one execution per task instance and the right final state:

- a worker killed whole (its process group, as if its host were lost) while a task blocks: the
  retry runs on the other worker, reattaches, and its log is served by that worker's log server;
- one of the two triggerers killed while it holds waits: the other takes them over;
- mark-failed and clear of tasks whose triggers moved to the other triggerer: the executions stop;
- an API server killed: the other serves the REST API and the Evaluation tab to the same token;
- the broker restarted (its queues lost) while evaluations are deferred or queued;
- (``long``) event-woken waits on both triggerers and the AssetWatcher of the event-driven example;
- stopping the stack leaves no process of it.

The counts of waits grow in ``make test-long`` (the parameters marked ``long``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import psutil
import pytest

from devstack import AirflowStack
from devstack.airflow_stack import EXAMPLE_DAGS
from tests.stack.stack_fixture import STACK_DAGS
from tests.stack.stack_support import (
    emulator_step_seconds,
    ended_evaluation,
    execution_status,
    executions_of,
    run_gates_of,
    run_to_end,
    trigger_named,
    triggerer_jobs,
    unique_name,
    wait_for_all_deferred,
    wait_for_execution_status,
    wait_for_trigger_started,
    wait_for_triggerer_jobs,
)

pytestmark = [pytest.mark.stack, pytest.mark.xdist_group(__name__), pytest.mark.timeout(900)]

TERMINAL = {"Stopped", "Succeeded", "Failed"}
DEFERRED_DAG = "stack_deferred"
BLOCKING_DAG = "stack_blocking"
EVENTS_DAG = "stack_deferred_events"
#: The event-driven example: its AssetWatcher starts a gate run per succeeded benchmark.
EVENT_DAG = "example_sm_eval_event_driven"


@pytest.fixture(scope="module")
def celery_stack() -> Iterator[AirflowStack]:
    """The module's Celery-profile stack (about two minutes to start on two cores).

    ``SM_EVAL_STACK_KEEP``: a folder where the stack's logs and database are kept.
    """
    keep = os.environ.get("SM_EVAL_STACK_KEEP")
    with AirflowStack(
        [EXAMPLE_DAGS, STACK_DAGS],
        executor="CeleryExecutor",
        step_seconds=5.0,
        poll_seconds=1.0,
        parallelism=16,
        worker_concurrency=4,
        # A lost worker's task is failed (then retried) this long after its last heartbeat.
        extra_env={"AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30"},
        folder=Path(keep) / "celery" if keep else None,
    ) as stack:
        stack.wait_for_dags([DEFERRED_DAG, BLOCKING_DAG, EVENTS_DAG, EVENT_DAG])
        stack.api.patch(f"/dags/{EVENT_DAG}", {"is_paused": True})  # its watcher would gate every run
        yield stack


def _one_execution_each(
    stack: AirflowStack, run_ids: list[str], status: str = "Succeeded", dag_id: str = DEFERRED_DAG
) -> None:
    for run_id in run_ids:
        arns = executions_of(stack, dag_id, run_id)
        assert len(arns) == 1, f"{run_id}: {len(arns)} executions {arns}"
        assert execution_status(stack, arns[0]) == status


def _triggerer_of_job(stack: AirflowStack) -> dict[int, str]:
    """Triggerer job id -> the component that runs it (by the host name the job records)."""
    jobs = stack.api.get_all("/jobs", "jobs", job_type="TriggererJob")
    return {int(job["id"]): name for job in jobs if (name := stack.component_at(job["hostname"]))}


def _holders(stack: AirflowStack, run_ids: list[str]) -> dict[str, str | None]:
    """Run id -> the triggerer component that holds its deferred task's trigger (None: unassigned)."""
    components = _triggerer_of_job(stack)
    jobs = triggerer_jobs(stack, DEFERRED_DAG, run_ids)
    return {run_id: components.get(job) if job is not None else None for run_id, job in jobs.items()}


def _wait_until_held_by(stack: AirflowStack, run_ids: list[str], holder: str, timeout: float = 180) -> None:
    """Wait until ``holder`` holds the trigger of each run and has started it."""
    deadline = time.monotonic() + timeout
    while (held := _holders(stack, run_ids)) and any(name != holder for name in held.values()):
        assert time.monotonic() < deadline, f"not all moved to {holder}: {held}"
        time.sleep(1)
    for run_id in run_ids:
        wait_for_trigger_started(stack, DEFERRED_DAG, run_id, by=holder)


def _restart_if_down(stack: AirflowStack, *names: str) -> None:
    for name in names:
        if not stack.components[name].running():
            stack.restart(name)


def test_worker_killed_whole_while_blocking_the_retry_runs_on_the_other_worker_and_reattaches(
    celery_stack: AirflowStack,
) -> None:
    stack = celery_stack
    with emulator_step_seconds(stack, 10):
        run_id = trigger_named(stack, BLOCKING_DAG, unique_name("celery-blocking"))
        first = stack.api.wait_for_task_state(BLOCKING_DAG, run_id, "evaluate", {"running"})
        lost = stack.component_at(first["hostname"])
        assert lost in ("worker", "worker-2"), f"try 1 ran on {first['hostname']} ({lost})"
        deadline = time.monotonic() + 120
        while not executions_of(stack, BLOCKING_DAG, run_id):
            assert time.monotonic() < deadline, "the blocking task started no execution"
            time.sleep(1)
        stack.kill(lost)  # the worker's whole process group: its host is lost
        try:
            run_to_end(stack, BLOCKING_DAG, run_id)
        finally:
            _restart_if_down(stack, lost)
    retry = stack.api.task_instance(BLOCKING_DAG, run_id, "evaluate")
    assert retry["try_number"] == 2
    other = stack.component_at(retry["hostname"])
    assert other in ("worker", "worker-2") and other != lost, f"the retry ran on {retry['hostname']}"
    _one_execution_each(stack, [run_id], dag_id=BLOCKING_DAG)
    # The retry's log exists only on its worker's host; the API server serves it from there.
    relative = f"dag_id={BLOCKING_DAG}/run_id={run_id}/task_id=evaluate/attempt=2.log"
    assert (stack.task_log_folder_of(other) / relative).exists()
    assert not (stack.task_log_folder_of("api-server") / relative).exists()
    assert "Reattaching to evaluation execution" in stack.api.task_log(BLOCKING_DAG, run_id, "evaluate", 2)


@pytest.mark.parametrize("waits", [10, pytest.param(100, marks=pytest.mark.long)])
def test_one_of_two_triggerers_killed_with_waits_the_other_takes_them_over(
    celery_stack: AirflowStack, waits: int
) -> None:
    stack = celery_stack
    # The executions outlast the deferral of all the waits (about one task a second on 2 cores),
    # so that every wait is held by a triggerer at the kill.
    with emulator_step_seconds(stack, 10 if waits <= 10 else 90):
        run_ids = [trigger_named(stack, DEFERRED_DAG, unique_name("celery-ha")) for _ in range(waits)]
        wait_for_all_deferred(stack, [(DEFERRED_DAG, run_id, "evaluate") for run_id in run_ids], 600)
        wait_for_triggerer_jobs(stack, DEFERRED_DAG, run_ids)
        holders = _holders(stack, run_ids)
        counts = {name: list(holders.values()).count(name) for name in ("triggerer", "triggerer-2")}
        victim = max(counts, key=lambda name: counts[name])
        stack.kill(victim)
        try:
            states = stack.api.wait_for_runs(DEFERRED_DAG, run_ids, timeout=600)
        finally:
            _restart_if_down(stack, victim)
    assert set(states.values()) == {"success"}, states
    _one_execution_each(stack, run_ids)


def test_mark_failed_and_clear_of_tasks_whose_triggers_moved_to_the_other_triggerer_stop_them(
    celery_stack: AirflowStack,
) -> None:
    stack = celery_stack
    with emulator_step_seconds(stack, 20):
        run_ids = [trigger_named(stack, DEFERRED_DAG, unique_name("celery-moved")) for _ in range(4)]
        wait_for_all_deferred(stack, [(DEFERRED_DAG, run_id, "evaluate") for run_id in run_ids])
        for run_id in run_ids:
            wait_for_trigger_started(stack, DEFERRED_DAG, run_id)
        holders = _holders(stack, run_ids)
        # Of four waits on two triggerers, one holds at least two: kill it, they move.
        victim = max(("triggerer", "triggerer-2"), key=lambda name: list(holders.values()).count(name))
        survivor = "triggerer-2" if victim == "triggerer" else "triggerer"
        marked, cleared = [run_id for run_id, holder in holders.items() if holder == victim][:2]
        stack.kill(victim)
        try:
            _wait_until_held_by(stack, [marked, cleared], survivor)
            (marked_arn,) = executions_of(stack, DEFERRED_DAG, marked)
            (cleared_arn,) = executions_of(stack, DEFERRED_DAG, cleared)
            stack.api.patch(
                f"/dags/{DEFERRED_DAG}/dagRuns/{marked}/taskInstances/evaluate", {"new_state": "failed"}
            )
            stack.api.post(
                f"/dags/{DEFERRED_DAG}/clearTaskInstances",
                {"dry_run": False, "dag_run_id": cleared, "task_ids": ["evaluate"], "only_failed": False},
            )
            assert wait_for_execution_status(stack, marked_arn, TERMINAL) == "Stopped"
            assert wait_for_execution_status(stack, cleared_arn, TERMINAL) == "Stopped"
        finally:
            _restart_if_down(stack, victim)
    run_to_end(stack, DEFERRED_DAG, marked, expected="failed")
    run_to_end(stack, DEFERRED_DAG, cleared)
    value = stack.api.xcom(DEFERRED_DAG, cleared, "evaluate")
    assert value["execution_arn"] != cleared_arn and value["status"] == "Succeeded"
    both = sorted([cleared_arn, value["execution_arn"]])
    assert sorted(executions_of(stack, DEFERRED_DAG, cleared)) == both, "one execution per try"
    others = [run_id for run_id in run_ids if run_id not in (marked, cleared)]
    for run_id in others:
        run_to_end(stack, DEFERRED_DAG, run_id)
    _one_execution_each(stack, others)
    _one_execution_each(stack, [marked], status="Stopped")


def test_an_api_server_killed_the_other_serves_the_api_and_the_evaluation_tab_to_the_same_token(
    celery_stack: AirflowStack,
) -> None:
    stack = celery_stack
    run_id = trigger_named(stack, DEFERRED_DAG, unique_name("celery-api"))
    run_to_end(stack, DEFERRED_DAG, run_id)
    task = f"/dags/{DEFERRED_DAG}/runs/{run_id}/tasks/evaluate"
    paths = [
        f"/sm-eval/api{task}/evaluation",
        f"/sm-eval{task}",
        f"/api/v2/dags/{DEFERRED_DAG}/dagRuns/{run_id}",
    ]
    second = stack.api_of("api-server-2")
    try:
        headers = {"Authorization": f"Bearer {second.token()}"}  # issued by the second API server
        before = [httpx.get(second.base_url + path, headers=headers, timeout=60) for path in paths]
    finally:
        second.close()
    assert [answer.status_code for answer in before] == [200, 200, 200], [a.text[:300] for a in before]
    stack.kill("api-server-2")
    try:
        after = [httpx.get(stack.base_url + path, headers=headers, timeout=60) for path in paths]
        assert [answer.status_code for answer in after] == [200, 200, 200], [a.text[:300] for a in after]
        # The same evaluation, but for the time it was read at.
        assert {**after[0].json(), "as_of": None} == {**before[0].json(), "as_of": None}
        # The task's Evaluation page, with its results link, as the killed server served it.
        assert "results_" in after[1].text
        assert after[1].text.count("results_") == before[1].text.count("results_")
        assert after[2].json()["state"] == "success"
    finally:
        _restart_if_down(stack, "api-server-2")


@pytest.mark.parametrize("evaluations", [10, pytest.param(50, marks=pytest.mark.long)])
def test_broker_restarted_while_evaluations_are_deferred_or_queued(
    celery_stack: AirflowStack, evaluations: int
) -> None:
    stack = celery_stack
    assert stack.redis is not None
    # Long enough that half of them are deferred at once (about one task a second on 2 cores).
    with emulator_step_seconds(stack, 8 if evaluations <= 10 else 40):
        run_ids = [
            trigger_named(stack, DEFERRED_DAG, unique_name("celery-broker")) for _ in range(evaluations)
        ]
        # Half deferred, the others queued or starting: then the broker loses its queues.
        deadline = time.monotonic() + 300
        while _count_in(stack, run_ids, {"deferred"}) < evaluations // 2:
            assert time.monotonic() < deadline, "the evaluations did not defer"
            time.sleep(0.5)
        stack.redis.restart()
        states = stack.api.wait_for_runs(DEFERRED_DAG, run_ids, timeout=600)
    assert set(states.values()) == {"success"}, states
    _one_execution_each(stack, run_ids)


def _count_in(stack: AirflowStack, run_ids: list[str], states: set[str]) -> int:
    instances = stack.api.get_all(
        f"/dags/{DEFERRED_DAG}/dagRuns/~/taskInstances", "task_instances", task_id="evaluate"
    )
    wanted = set(run_ids)
    return sum(1 for ti in instances if ti["dag_run_id"] in wanted and ti["state"] in states)


@pytest.mark.long
def test_event_woken_waits_on_both_triggerers_and_the_asset_watcher_start_one_gate_per_end(
    celery_stack: AirflowStack,
) -> None:
    stack = celery_stack
    stack.api.patch(f"/dags/{EVENT_DAG}", {"is_paused": False})
    try:
        run_ids = [trigger_named(stack, EVENTS_DAG, unique_name("celery-events")) for _ in range(10)]
        wait_for_all_deferred(stack, [(EVENTS_DAG, run_id, "evaluate") for run_id in run_ids])
        states = stack.api.wait_for_runs(EVENTS_DAG, run_ids, timeout=600)
        assert set(states.values()) == {"success"}, states
        _one_execution_each(stack, run_ids, dag_id=EVENTS_DAG)
        arns = [executions_of(stack, EVENTS_DAG, run_id)[0] for run_id in run_ids]
        # Both triggerers are up (each one host's event consumer); one may take all ten waits.
        flush = partial(ended_evaluation, stack, EVENTS_DAG, "celery-events-flush")
        run_gates_of(stack, EVENT_DAG, arns, flush, timeout=300)  # after the earlier tests' events
    finally:
        stack.api.patch(f"/dags/{EVENT_DAG}", {"is_paused": True})


def test_stopping_the_celery_stack_leaves_no_process_and_no_folder(celery_stack: AirflowStack) -> None:
    stack = celery_stack
    assert stack.postgres is not None and stack.redis is not None
    processes = [p for component in stack.components.values() for p in component.tree()]
    log_servers = [p for p in processes if "serve_logs" in " ".join(_cmdline(p))]
    assert len(log_servers) == 4, "a log server per worker and triggerer"
    processes += [psutil.Process(pid) for pid in (stack.postgres.process.pid, stack.redis.process.pid)]
    processes.append(psutil.Process(stack.emulator_pid))
    folder = stack.folder
    stack.stop()
    alive = [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, [(p.pid, _cmdline(p)) for p in alive]
    assert stack.keep_folder or not folder.exists()


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return list(process.cmdline())
    except psutil.Error:
        return []
