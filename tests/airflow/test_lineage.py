"""OpenLineage of the evaluation operators: S3 inputs from the definition, result files as outputs."""

from __future__ import annotations

import json
import subprocess
import sys

from airflow_provider_sm_eval.emulator import EvaluationEmulator
from airflow_provider_sm_eval.operators.evaluation_results import EvaluationResultsOperator
from airflow_provider_sm_eval.operators.lineage import definition_input_uris
from airflow_provider_sm_eval.operators.start_evaluation import StartEvaluationOperator
from tests.airflow.airflow_test_support import (
    BUCKET,
    CONN_ID,
    DEFINITIONS,
    ROLE_ARN,
    RecordingTaskInstance,
    definition_path,
    task_context,
)


def load(kind: str) -> dict:
    return json.loads((DEFINITIONS / f"{kind}.json").read_text())


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
    op = StartEvaluationOperator(
        task_id="evaluate",
        eval_type="customscorer",
        evaluation_name="lineage",
        pipeline_definition=definition_path("custom_scorer"),
        role_arn=ROLE_ARN,
        s3_output_path=f"s3://{BUCKET}/lineage",
        pipeline_parameters={"DatasetS3Uri": "s3://datasets/gen_qa/v3.jsonl"},
        aws_conn_id=CONN_ID,
        poll_interval=0.05,
        deferrable=False,
    )
    result = op.execute(task_context(RecordingTaskInstance()))

    lineage = op.get_openlineage_facets_on_complete(None)

    assert [(d.namespace, d.name) for d in lineage.inputs] == [("s3://datasets", "gen_qa/v3.jsonl")]
    written = [f"{d.namespace}/{d.name}" for d in lineage.outputs]
    assert written == result["results"]["artifact_uris"]
    assert len(written) == 2
    assert all(uri.startswith(f"s3://{BUCKET}/lineage/") for uri in written)


def test_start_operator_without_results_reports_the_output_root(emulator: EvaluationEmulator) -> None:
    op = StartEvaluationOperator(
        task_id="evaluate",
        eval_type="benchmark",
        evaluation_name="lineage",
        pipeline_definition=definition_path("benchmark"),
        role_arn=ROLE_ARN,
        s3_output_path=f"s3://{BUCKET}/root",
        aws_conn_id=CONN_ID,
        wait_for_completion=False,
    )
    op.execute(task_context(RecordingTaskInstance()))

    lineage = op.get_openlineage_facets_on_complete(None)

    assert [(d.namespace, d.name) for d in lineage.outputs] == [(f"s3://{BUCKET}", "root")]


def test_results_operator_reports_the_result_files_it_read(emulator: EvaluationEmulator) -> None:
    start = StartEvaluationOperator(
        task_id="evaluate",
        eval_type="llmasjudge",
        evaluation_name="lineage",
        pipeline_definition=definition_path("llm_as_judge"),
        role_arn=ROLE_ARN,
        s3_output_path=f"s3://{BUCKET}/judge",
        aws_conn_id=CONN_ID,
        poll_interval=0.05,
        read_results=False,
        deferrable=False,
    )
    arn = start.execute(task_context(RecordingTaskInstance()))["execution_arn"]
    op = EvaluationResultsOperator(task_id="results", execution_arn=arn, aws_conn_id=CONN_ID)
    summary = op.execute(task_context(RecordingTaskInstance()))

    lineage = op.get_openlineage_facets_on_complete(None)

    assert [f"{d.namespace}/{d.name}" for d in lineage.inputs] == summary["artifact_uris"]
    assert lineage.outputs == []


def test_lineage_costs_a_dag_file_nothing() -> None:
    """Importing the operators loads no OpenLineage module beyond what Airflow itself loads."""
    code = (
        "import sys\n"
        "import airflow.sdk\n"
        "before = set(sys.modules)\n"
        "import airflow_provider_sm_eval.operators.start_evaluation\n"
        "import airflow_provider_sm_eval.operators.evaluation_results\n"
        "print(sorted(m for m in set(sys.modules) - before if 'openlineage' in m))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip().splitlines()[-1] == "[]"
