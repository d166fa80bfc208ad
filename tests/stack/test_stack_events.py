"""Event-driven waits and the event-driven example DAG on the real stack, with two triggerers.

The stack makes two queues of SageMaker's status-change events in the emulator: deferred waits
of ``stack_deferred_events`` are cued from one (and keep polling), the AssetWatcher of
``example_sm_eval_event_driven`` reads the other and starts a gate run per succeeded benchmark.
"""

from __future__ import annotations

import time
from functools import partial

import pytest

from devstack import AirflowStack
from tests.stack.stack_support import (
    alive_triggerer_jobs,
    ended_evaluation,
    execution_status,
    executions_of,
    run_gates_of,
    run_to_end,
    trigger_named,
    unique_name,
    wait_for_deferred,
)

pytestmark = pytest.mark.stack

WAITS = 4
EVENT_DAG = "example_sm_eval_event_driven"


@pytest.mark.timeout(600)
def test_event_woken_waits_in_two_triggerers_and_the_asset_watcher_records_each_end(
    airflow_stack: AirflowStack,
) -> None:
    before = alive_triggerer_jobs(airflow_stack)
    airflow_stack.api.patch(f"/dags/{EVENT_DAG}", {"is_paused": False})
    airflow_stack.start_component("triggerer-2", "triggerer")
    try:
        deadline = time.monotonic() + 120
        while not (alive_triggerer_jobs(airflow_stack) - before):
            assert time.monotonic() < deadline, "the second triggerer never heartbeat"
            time.sleep(1)
        run_ids = [
            trigger_named(airflow_stack, "stack_deferred_events", unique_name("events")) for _ in range(WAITS)
        ]
        for run_id in run_ids:
            wait_for_deferred(airflow_stack, "stack_deferred_events", run_id)
        # An event-fed wait keeps polling at its poll_interval: its end comes from the event
        # when it reaches the wait's triggerer, from the next poll otherwise.
        for run_id in run_ids:
            run_to_end(airflow_stack, "stack_deferred_events", run_id)
        arns = []
        for run_id in run_ids:
            (arn,) = executions_of(airflow_stack, "stack_deferred_events", run_id)
            assert execution_status(airflow_stack, arn) == "Succeeded"
            arns.append(arn)

        # Each end reaches the asset; Airflow starts one run for the events that arrive together.
        flush = partial(ended_evaluation, airflow_stack, "stack_deferred_events", "events-flush")
        run_gates_of(airflow_stack, EVENT_DAG, arns, flush)
    finally:
        airflow_stack.api.patch(f"/dags/{EVENT_DAG}", {"is_paused": True})
        if airflow_stack.components["triggerer-2"].running():
            airflow_stack.stop_component("triggerer-2")
