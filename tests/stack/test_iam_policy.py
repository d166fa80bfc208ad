"""The README's IAM policy is the one the provider's real AWS calls need (recorded, so it cannot drift).

The example DAGs (deferred start, deferrable sensor, results, gate, blocking wait) and the
stack DAGs for the rarer paths (stop, retry of a failed execution, a changed definition) run
with ``dag.test()`` (operators, sensor and trigger in this process) against a fresh emulator;
its call log gives the operations, ``devstack.iam_policy`` the policy.
``SM_EVAL_WRITE_IAM_POLICY=1`` rewrites the README's policy instead of comparing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devstack.airflow_stack import EXAMPLE_DAGS, REPO
from devstack.iam_policy import policy_for, readme_policy, render, write_readme_policy
from example_dags.run_demo import put_example_data
from sagemaker_eval_emulator import EvaluationEmulator

STACK_DAGS = Path(__file__).resolve().parent / "dags"
README = REPO / "README.md"
#: (DAG folder, file, DAG id, run conf) of every path the policy must cover.
PATHS = (
    (EXAMPLE_DAGS, "example_sm_eval_benchmark.py", "example_sm_eval_benchmark", {}),
    (EXAMPLE_DAGS, "example_sm_eval_llm_as_judge.py", "example_sm_eval_llm_as_judge", {}),
    (EXAMPLE_DAGS, "example_sm_eval_custom_scorer.py", "example_sm_eval_custom_scorer", {}),
    (STACK_DAGS, "stack_evaluations.py", "stack_stop", {"name": "iam-stop"}),
    (STACK_DAGS, "stack_evaluations.py", "stack_resume_failed", {"name": "iam-resume"}),
    (STACK_DAGS, "stack_evaluations.py", "stack_definition_variant", {"name": "iam-variant"}),
)


def _dag(folder: Path, file_name: str, dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(folder / file_name))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(dag_id)


def test_readme_iam_policy_is_what_the_provider_calls(
    airflow_db: None,
    connect_to_emulator: Callable[[str], EvaluationEmulator],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow import settings

    emulator = connect_to_emulator("aws_default")
    put_example_data(emulator.client("s3"))
    monkeypatch.setenv("SM_EVAL_POLL_SECONDS", "0.1")
    emulator.calls.reset()
    for folder, file_name, dag_id, conf in PATHS:
        monkeypatch.setattr(settings, "DAGS_FOLDER", str(folder))
        # The stop must land while the execution runs.
        emulator.step_seconds = 5 if dag_id == "stack_stop" else 0.3
        if dag_id == "stack_resume_failed":
            emulator.faults.fail_step("EvaluateCustomModel", "injected for the retry path", times=1)
        run = _dag(folder, file_name, dag_id).test(run_conf=conf)
        assert str(run.state) == "success", f"{dag_id} ended {run.state}"

    calls = emulator.calls.counts()
    for needed in (
        "CreatePipeline",
        "StopPipelineExecution",
        "RetryPipelineExecution",
        "DescribeTrainingJob",
    ):
        assert needed in calls["sagemaker"], f"no path called {needed}: {json.dumps(calls)}"
    policy = policy_for(calls)
    if os.environ.get("SM_EVAL_WRITE_IAM_POLICY"):
        write_readme_policy(README, policy)
    assert readme_policy(README) == render(policy), (
        "README's IAM policy differs from the calls the provider makes; rerun with "
        f"SM_EVAL_WRITE_IAM_POLICY=1 to update it. Calls: {json.dumps(calls)}"
    )
