"""The README's IAM policies, one per Airflow component, are what the provider's real AWS calls need.

The example DAGs (deferred start, deferrable sensor, results, gate, blocking wait) and the stack
DAGs for the rarer paths (stop, retry of a failed execution, a changed definition, an event-woken
wait) run with ``dag.test()`` (operators, sensor and trigger in this process) against a fresh
emulator, after the event set-up made the guide's two queues; then a deferred task's kill
(the trigger's ``on_kill``), the AssetWatcher's trigger and the UI plugin's live reads run on
executions those DAGs started. ``devstack.iam_policy.CallsByComponent`` records each AWS call
with the component whose code made it, and every call the emulator counted must be among them.
``SM_EVAL_WRITE_IAM_POLICY=1`` rewrites the README's policies instead of comparing.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devstack.airflow_stack import EXAMPLE_DAGS, REPO
from devstack.iam_policy import (
    API_SERVERS,
    ASSET_QUEUE,
    EVENT_SETUP,
    TRIGGERERS,
    UNATTRIBUTED,
    WAIT_QUEUE,
    WORKERS,
    CallsByComponent,
    merged,
    policies_for,
    readme_policy,
    render,
    write_readme_policies,
)
from example_dags.run_demo import put_example_data
from sagemaker_eval_emulator import EvaluationEmulator

pytestmark = pytest.mark.dag_run

STACK_DAGS = Path(__file__).resolve().parent / "dags"
README = REPO / "README.md"
#: (DAG folder, file, DAG id, run conf) of every path the policy must cover.
PATHS: tuple[tuple[Path, str, str, dict[str, Any]], ...] = (
    (EXAMPLE_DAGS, "example_sm_eval_benchmark.py", "example_sm_eval_benchmark", {}),
    (EXAMPLE_DAGS, "example_sm_eval_llm_as_judge.py", "example_sm_eval_llm_as_judge", {}),
    (EXAMPLE_DAGS, "example_sm_eval_custom_scorer.py", "example_sm_eval_custom_scorer", {}),
    (STACK_DAGS, "stack_evaluations.py", "stack_stop", {"name": "iam-stop"}),
    (STACK_DAGS, "stack_evaluations.py", "stack_resume_failed", {"name": "iam-resume"}),
    (STACK_DAGS, "stack_evaluations.py", "stack_definition_variant", {"name": "iam-variant"}),
    (STACK_DAGS, "stack_evaluations.py", "stack_deferred_events", {"name": "iam-events"}),
)
#: Operations each component must have called, or a path above stopped covering what it should.
NEEDED = {
    WORKERS: (
        "CreatePipeline",
        "StopPipelineExecution",
        "RetryPipelineExecution",
        "DescribeTrainingJob",
        "ListPipelineExecutions",
    ),
    TRIGGERERS: ("ListPipelineExecutions", "StopPipelineExecution", "ReceiveMessage"),
    API_SERVERS: ("DescribePipelineExecution", "ListPipelineExecutionSteps", "GetObject"),
    EVENT_SETUP: ("CreateQueue", "PutRule", "PutTargets"),
}


class _EmulatorSession:
    """What ``ensure_event_queue`` needs of a boto3 session: the emulator's clients."""

    def __init__(self, emulator: EvaluationEmulator) -> None:
        self._emulator = emulator

    def client(self, service: str, region_name: str | None = None) -> Any:
        return self._emulator.client(service)


def _dag(folder: Path, file_name: str, dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(folder / file_name))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(dag_id)


def _execution_arn(run: Any, task_id: str) -> str:
    from airflow.utils.session import create_session

    from airflow_provider_sm_eval.plugins import metadata

    with create_session() as session:
        record = metadata.task_instance(session, run.dag_id, run.run_id, task_id, -1)
        assert record is not None, f"{run.dag_id} has no task {task_id}"
        return str(record.xcoms["execution_arn"])


def _kill_deferred(arn: str) -> None:
    """What the triggerer runs when a deferred task with ``stop_on_kill`` is marked failed."""
    from airflow_provider_sm_eval.triggers.evaluation_execution import EvaluationExecutionTrigger

    asyncio.run(EvaluationExecutionTrigger(arn, stop_on_kill=True).on_kill())


def _asset_watcher_event(queue_url: str) -> dict[str, Any]:
    """The AssetWatcher trigger's first event (the benchmark runs above ended into its queue)."""
    from airflow_provider_sm_eval.triggers.evaluation_events import EvaluationEndedTrigger

    async def first() -> dict[str, Any]:
        events: Any = EvaluationEndedTrigger(queue_url, eval_type="benchmark").run()
        try:
            return dict((await asyncio.wait_for(anext(events), timeout=60)).payload)
        finally:
            await events.aclose()

    return asyncio.run(first())


def _ui_live_reads(run: Any, task_id: str) -> None:
    """The UI plugin's live reads of a task's execution: ownership, status and steps, judge records."""
    from airflow_provider_sm_eval.plugins import live
    from airflow_provider_sm_eval.utils.reattach import TaskInstanceIdentity

    owner = TaskInstanceIdentity(run.dag_id, task_id, run.run_id, -1)
    owned = live.owned_execution(
        live.ConnectionArgs("aws_default", None), _execution_arn(run, task_id), [owner]
    )
    live.describe(owned)
    assert live.judge_examples(owned, 2)


def _retry_without_task_state_store() -> None:
    """A retry on Airflow before 3.3 (no ``task_state_store``) finds its earlier try's execution by
    the marker in the executions' descriptions (ListPipelineExecutions); on 3.3 dag.test() retries
    read the ARN from the store."""
    from airflow_provider_sm_eval.operators.start_evaluation import StartEvaluationOperator
    from tests.airflow.airflow_test_support import RecordingTaskInstance, task_context

    operator = StartEvaluationOperator(
        task_id="iam_retry",
        eval_type="benchmark",
        evaluation_name="iam-retry",
        pipeline_definition=str(EXAMPLE_DAGS / "pipeline_definitions" / "benchmark.json"),
        role_arn="arn:aws:iam::123456789012:role/SageMakerEvaluationRole",
        s3_output_path="s3://sm-eval-example/evaluations/iam-retry",
        wait_for_completion=False,
    )
    for try_number in (1, 2):
        operator.execute(task_context(RecordingTaskInstance(try_number=try_number)))


def test_readme_iam_policies_are_what_each_component_calls(
    airflow_db: None,
    connect_to_emulator: Callable[[str], EvaluationEmulator],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow import settings

    from airflow_provider_sm_eval.provisioning.event_setup import ensure_event_queue

    emulator = connect_to_emulator("aws_default")
    put_example_data(emulator.client("s3"))
    monkeypatch.setenv("SM_EVAL_POLL_SECONDS", "0.1")
    emulator.calls.reset()
    runs: dict[str, Any] = {}
    with CallsByComponent().recording() as recorder:
        session = _EmulatorSession(emulator)
        queues = {
            name: ensure_event_queue(name, session=session).queue_url for name in (WAIT_QUEUE, ASSET_QUEUE)
        }
        monkeypatch.setenv("SM_EVAL_WAIT_QUEUE_URL", queues[WAIT_QUEUE])
        for folder, file_name, dag_id, conf in PATHS:
            monkeypatch.setattr(settings, "DAGS_FOLDER", str(folder))
            # The stop must land while the execution runs.
            emulator.step_seconds = 5 if dag_id == "stack_stop" else 0.3
            if dag_id == "stack_resume_failed":
                emulator.faults.fail_step("EvaluateCustomModel", "injected for the retry path", times=1)
            dag = _dag(folder, file_name, dag_id)
            if dag_id == "stack_stop":  # first only its start, for a deferred task's kill
                started = dag.partial_subset("start", include_upstream=False).test(
                    run_conf={"name": "iam-kill"}
                )
                _kill_deferred(_execution_arn(started, "start"))
            runs[dag_id] = dag.test(run_conf=conf)
            assert str(runs[dag_id].state) == "success", f"{dag_id} ended {runs[dag_id].state}"
        assert _asset_watcher_event(queues[ASSET_QUEUE])["status"] == "Succeeded"
        _ui_live_reads(runs["example_sm_eval_llm_as_judge"], "start")
        _retry_without_task_state_store()

    calls = recorder.calls()
    assert UNATTRIBUTED not in calls, f"calls no component made: {json.dumps(calls[UNATTRIBUTED])}"
    recorded = merged(calls, tuple(calls))
    seen = emulator.calls.counts()
    assert {s: sorted(ops) for s, ops in recorded.items()} == {s: sorted(ops) for s, ops in seen.items()}, (
        "the recording and the emulator's call log differ"
    )
    for component, operations in NEEDED.items():
        called = {op for ops in calls.get(component, {}).values() for op in ops}
        missing = set(operations) - called
        assert not missing, f"{component} never called {sorted(missing)}: {json.dumps(calls.get(component))}"
    policies = policies_for(calls)
    if os.environ.get("SM_EVAL_WRITE_IAM_POLICY"):
        write_readme_policies(README, policies)
    for name, policy in policies.items():
        assert readme_policy(README, name) == render(policy), (
            f"README's IAM policy of {name} differs from the calls they make; rerun with "
            f"SM_EVAL_WRITE_IAM_POLICY=1 to update it. Calls: {json.dumps(calls.get(name))}"
        )
