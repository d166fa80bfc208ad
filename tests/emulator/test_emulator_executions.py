"""Execution semantics: idempotent start, version pinning, stop, retry, listing and pagination."""

from __future__ import annotations

import itertools
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from emulator_harness import BUCKET, ROLE_ARN, Harness, definition, pipeline_name, token, wait_for

from airflow_provider_sm_eval.evaluation.constants import EvalType, StepName
from airflow_provider_sm_eval.evaluation.types.registry import kind_of


def test_same_client_request_token_returns_the_same_execution(harness: Harness) -> None:
    name = harness.create()
    request = {
        "PipelineName": name,
        "PipelineParameters": [{"Name": "S3OutputPath", "Value": f"s3://{BUCKET}/idem"}],
        "ClientRequestToken": token(),
    }
    first = harness.sm.start_pipeline_execution(**request)["PipelineExecutionArn"]
    second = harness.sm.start_pipeline_execution(**request)["PipelineExecutionArn"]
    third = harness.sm.start_pipeline_execution(**{**request, "ClientRequestToken": token()})

    assert first == second
    assert third["PipelineExecutionArn"] != first
    summaries = harness.sm.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"]
    assert len(summaries) == 2


def test_update_pipeline_returns_increasing_version_ids(harness: Harness) -> None:
    name = harness.create()
    versions = [
        harness.sm.update_pipeline(PipelineName=name, PipelineDefinition=definition("benchmark"))[
            "PipelineVersionId"
        ]
        for _ in range(3)
    ]
    assert versions == [2, 3, 4]
    assert harness.sm.describe_pipeline(PipelineName=name, PipelineVersionId=1)["PipelineDefinition"] == (
        definition("benchmark")
    )


def _definition_tagged(marker: str) -> str:
    document = json.loads(definition("benchmark"))
    document["Metadata"] = {"marker": marker}
    return json.dumps(document)


def test_pinned_version_runs_its_own_definition_under_concurrent_updates(harness: Harness) -> None:
    name = harness.create()
    results: dict[str, tuple[str, str]] = {}
    errors: list[BaseException] = []

    def update_and_start(marker: str) -> None:
        try:
            sm = harness.emu.client("sagemaker")
            version = sm.update_pipeline(PipelineName=name, PipelineDefinition=_definition_tagged(marker))[
                "PipelineVersionId"
            ]
            arn = sm.start_pipeline_execution(
                PipelineName=name,
                PipelineVersionId=version,
                PipelineParameters=[{"Name": "S3OutputPath", "Value": f"s3://{BUCKET}/{marker}"}],
                ClientRequestToken=token(),
            )["PipelineExecutionArn"]
            results[marker] = (arn, str(version))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=update_and_start, args=(f"m{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len({version for _, version in results.values()}) == 8
    for marker, (arn, version) in results.items():
        pinned = harness.sm.describe_pipeline_definition_for_execution(PipelineExecutionArn=arn)
        assert json.loads(pinned["PipelineDefinition"])["Metadata"] == {"marker": marker}
        described = harness.sm.describe_pipeline_execution(PipelineExecutionArn=arn)
        assert str(described["PipelineVersionId"]) == version


def test_unknown_pipeline_version_is_not_found(harness: Harness) -> None:
    name = harness.create()
    with pytest.raises(harness.sm.exceptions.ResourceNotFound):
        harness.start(name, PipelineVersionId=42)


def test_stop_moves_executing_to_stopping(harness: Harness) -> None:
    harness.emu.step_seconds = 30.0  # stopping takes a share of a step: seconds here
    document = json.loads(definition("benchmark"))
    document["Steps"] = [s for s in document["Steps"] if s["Name"] == StepName.EVALUATE_CUSTOM_MODEL.value]
    del document["Steps"][0]["DependsOn"]
    arn = harness.start(harness.create(PipelineDefinition=json.dumps(document)))

    harness.sm.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token())

    assert harness.status(arn) == "Stopping"
    (step,) = harness.steps(arn).values()
    assert step["StepStatus"] == "Stopping"
    job = harness.sm.describe_training_job(
        TrainingJobName=step["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[1]
    )
    assert job["TrainingJobStatus"] == "Stopping"


def test_stopped_execution_ends_stopped_without_starting_more_steps(harness: Harness) -> None:
    harness.emu.step_seconds = 0.5
    arn = harness.start(harness.create())
    wait_for(lambda: harness.steps(arn), what="a started step")

    harness.sm.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token())

    final = harness.wait_terminal(arn)
    assert final["PipelineExecutionStatus"] == "Stopped"
    assert "FailureReason" not in final
    steps = harness.steps(arn)
    assert "Stopped" in {s["StepStatus"] for s in steps.values()}
    assert {s["StepStatus"] for s in steps.values()} <= {"Stopped", "Succeeded"}
    assert StepName.ASSOCIATE_LINEAGE.value not in steps


def test_stop_is_idempotent_per_token_and_conflicts_otherwise(harness: Harness) -> None:
    harness.emu.step_seconds = 2.0
    arn = harness.start(harness.create())
    stop_token = token()
    harness.sm.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=stop_token)
    harness.sm.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=stop_token)
    with pytest.raises(harness.sm.exceptions.ConflictException):
        harness.sm.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token())


def test_stopping_a_finished_execution_conflicts(harness: Harness) -> None:
    arn = harness.start(harness.create())
    harness.wait_terminal(arn)
    with pytest.raises(harness.sm.exceptions.ConflictException) as info:
        harness.sm.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token())
    assert "Succeeded" in info.value.response["Error"]["Message"]


def test_retry_reruns_failed_steps_and_keeps_succeeded_ones(harness: Harness) -> None:
    harness.emu.faults.fail_step(StepName.EVALUATE_CUSTOM_MODEL.value, "OutOfMemory: worker died", times=1)
    arn = harness.start(harness.create())
    failed = harness.wait_terminal(arn)
    assert failed["PipelineExecutionStatus"] == "Failed"
    before = harness.steps(arn)
    base_job = before[StepName.EVALUATE_BASE_MODEL.value]["Metadata"]["TrainingJob"]["Arn"]
    failed_job = before[StepName.EVALUATE_CUSTOM_MODEL.value]["Metadata"]["TrainingJob"]["Arn"]

    harness.sm.retry_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token())

    final = harness.wait_terminal(arn)
    assert final["PipelineExecutionStatus"] == "Succeeded"
    assert "FailureReason" not in final
    after = harness.steps(arn)
    assert after[StepName.EVALUATE_BASE_MODEL.value]["Metadata"]["TrainingJob"]["Arn"] == base_job
    assert after[StepName.EVALUATE_BASE_MODEL.value]["AttemptCount"] == 1
    custom = after[StepName.EVALUATE_CUSTOM_MODEL.value]
    assert custom["StepStatus"] == "Succeeded"
    assert custom["AttemptCount"] == 2
    assert custom["Metadata"]["TrainingJob"]["Arn"] != failed_job
    assert after[StepName.ASSOCIATE_LINEAGE.value]["StepStatus"] == "Succeeded"
    old_job = harness.sm.describe_training_job(TrainingJobName=failed_job.rsplit("/", 1)[1])
    assert old_job["TrainingJobStatus"] == "Failed"
    assert old_job["FailureReason"] == "OutOfMemory: worker died"


def test_retry_of_a_stopped_execution_resumes_it(harness: Harness) -> None:
    harness.emu.step_seconds = 2.0
    arn = harness.start(harness.create())
    harness.sm.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token())
    harness.emu.step_seconds = 0.05
    assert harness.wait_terminal(arn)["PipelineExecutionStatus"] == "Stopped"

    harness.sm.retry_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token())

    assert harness.wait_terminal(arn)["PipelineExecutionStatus"] == "Succeeded"


def test_retry_conflicts_unless_failed_or_stopped(harness: Harness) -> None:
    harness.emu.step_seconds = 2.0
    arn = harness.start(harness.create())
    with pytest.raises(harness.sm.exceptions.ConflictException):
        harness.sm.retry_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token())
    harness.emu.step_seconds = 0.0
    harness.wait_terminal(arn)
    with pytest.raises(harness.sm.exceptions.ConflictException):
        harness.sm.retry_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token())


def test_list_pipelines_uses_prefix_semantics_and_paginates(harness: Harness) -> None:
    bench = [harness.create(EvalType.BENCHMARK) for _ in range(5)]
    harness.create(EvalType.LLM_AS_JUDGE)
    harness.create(PipelineName="my-SagemakerEvaluation-BenchmarkEvaluation-copy")

    pages = list(
        harness.sm.get_paginator("list_pipelines").paginate(
            PipelineNamePrefix=kind_of(EvalType.BENCHMARK).pipeline_name_prefix,
            SortBy="CreationTime",
            SortOrder="Ascending",
            PaginationConfig={"PageSize": 2},
        )
    )

    assert [len(p["PipelineSummaries"]) for p in pages] == [2, 2, 1]
    assert [s["PipelineName"] for p in pages for s in p["PipelineSummaries"]] == bench
    by_name = harness.sm.list_pipelines(SortBy="Name", SortOrder="Ascending", MaxResults=100)
    names = [s["PipelineName"] for s in by_name["PipelineSummaries"]]
    assert names == sorted(names) and len(names) == 7


def test_list_pipeline_executions_sorts_and_paginates(harness: Harness) -> None:
    harness.emu.step_seconds = 5.0
    name = harness.create()
    arns = [harness.start(name, prefix=f"run{i}") for i in range(5)]

    newest_first = [
        s["PipelineExecutionArn"]
        for page in harness.sm.get_paginator("list_pipeline_executions").paginate(
            PipelineName=name, PaginationConfig={"PageSize": 2}
        )
        for s in page["PipelineExecutionSummaries"]
    ]
    oldest_first = harness.sm.list_pipeline_executions(PipelineName=name, SortOrder="Ascending")
    by_arn = harness.sm.list_pipeline_executions(
        PipelineName=name, SortBy="PipelineExecutionArn", SortOrder="Ascending"
    )

    assert newest_first == list(reversed(arns))
    assert [s["PipelineExecutionArn"] for s in oldest_first["PipelineExecutionSummaries"]] == arns
    assert [s["PipelineExecutionArn"] for s in by_arn["PipelineExecutionSummaries"]] == sorted(arns)
    assert all(
        s["PipelineExecutionStatus"] == "Executing" for s in oldest_first["PipelineExecutionSummaries"]
    )


def test_list_pipeline_execution_steps_sorts_and_paginates(harness: Harness) -> None:
    arn = harness.start(harness.create(EvalType.LLM_AS_JUDGE))
    harness.wait_terminal(arn)

    pages = list(
        harness.sm.get_paginator("list_pipeline_execution_steps").paginate(
            PipelineExecutionArn=arn, SortOrder="Ascending", PaginationConfig={"PageSize": 4}
        )
    )
    ascending = [s for p in pages for s in p["PipelineExecutionSteps"]]
    descending = harness.sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]

    assert [len(p["PipelineExecutionSteps"]) for p in pages] == [4, 2]
    assert ascending[0]["StepName"] == StepName.CREATE_EVALUATION_ACTION.value
    assert ascending[-1]["StepName"] == StepName.ASSOCIATE_LINEAGE.value
    starts = [s["StartTime"] for s in ascending]
    assert starts == sorted(starts)
    assert [s["StepName"] for s in descending] == [s["StepName"] for s in reversed(ascending)]


def test_unstarted_steps_are_not_listed(harness: Harness) -> None:
    harness.emu.step_seconds = 5.0
    arn = harness.start(harness.create())
    listed = harness.steps(arn)
    assert list(listed) == [StepName.CREATE_EVALUATION_ACTION.value]
    assert listed[StepName.CREATE_EVALUATION_ACTION.value]["StepStatus"] in ("Starting", "Executing")
    assert "EndTime" not in listed[StepName.CREATE_EVALUATION_ACTION.value]


def test_training_job_status_follows_the_step(harness: Harness) -> None:
    harness.emu.step_seconds = 0.5
    arn = harness.start(harness.create())
    step = wait_for(
        lambda: harness.steps(arn).get(StepName.EVALUATE_CUSTOM_MODEL.value), what="the custom model step"
    )
    job_name = step["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[1]
    running = harness.sm.describe_training_job(TrainingJobName=job_name)
    assert running["TrainingJobStatus"] in ("InProgress", "Completed")
    harness.wait_terminal(arn)
    done = harness.sm.describe_training_job(TrainingJobName=job_name)
    assert done["TrainingJobStatus"] == "Completed"
    assert done["SecondaryStatus"] == "Completed"
    assert done["TrainingEndTime"] >= done["TrainingStartTime"]
    assert done["ModelArtifacts"]["S3ModelArtifacts"] == f"s3://{BUCKET}/run/{job_name}/output/model.tar.gz"
    assert done["HyperParameters"]["evaluate_base_model"] == "false"
    assert done["RoleArn"] == "arn:aws:iam::123456789012:role/SageMakerEvaluationRole"


def test_execution_description_fields(harness: Harness) -> None:
    name = harness.create()
    arn = harness.start(
        name,
        PipelineExecutionDisplayName="nightly-1700000000",
        PipelineExecutionDescription="Evaluation execution: x",
    )
    described = harness.sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["PipelineExecutionDisplayName"] == "nightly-1700000000"
    assert described["PipelineExecutionDescription"] == "Evaluation execution: x"
    assert described["PipelineArn"] == harness.sm.describe_pipeline(PipelineName=name)["PipelineArn"]
    assert described["PipelineVersionId"] == 1
    assert arn.startswith(f"{described['PipelineArn']}/execution/")
    assert "LastRunTime" in harness.sm.describe_pipeline(PipelineName=name)


def test_parameters_defaults_and_overrides_reach_the_jobs(harness: Harness) -> None:
    arn = harness.start(
        harness.create(),
        PipelineParameters=[
            {"Name": "S3OutputPath", "Value": f"s3://{BUCKET}/params"},
            {"Name": "Benchmark", "Value": "gpqa"},
        ],
    )
    harness.wait_terminal(arn)
    job_arn = harness.steps(arn)[StepName.EVALUATE_BASE_MODEL.value]["Metadata"]["TrainingJob"]["Arn"]
    job = harness.sm.describe_training_job(TrainingJobName=job_arn.rsplit("/", 1)[1])
    assert job["HyperParameters"]["task"] == "gpqa"
    assert job["HyperParameters"]["subtask"] == "ALL"
    assert job["OutputDataConfig"]["S3OutputPath"] == f"s3://{BUCKET}/params"


def test_parallelism_configuration_limits_running_steps(harness: Harness) -> None:
    arn = harness.start(
        harness.create(EvalType.LLM_AS_JUDGE), ParallelismConfiguration={"MaxParallelExecutionSteps": 1}
    )
    harness.wait_terminal(arn)
    steps = sorted(harness.steps(arn).values(), key=lambda s: s["StartTime"])
    for earlier, later in itertools.pairwise(steps):
        assert later["StartTime"] >= earlier["EndTime"]


def test_concurrent_clients_each_see_their_execution_through(harness: Harness) -> None:
    def run(index: int) -> tuple[str, str, int]:
        sm = harness.emu.client("sagemaker")
        name = pipeline_name(EvalType.BENCHMARK)
        sm.create_pipeline(
            PipelineName=name,
            PipelineDefinition=definition("benchmark"),
            RoleArn=ROLE_ARN,
            ClientRequestToken=token(),
        )
        arn = sm.start_pipeline_execution(
            PipelineName=name,
            PipelineParameters=[{"Name": "S3OutputPath", "Value": f"s3://{BUCKET}/c{index}"}],
            ClientRequestToken=token(),
        )["PipelineExecutionArn"]
        status = wait_for(
            lambda: (
                (s := sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"])
                != "Executing"
                and s
            ),
            what=f"end of execution {index}",
        )
        steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
        return arn, status, len(steps)

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(run, range(6)))

    assert len({arn for arn, _, _ in outcomes}) == 6
    assert [(status, steps) for _, status, steps in outcomes] == [("Succeeded", 4)] * 6
    for index in range(6):
        assert len([k for k in harness.keys(f"c{index}/") if k.endswith(".json")]) == 2


def test_list_calls_filter_by_creation_time(harness: Harness) -> None:
    harness.emu.step_seconds = 5.0
    first = harness.create()
    arn = harness.start(first)
    created = harness.sm.describe_pipeline(PipelineName=first)["CreationTime"]
    started = harness.sm.describe_pipeline_execution(PipelineExecutionArn=arn)["CreationTime"]
    second = harness.create()

    after = harness.sm.list_pipelines(CreatedAfter=created)["PipelineSummaries"]
    before = harness.sm.list_pipelines(
        CreatedBefore=harness.sm.describe_pipeline(PipelineName=second)["CreationTime"]
    )
    assert [p["PipelineName"] for p in after] == [second]
    assert [p["PipelineName"] for p in before["PipelineSummaries"]] == [first]
    assert (
        harness.sm.list_pipeline_executions(PipelineName=first, CreatedAfter=started)[
            "PipelineExecutionSummaries"
        ]
        == []
    )


def test_pipeline_versions_are_listed_and_updated(harness: Harness) -> None:
    name = harness.create()
    pipeline_arn = harness.sm.describe_pipeline(PipelineName=name)["PipelineArn"]
    for _ in range(2):
        harness.sm.update_pipeline(PipelineName=name, PipelineDefinition=definition("benchmark"))
    arn = harness.start(name, PipelineVersionId=2)

    updated = harness.sm.update_pipeline_version(
        PipelineArn=pipeline_arn,
        PipelineVersionId=2,
        PipelineVersionDisplayName="second",
        PipelineVersionDescription="the second version",
    )
    assert (updated["PipelineArn"], updated["PipelineVersionId"]) == (pipeline_arn, 2)

    summaries = harness.sm.list_pipeline_versions(PipelineName=name)["PipelineVersionSummaries"]
    assert [s["PipelineVersionId"] for s in summaries] == [3, 2, 1]
    second = summaries[1]
    assert second["PipelineVersionDisplayName"] == "second"
    assert second["PipelineVersionDescription"] == "the second version"
    assert second["LastExecutionPipelineExecutionArn"] == arn
    assert "LastExecutionPipelineExecutionArn" not in summaries[0]
    ascending = harness.sm.list_pipeline_versions(PipelineName=name, SortOrder="Ascending", MaxResults=2)
    assert [s["PipelineVersionId"] for s in ascending["PipelineVersionSummaries"]] == [1, 2]
    rest = harness.sm.list_pipeline_versions(
        PipelineName=name, SortOrder="Ascending", NextToken=ascending["NextToken"]
    )
    assert [s["PipelineVersionId"] for s in rest["PipelineVersionSummaries"]] == [3]

    described = harness.sm.describe_pipeline(PipelineName=name, PipelineVersionId=2)
    assert described["PipelineVersionDisplayName"] == "second"
    assert described["PipelineVersionDescription"] == "the second version"
    assert "PipelineVersionDisplayName" not in harness.sm.describe_pipeline(PipelineName=name)


def test_unknown_pipeline_versions_are_not_found(harness: Harness) -> None:
    name = harness.create()
    pipeline_arn = harness.sm.describe_pipeline(PipelineName=name)["PipelineArn"]
    with pytest.raises(harness.sm.exceptions.ResourceNotFound):
        harness.sm.update_pipeline_version(PipelineArn=pipeline_arn, PipelineVersionId=9)
    with pytest.raises(harness.sm.exceptions.ResourceNotFound):
        harness.sm.update_pipeline_version(PipelineArn=f"{pipeline_arn}x", PipelineVersionId=1)
    with pytest.raises(harness.sm.exceptions.ResourceNotFound):
        harness.sm.list_pipeline_versions(PipelineName=f"{name}x")
