"""OpenLineage of the evaluation operators: models and S3 inputs from the definition, result files as
outputs, the pipeline execution as a run facet; nothing when the openlineage provider is missing."""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_sm_eval.operators.evaluation_results import EvaluationResultsOperator
from airflow_provider_sm_eval.operators.start_evaluation import StartEvaluationOperator
from airflow_provider_sm_eval.utils.lineage import (
    EXECUTION_FACET_SOURCE,
    definition_input_uris,
    definition_model_ids,
)
from sagemaker_eval_emulator import EvaluationEmulator
from tests.airflow.airflow_test_support import (
    BUCKET,
    CONN_ID,
    DEFINITIONS,
    ROLE_ARN,
    RecordingTaskInstance,
    definition_path,
    task_context,
)

BASE_MODEL_DATASET = (  # the base model in the example definitions: a public hub content ARN
    "arn:aws:sagemaker:us-east-1:aws",
    "hub-content/SageMakerPublicHub/Model/meta-textgeneration-llama-3-2-1b-instruct/1.0.0",
)
BASE_MODEL = ":".join(BASE_MODEL_DATASET)
MODEL_PACKAGE_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/my-fine-tuned-model/1"


EVAL_TYPES = {"benchmark": "benchmark", "custom_scorer": "customscorer", "llm_as_judge": "llmasjudge"}


def start_operator(kind: str, output: str, **overrides: Any) -> StartEvaluationOperator:
    """A blocking start of the example definition ``kind``, writing under ``s3://BUCKET/output``."""
    arguments: dict[str, Any] = {
        "task_id": "evaluate",
        "eval_type": EVAL_TYPES[kind],
        "evaluation_name": "lineage",
        "pipeline_definition": definition_path(kind),
        "role_arn": ROLE_ARN,
        "s3_output_path": f"s3://{BUCKET}/{output}",
        "aws_conn_id": CONN_ID,
        "poll_interval": 0.05,
        "deferrable": False,
    }
    arguments.update(overrides)
    return StartEvaluationOperator(**arguments)


def load(kind: str) -> dict:
    return json.loads((DEFINITIONS / f"{kind}.json").read_text())


def names(datasets: Any) -> list[tuple[str, str]]:
    return [(d.namespace, d.name) for d in datasets]


def executed_by(lineage: Any) -> str:
    facet = lineage.run_facets["externalQuery"]
    assert facet.source == EXECUTION_FACET_SOURCE
    return str(facet.externalQueryId)


def test_inputs_resolve_parameter_references_to_given_values_or_defaults() -> None:
    definition = load("custom_scorer")

    assert definition_input_uris(definition) == ["s3://my-evaluation-bucket/datasets/gen_qa.jsonl"]
    assert definition_input_uris(definition, {"DatasetS3Uri": "s3://data/eval/v2.jsonl"}) == [
        "s3://data/eval/v2.jsonl"
    ]


def test_inputs_take_literal_uris_and_skip_unresolvable_ones() -> None:
    channel = {"DataSource": {"S3DataSource": {"S3Uri": "s3://literal/data.jsonl"}}}
    unresolved = {"DataSource": {"S3DataSource": {"S3Uri": {"Get": "Parameters.Undeclared"}}}}
    definition = {
        "Steps": [
            {"Name": "A", "Arguments": {"InputDataConfig": [channel, unresolved]}},
            {"Name": "B", "Arguments": {"InputDataConfig": [channel]}},
        ]
    }

    assert definition_input_uris(definition) == ["s3://literal/data.jsonl"]


def test_start_operator_reports_dataset_read_and_result_files_written(
    emulator: EvaluationEmulator,
) -> None:
    op = start_operator(
        "custom_scorer", "lineage", pipeline_parameters={"DatasetS3Uri": "s3://datasets/gen_qa/v3.jsonl"}
    )
    result = op.execute(task_context(RecordingTaskInstance()))

    lineage = op.get_openlineage_facets_on_complete(None)

    assert names(lineage.inputs) == [
        BASE_MODEL_DATASET,
        ("arn:aws:sagemaker:us-east-1:123456789012", "model-package/my-fine-tuned-model/1"),
        ("s3://datasets", "gen_qa/v3.jsonl"),
    ]
    assert executed_by(lineage) == result["execution_arn"]
    written = [f"{d.namespace}/{d.name}" for d in lineage.outputs]
    assert written == result["results"]["artifact_uris"]
    assert len(written) == 2
    assert all(uri.startswith(f"s3://{BUCKET}/lineage/") for uri in written)


def test_start_operator_without_results_reports_the_output_root(emulator: EvaluationEmulator) -> None:
    emulator.step_seconds = 30  # not ended when the start returns (0.05 s steps can end on a busy machine)
    op = start_operator("benchmark", "root", wait_for_completion=False)
    op.execute(task_context(RecordingTaskInstance()))

    lineage = op.get_openlineage_facets_on_complete(None)

    assert [(d.namespace, d.name) for d in lineage.outputs] == [(f"s3://{BUCKET}", "root")]


def test_results_operator_reports_the_result_files_it_read(emulator: EvaluationEmulator) -> None:
    start = start_operator("llm_as_judge", "judge", read_results=False)
    arn = start.execute(task_context(RecordingTaskInstance()))["execution_arn"]
    op = EvaluationResultsOperator(task_id="results", execution_arn=arn, aws_conn_id=CONN_ID)
    summary = op.execute(task_context(RecordingTaskInstance()))

    lineage = op.get_openlineage_facets_on_complete(None)

    assert [f"{d.namespace}/{d.name}" for d in lineage.inputs] == summary["artifact_uris"]
    assert summary["artifact_uris"]
    assert lineage.outputs == []
    assert executed_by(lineage) == arn


def test_models_resolve_to_given_parameter_values_or_defaults() -> None:
    definition = load("llm_as_judge")
    other = "arn:aws:sagemaker:eu-west-1:210987654321:model-package/candidate/7"

    assert definition_model_ids(definition) == [BASE_MODEL, MODEL_PACKAGE_ARN]
    assert definition_model_ids(definition, {"CustomModelPackageArn": other}) == [BASE_MODEL, other]


def test_benchmark_execution_lineage(emulator: EvaluationEmulator) -> None:
    op = start_operator("benchmark", "bench")
    started = op.get_openlineage_facets_on_start()
    result = op.execute(task_context(RecordingTaskInstance()))

    lineage = op.get_openlineage_facets_on_complete(None)

    models = [
        BASE_MODEL_DATASET,
        ("arn:aws:sagemaker:us-east-1:123456789012", "model-package/my-fine-tuned-model/1"),
    ]
    assert names(started.inputs) == models
    assert names(started.outputs) == [(f"s3://{BUCKET}", "bench")]
    assert started.run_facets == {}
    assert names(lineage.inputs) == models
    assert [f"{d.namespace}/{d.name}" for d in lineage.outputs] == result["results"]["artifact_uris"]
    assert result["results"]["artifact_uris"]
    assert executed_by(lineage) == result["execution_arn"]


def test_llm_as_judge_execution_lineage(emulator: EvaluationEmulator) -> None:
    op = start_operator("llm_as_judge", "judge")
    result = op.execute(task_context(RecordingTaskInstance()))

    lineage = op.get_openlineage_facets_on_complete(None)

    assert ("s3://my-evaluation-bucket", "datasets/prompts.jsonl") in names(lineage.inputs)
    assert ("arn:aws:sagemaker:us-east-1:123456789012", "model-package/my-fine-tuned-model/1") in names(
        lineage.inputs
    )
    written = [f"{d.namespace}/{d.name}" for d in lineage.outputs]
    assert written == result["results"]["artifact_uris"]
    assert len(written) == 4  # aggregate and per-example file of each model
    assert all(uri.startswith(f"s3://{BUCKET}/judge/") for uri in written)
    assert executed_by(lineage) == result["execution_arn"]


def test_without_the_openlineage_provider_lineage_is_none(
    emulator: EvaluationEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listener belongs to the openlineage provider; without it the methods report nothing."""
    monkeypatch.setitem(sys.modules, "airflow.providers.openlineage.extractors", None)
    start = start_operator("benchmark", "none")
    arn = start.execute(task_context(RecordingTaskInstance()))["execution_arn"]
    results = EvaluationResultsOperator(task_id="results", execution_arn=arn, aws_conn_id=CONN_ID)
    results.execute(task_context(RecordingTaskInstance()))

    assert start.get_openlineage_facets_on_start() is None
    assert start.get_openlineage_facets_on_complete(None) is None
    assert results.get_openlineage_facets_on_complete(None) is None


def test_the_openlineage_extractor_manager_reads_both_events(emulator: EvaluationEmulator) -> None:
    """The openlineage listener's own extraction path finds the operator's facets."""
    from airflow.providers.openlineage.extractors.manager import ExtractorManager
    from airflow.utils.state import TaskInstanceState

    op = start_operator("custom_scorer", "extracted")
    ti = RecordingTaskInstance()
    dag_run = SimpleNamespace(run_id=ti.run_id)
    manager = ExtractorManager()

    started = manager.extract_metadata(dag_run, op, TaskInstanceState.RUNNING, ti)
    result = op.execute(task_context(ti))
    completed = manager.extract_metadata(dag_run, op, TaskInstanceState.SUCCESS, ti)

    assert ("s3://my-evaluation-bucket", "datasets/gen_qa.jsonl") in names(started.inputs)
    assert names(started.outputs) == [(f"s3://{BUCKET}", "extracted")]
    assert [f"{d.namespace}/{d.name}" for d in completed.outputs] == result["results"]["artifact_uris"]
    assert executed_by(completed) == result["execution_arn"]
