"""The connection's secret key shows nowhere: logs, XComs, rendered fields, trigger kwargs, REST answers.

Runs after every other stack test (marker ``stack_audit``) wrote its logs, XComs and database rows.
The stack's ``aws_default`` connection carries a distinctive secret access key.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from devstack import AirflowStack
from tests.stack.conftest import SharedRun

pytestmark = [pytest.mark.stack, pytest.mark.stack_audit]

#: Runs read per DAG and test kind (the load test starts many alike).
RUNS_PER_KIND = 1


@pytest.mark.timeout(900)
def test_connection_secret_appears_nowhere(
    airflow_stack: AirflowStack, shared_runs: dict[str, SharedRun]
) -> None:
    secret = airflow_stack.aws_secret_access_key
    answers: dict[str, Any] = {}
    api = airflow_stack.api

    deferred = shared_runs["deferred"].deferred  # the REST answer while the task was deferred
    assert deferred is not None
    answers["deferred task instance (trigger kwargs, rendered fields)"] = deferred
    assert deferred["trigger"]["kwargs"], "the trigger row has kwargs"

    per_kind: Counter[str] = Counter()  # runs read per test kind (name prefix): the load test's are many
    for dag in api.get_all("/dags", "dags"):
        dag_id = dag["dag_id"]
        answers[f"dag {dag_id}"] = api.get(f"/dags/{dag_id}/details")
        for run in api.get_all(f"/dags/{dag_id}/dagRuns", "dag_runs"):
            per_kind[kind := f"{dag_id}/{run['dag_run_id'].split('-')[0]}"] += 1
            if per_kind[kind] > RUNS_PER_KIND:
                continue
            path = f"/dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances"
            for ti in api.get_all(path, "task_instances"):
                task, index = f"{path}/{ti['task_id']}", ti["map_index"]  # each mapped one too
                where = f"{task}[{index}]"
                answers[where] = ti  # rendered fields, trigger
                answers[f"{where} links"] = api.get(f"{task}/links", map_index=index)
                for entry in api.get_all(f"{task}/xcomEntries", "xcom_entries", map_index=index):
                    answers[f"{where} xcom {entry['key']}"] = api.xcom(
                        dag_id, run["dag_run_id"], ti["task_id"], entry["key"], map_index=index
                    )
                for try_number in range(1, ti["try_number"] + 1):
                    answers[f"{where} log {try_number}"] = api.task_log(
                        dag_id, run["dag_run_id"], ti["task_id"], try_number, map_index=index
                    )
    for path in ("/connections", "/variables", "/config", "/plugins", "/providers", "/eventLogs", "/jobs"):
        answer = api.request("GET", path, params={"limit": 1000})
        answers[path] = answer.text

    leaked = [where for where, answer in answers.items() if secret in json.dumps(answer, default=str)]
    assert not leaked, f"the secret key is in: {leaked}"
    assert len(answers) > 50, "the check read too little to mean anything"

    # Every file the stack wrote: component logs, task and trigger logs, the database's files.
    files = [path for path in airflow_stack.folder.rglob("*") if path.is_file()]
    leaked_files = [str(path) for path in files if secret.encode() in path.read_bytes()]
    assert not leaked_files, f"the secret key is in: {leaked_files}"
    assert any(path.name.endswith(".log") and "task-logs" in str(path) for path in files)
