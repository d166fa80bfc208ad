"""Runs that stack tests share, each batch started side by side (the stack runs them at once).

Every scenario here needs only its own run, so the runs of a batch overlap instead of queueing
one test after another; each test then checks its own run. A batch ends (every run done) before
its fixture returns, so no other test changes the emulator's settings or faults under it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_provider_sm_eval.evaluation.constants import TERMINAL_STATUSES
from devstack import AirflowStack
from tests.stack.stack_support import (
    emulator_step_seconds,
    executions_of,
    unique_name,
    wait_for_all_deferred,
    wait_for_execution_status,
)


@dataclass(frozen=True)
class SharedRun:
    """A finished run: its evaluation name and, for a deferring task, that task instance as seen deferred."""

    dag_id: str
    run_id: str
    name: str
    deferred: dict[str, Any] | None = None


def _run_batch(
    stack: AirflowStack, scenarios: Mapping[str, tuple[str, str | None, dict[str, Any]]]
) -> dict[str, SharedRun]:
    """Trigger every scenario (key: DAG id, deferring task or None, extra conf), wait until all end."""
    started: dict[str, tuple[str, str, str]] = {}
    for key, (dag_id, _, conf) in scenarios.items():
        name = unique_name(key)
        started[key] = (
            dag_id,
            stack.api.trigger(dag_id, conf={"name": name, **conf}, run_id=f"{name}__run"),
            name,
        )
    deferring = {
        key: (started[key][0], started[key][1], task_id)
        for key, (_, task_id, _) in scenarios.items()
        if task_id is not None
    }
    seen = wait_for_all_deferred(stack, list(deferring.values()))
    deferred = dict(zip(deferring, seen, strict=True))
    for dag_id, run_id, _ in started.values():
        stack.api.wait_for_run(dag_id, run_id)
    return {
        key: SharedRun(dag_id, run_id, name, deferred.get(key))
        for key, (dag_id, run_id, name) in started.items()
    }


@pytest.fixture(scope="session")
def shared_runs(airflow_stack: AirflowStack) -> dict[str, SharedRun]:
    """Side by side: a deferred start (``deferred``), a start then the deferrable sensor
    (``sensor``), and a start refused for a bad role ARN before any AWS call (``nolinks``)."""
    return _run_batch(
        airflow_stack,
        {
            "deferred": ("stack_deferred", "evaluate", {}),
            "sensor": ("stack_sensor", "wait", {}),
            "nolinks": ("stack_deferred", None, {"role_arn": "not-a-role-arn"}),
        },
    )


@pytest.fixture(scope="session")
def long_step_runs(airflow_stack: AirflowStack) -> dict[str, SharedRun]:
    """Side by side with 30 s steps (executions outlast what the tasks do to them): a start then
    the stop operator (``stop``), and a deferred start past its 15 s ``execution_timeout``
    (``timeout``), whose execution is then waited for until it ends."""
    with emulator_step_seconds(airflow_stack, 30):
        runs = _run_batch(
            airflow_stack,
            {
                "stop": ("stack_stop", None, {}),
                "timeout": ("stack_deferred_timeout", None, {}),
            },
        )
        timeout = runs["timeout"]
        for arn in executions_of(airflow_stack, timeout.dag_id, timeout.run_id):
            wait_for_execution_status(airflow_stack, arn, {status.value for status in TERMINAL_STATUSES})
    return runs
