"""Throttling and load against a real deployment: many deferred evaluations at once.

``SM_EVAL_STACK_LOAD_RUNS`` sets how many concurrent DAG runs the load test starts (default 20,
CI's; the README's figures are for 100:
``SM_EVAL_STACK_LOAD_RUNS=100 .venv/bin/python -m pytest tests/stack/test_stack_load.py -k load -s``).
Both print the wall time and the triggerer's CPU seconds and peak memory, and add them to
``$SM_EVAL_STACK_REPORT`` (JSON, by test) when that is set.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from devstack import AirflowStack
from tests.stack.stack_support import (
    emulator_step_seconds,
    execution_status,
    executions_of,
    failed_task_logs,
    trigger_named,
    unique_name,
)

pytestmark = pytest.mark.stack

LOAD_RUNS = int(os.environ.get("SM_EVAL_STACK_LOAD_RUNS", "20"))
THROTTLED_RUNS = 20
#: Deferred starts polling every 10 s: 100 waits polled every second would measure the emulator.
LOAD_DAG = "stack_deferred_load"


def _all_succeed_once(stack: AirflowStack, dag_id: str, run_ids: list[str], timeout: float) -> None:
    states = stack.api.wait_for_runs(dag_id, run_ids, timeout)
    failed = [run_id for run_id, state in states.items() if state != "success"]
    assert not failed, f"{len(failed)} of {len(run_ids)} runs failed:\n" + failed_task_logs(
        stack, dag_id, failed[0]
    )
    for run_id in run_ids:
        arns = executions_of(stack, dag_id, run_id)
        assert len(arns) == 1, f"{run_id}: {len(arns)} executions"
        assert execution_status(stack, arns[0]) == "Succeeded"


@pytest.mark.long
@pytest.mark.timeout(1200)
def test_deferred_tasks_without_retries_all_succeed_under_50_then_90_percent_throttling(
    airflow_stack: AirflowStack,
) -> None:
    # 20 s steps: an execution outlasts a start slowed down by throttled calls. (Airflow 3.3's
    # LocalExecutor fails a task whose trigger fires before the scheduler saw it defer.)
    with emulator_step_seconds(airflow_stack, 20), _TriggererMeter(airflow_stack) as meter:
        started = time.monotonic()
        airflow_stack.emulator_control("POST", "faults/throttle", {"share": 0.5})
        try:
            run_ids = [
                trigger_named(airflow_stack, "stack_deferred", unique_name("throttled"))
                for _ in range(THROTTLED_RUNS)
            ]
            time.sleep(30)
            airflow_stack.emulator_control("DELETE", "faults")
            airflow_stack.emulator_control("POST", "faults/throttle", {"share": 0.9})
            time.sleep(30)
        finally:
            airflow_stack.emulator_control("DELETE", "faults")
        states = airflow_stack.api.wait_for_runs("stack_deferred", run_ids, timeout=600)
    _report("throttling", started, meter, states)
    _all_succeed_once(airflow_stack, "stack_deferred", run_ids, timeout=60)


class _TriggererMeter:
    """Samples the CPU seconds and memory (RSS) of every process of the triggerer's tree."""

    def __init__(self, stack: AirflowStack) -> None:
        self._process = stack.components["triggerer"]
        self.peak_rss = 0
        self._cpu: dict[int, float] = {}
        self._start_cpu = self._sample()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> float:
        total_rss = 0
        for process in self._process.tree():
            try:
                with process.oneshot():
                    times = process.cpu_times()
                    self._cpu[process.pid] = times.user + times.system
                    total_rss += process.memory_info().rss
            except Exception:  # the process ended between listing and reading
                continue
        self.peak_rss = max(self.peak_rss, total_rss)
        return sum(self._cpu.values())

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self._sample()

    def __enter__(self) -> _TriggererMeter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.cpu_seconds = self._sample() - self._start_cpu


@pytest.mark.long
@pytest.mark.timeout(3600)
def test_load_concurrent_deferred_runs_all_succeed_with_one_execution_each(
    airflow_stack: AirflowStack,
) -> None:
    with emulator_step_seconds(airflow_stack, 10), _TriggererMeter(airflow_stack) as meter:
        started = time.monotonic()
        run_ids = [trigger_named(airflow_stack, LOAD_DAG, unique_name("load")) for _ in range(LOAD_RUNS)]
        states = airflow_stack.api.wait_for_runs(LOAD_DAG, run_ids, timeout=2400)
    _report("load", started, meter, states)
    _all_succeed_once(airflow_stack, LOAD_DAG, run_ids, timeout=60)


def _report(test: str, started: float, meter: _TriggererMeter, states: dict[str, str]) -> None:
    """Print the test's figures; add them to ``$SM_EVAL_STACK_REPORT`` (JSON, by test) when set."""
    figures = {
        "runs": len(states),
        "succeeded": sum(state == "success" for state in states.values()),
        "wall_seconds": round(time.monotonic() - started, 1),
        "triggerer_cpu_seconds": round(meter.cpu_seconds, 1),
        "triggerer_peak_rss_mb": round(meter.peak_rss / 2**20, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    print(f"\n{test}: {json.dumps(figures)}")
    if os.environ.get("SM_EVAL_STACK_REPORT"):
        path = Path(os.environ["SM_EVAL_STACK_REPORT"])
        report = json.loads(path.read_text()) if path.exists() else {}
        path.write_text(json.dumps({**report, test: figures}, indent=2) + "\n")
