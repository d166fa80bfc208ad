"""Extra links as the UI gets them (REST), and a task that fails before its links exist."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from devstack import AirflowStack
from tests.stack.conftest import SharedRun
from tests.stack.stack_support import executions_of, run_to_end

pytestmark = pytest.mark.stack

REGION = "us-east-1"


def _links(stack: AirflowStack, dag_id: str, run_id: str, task_id: str = "evaluate") -> dict[str, str | None]:
    return dict(
        stack.api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/links")["extra_links"]
    )


def test_extra_links_point_at_the_region_execution_and_real_pipeline_name(
    airflow_stack: AirflowStack, shared_runs: dict[str, SharedRun]
) -> None:
    name, run_id = shared_runs["deferred"].name, shared_runs["deferred"].run_id
    run_to_end(airflow_stack, "stack_deferred", run_id)
    (arn,) = executions_of(airflow_stack, "stack_deferred", run_id)
    client = airflow_stack.emulator_client("sagemaker")
    pipeline_in_arn = arn.split(":pipeline/", 1)[1].split("/execution/", 1)[0]
    (real_name,) = [
        pipeline["PipelineName"]
        for pipeline in client.list_pipelines()["PipelineSummaries"]
        if pipeline["PipelineName"].lower() == pipeline_in_arn
    ]
    assert real_name != pipeline_in_arn, "the emulator's ARNs carry the name lower-cased, as SageMaker's"

    links = _links(airflow_stack, "stack_deferred", run_id)
    execution_url = unquote(links["Evaluation execution"] or "")
    assert execution_url.startswith(f"https://{REGION}.console.aws.amazon.com/sagemaker/home?region={REGION}")
    assert f"/pipelines/{real_name}/executions/{arn.rsplit('/', 1)[1]}" in execution_url
    results_url = unquote(links["Evaluation results (S3)"] or "")
    assert results_url.startswith("https://console.aws.amazon.com/s3/buckets/sm-eval-example?")
    assert f"region={REGION}" in results_url
    assert f"prefix=stack/{name}/" in results_url


def test_task_failing_before_its_links_exist_logs_no_xcom_errors(
    airflow_stack: AirflowStack, shared_runs: dict[str, SharedRun]
) -> None:
    run_id = shared_runs["nolinks"].run_id  # started with role_arn "not-a-role-arn"
    run_to_end(airflow_stack, "stack_deferred", run_id, expected="failed")
    assert executions_of(airflow_stack, "stack_deferred", run_id) == []
    log = airflow_stack.api.task_log("stack_deferred", run_id, "evaluate", 1)
    assert "role_arn" in log, log[-3000:]
    api_log = airflow_stack.folder / "logs" / "api-server.log"
    api_log_before = api_log.stat().st_size
    links = _links(airflow_stack, "stack_deferred", run_id)
    assert not any(links.values()), links
    api_log_lines = api_log.read_bytes()[api_log_before:].decode(errors="replace").splitlines()
    xcom_complaints = [
        line
        for line in [*log.splitlines(), *api_log_lines]
        if "xcom" in line.lower()
        and any(word in line.lower() for word in ("error", "not found", "exception"))
    ]
    assert not xcom_complaints, xcom_complaints
