"""Before Airflow 3.3 no on_kill is called for a killed deferred task: the trigger stops the execution
itself when it is cancelled and its task instance is no longer deferred (never after a restart)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_sm_eval.evaluation.constants import ExecutionStatus
from airflow_provider_sm_eval.hooks.evaluation import SageMakerEvaluationHook
from airflow_provider_sm_eval.triggers.evaluation_execution import EvaluationExecutionTrigger
from airflow_provider_sm_eval.utils.deferred_kill import USER_ACTION_CANCEL_MSG, killed_while_deferred
from airflow_provider_sm_eval.version_compat import RuntimeTaskInstance
from sagemaker_eval_emulator import EvaluationEmulator
from tests.airflow.airflow_test_support import CONN_ID, start_execution

pytestmark = pytest.mark.timeout(60)

TASK = SimpleNamespace(dag_id="d", task_id="evaluate", run_id="r1", map_index=-1)


def task_states(monkeypatch: pytest.MonkeyPatch, states: dict[str, Any] | Exception) -> list[dict[str, Any]]:
    """Answer RuntimeTaskInstance.get_task_states with ``states`` (run r1); return the calls made."""
    calls: list[dict[str, Any]] = []

    def get_task_states(**kwargs: Any) -> dict[str, Any]:
        calls.append(kwargs)
        if isinstance(states, Exception):
            raise states
        return {"r1": states}

    monkeypatch.setattr(RuntimeTaskInstance, "get_task_states", staticmethod(get_task_states))
    return calls


@pytest.mark.parametrize(
    ("states", "killed"),
    [
        ({"evaluate": "deferred"}, False),  # a triggerer restart or a move: the task still waits
        ({"evaluate": None}, True),  # cleared
        ({"evaluate": "failed"}, True),  # marked failed
        ({"evaluate": "success"}, True),  # marked success
        ({"evaluate": "scheduled"}, True),  # timed out, resumed to fail
        ({}, False),  # unknown task instance: no guess
        (RuntimeError("supervisor unreachable"), False),
    ],
)
async def test_killed_while_deferred_reads_the_task_state(
    monkeypatch: pytest.MonkeyPatch, states: dict[str, Any] | Exception, killed: bool
) -> None:
    calls = task_states(monkeypatch, states)
    trigger = SimpleNamespace(task_instance=TASK)

    assert await killed_while_deferred(trigger, asyncio.CancelledError()) is killed
    assert calls == [{"dag_id": "d", "task_ids": ["evaluate"], "run_ids": ["r1"], "map_index": -1}]


async def test_a_mapped_task_is_read_under_its_map_index(monkeypatch: pytest.MonkeyPatch) -> None:
    task_states(monkeypatch, {"evaluate_3": None, "evaluate": "deferred"})
    trigger = SimpleNamespace(task_instance=SimpleNamespace(**{**vars(TASK), "map_index": 3}))

    assert await killed_while_deferred(trigger, asyncio.CancelledError()) is True


async def test_airflow_3_3_user_action_is_left_to_on_kill(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = task_states(monkeypatch, {"evaluate": None})
    trigger = SimpleNamespace(task_instance=TASK)

    assert await killed_while_deferred(trigger, asyncio.CancelledError(USER_ACTION_CANCEL_MSG)) is False
    assert calls == []


@pytest.mark.parametrize(("state", "stopped"), [(None, True), ("deferred", False)])
async def test_cancelled_trigger_stops_the_execution_only_when_the_task_was_killed(
    emulator: EvaluationEmulator, monkeypatch: pytest.MonkeyPatch, state: str | None, stopped: bool
) -> None:
    emulator.step_seconds = 5
    hook = SageMakerEvaluationHook(aws_conn_id=CONN_ID)
    arn = start_execution("kill-test", "k", hook=hook)
    task_states(monkeypatch, {"evaluate": state})
    trigger = EvaluationExecutionTrigger(arn, aws_conn_id=CONN_ID, poll_interval=0.05, stop_on_kill=True)
    trigger.task_instance = TASK  # type: ignore[assignment]

    async def consume() -> None:
        async for _ in trigger.run():
            pass

    running = asyncio.create_task(consume())
    await asyncio.sleep(0.5)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running

    status = hook.get_execution(arn).status.overall_status
    expected = {ExecutionStatus.STOPPING, ExecutionStatus.STOPPED} if stopped else {ExecutionStatus.EXECUTING}
    assert status in expected
