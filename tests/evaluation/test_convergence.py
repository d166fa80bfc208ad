"""Concurrent first starts converge to one pipeline per type; SDK placeholders get the real name.

Each worker holds its own boto3 clients and all are released at once by a barrier, against the
emulator over HTTP.
"""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_sm_eval.evaluation import AwsClients, EvalType, EvaluationPipelineExecution
from airflow_provider_sm_eval.evaluation.pipelines import converged_pipeline_name
from airflow_provider_sm_eval.evaluation.types.registry import kind_of
from sagemaker_eval_emulator import EvaluationEmulator

DEFINITIONS = Path(__file__).parents[2] / "example_dags" / "pipeline_definitions"
FILES = {
    EvalType.BENCHMARK: "benchmark",
    EvalType.CUSTOM_SCORER: "custom_scorer",
    EvalType.LLM_AS_JUDGE: "llm_as_judge",
}
ROLE = "arn:aws:iam::123456789012:role/SageMakerEvaluationRole"
OUTPUT = "s3://race-results/evaluations"
WORKERS = 20


def definition(eval_type: EvalType) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DEFINITIONS / f"{FILES[eval_type]}.json").read_text())
    return document


def pipelines_of(emu: EvaluationEmulator, eval_type: EvalType) -> list[str]:
    prefix = kind_of(eval_type).pipeline_name_prefix
    pages = emu.client("sagemaker").get_paginator("list_pipelines").paginate(PipelineNamePrefix=prefix)
    return [p["PipelineName"] for page in pages for p in page["PipelineSummaries"]]


def start_at_once(emu: EvaluationEmulator, eval_type: EvalType, tokens: list[str]) -> list[str]:
    """Start one evaluation per token from its own thread and clients, all released together."""
    barrier = threading.Barrier(len(tokens))
    document = definition(eval_type)

    def worker(token: str) -> str:
        clients = AwsClients(sagemaker_client=emu.client("sagemaker"), s3_client=emu.client("s3"))
        barrier.wait()
        return EvaluationPipelineExecution.start(
            eval_type, "race", document, ROLE, OUTPUT, client_request_token=token, clients=clients
        ).arn

    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        return list(pool.map(worker, tokens))


@pytest.mark.parametrize("eval_type", list(EvalType))
def test_concurrent_first_starts_with_one_token_give_one_pipeline_and_one_execution(
    sm_eval_emulator: EvaluationEmulator, eval_type: EvalType
) -> None:
    arns = start_at_once(sm_eval_emulator, eval_type, [f"airflow-{uuid.uuid4().hex}"] * WORKERS)

    assert pipelines_of(sm_eval_emulator, eval_type) == [converged_pipeline_name(eval_type)]
    assert len(set(arns)) == 1
    listed = sm_eval_emulator.client("sagemaker").list_pipeline_executions(
        PipelineName=converged_pipeline_name(eval_type)
    )["PipelineExecutionSummaries"]
    assert [s["PipelineExecutionArn"] for s in listed] == arns[:1]


def test_concurrent_first_starts_with_distinct_tokens_share_one_pipeline(
    sm_eval_emulator: EvaluationEmulator,
) -> None:
    arns = start_at_once(
        sm_eval_emulator, EvalType.BENCHMARK, [f"airflow-{uuid.uuid4().hex}" for _ in range(WORKERS)]
    )

    assert pipelines_of(sm_eval_emulator, EvalType.BENCHMARK) == [converged_pipeline_name(EvalType.BENCHMARK)]
    assert len(set(arns)) == WORKERS
    assert {arn.split("/")[1] for arn in arns} == {converged_pipeline_name(EvalType.BENCHMARK).lower()}


def test_an_existing_tagged_pipeline_is_used_the_oldest_first(sm_eval_emulator: EvaluationEmulator) -> None:
    sagemaker = sm_eval_emulator.client("sagemaker")
    prefix = kind_of(EvalType.BENCHMARK).pipeline_name_prefix
    names = [f"{prefix}-{uuid.uuid4()}" for _ in range(2)]
    for name in names:
        sagemaker.create_pipeline(
            PipelineName=name,
            PipelineDefinition=json.dumps(definition(EvalType.BENCHMARK)),
            RoleArn=ROLE,
            ClientRequestToken=uuid.uuid4().hex,
            Tags=[{"Key": "SagemakerModelEvaluation", "Value": "true"}],
        )
    clients = AwsClients(sagemaker_client=sagemaker)
    started = EvaluationPipelineExecution.start(
        "benchmark", "sdk-made", definition(EvalType.BENCHMARK), ROLE, OUTPUT, clients=clients
    )
    assert started.pipeline_name == names[0]


def sdk_rendered(eval_type: EvalType) -> dict[str, Any]:
    """A definition shaped like the SDK evaluators' output: the pipeline name left as a placeholder
    in the lineage step's properties and as the default MLflow experiment name."""
    document = definition(eval_type)
    lineage = next(step for step in document["Steps"] if step["Name"] == "CreateEvaluationAction")
    properties = lineage["Arguments"]["Actions"][0].setdefault("Properties", {})
    properties["PipelineName"] = "{{ pipeline_name }}"
    properties["MlflowExperimentName"] = "{{pipeline_name}}"
    properties["Note"] = "run of {{  pipeline_name  }}"
    return document


@pytest.mark.parametrize("eval_type", list(EvalType))
def test_sdk_placeholder_becomes_the_pipeline_name(
    sm_eval_emulator: EvaluationEmulator, eval_type: EvalType
) -> None:
    sagemaker = sm_eval_emulator.client("sagemaker")
    execution = EvaluationPipelineExecution.start(
        eval_type,
        "sdk-rendered",
        sdk_rendered(eval_type),
        ROLE,
        OUTPUT,
        clients=AwsClients(sagemaker_client=sagemaker),
    )
    ran = sagemaker.describe_pipeline_definition_for_execution(PipelineExecutionArn=execution.arn)
    document = json.loads(ran["PipelineDefinition"])
    lineage = next(step for step in document["Steps"] if step["Name"] == "CreateEvaluationAction")
    properties = lineage["Arguments"]["Actions"][0]["Properties"]
    assert properties["PipelineName"] == execution.pipeline_name
    assert properties["MlflowExperimentName"] == execution.pipeline_name
    assert properties["Note"] == f"run of {execution.pipeline_name}"
    assert "pipeline_name }}" not in ran["PipelineDefinition"]
