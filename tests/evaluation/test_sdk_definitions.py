"""The definitions our evaluators start equal the SageMaker SDK 1.27's, case by case.

Each fixture in ``tests/fixtures/sdk_definitions`` (made by running the SDK's own evaluators
against the emulator: ``make sdk-fixtures``) holds the SDK's inputs and the definition SageMaker
received. Here the same inputs go through :func:`prepare` against the emulator (same seeded hub,
model packages, MLflow app), the definition is started through the core's start path, read back
with ``DescribePipelineDefinitionForExecution`` and compared. :func:`normalized` is the only
place that hides differences, and it hides only generated names and ids.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_sm_eval.evaluation.clients import AwsClients
from airflow_provider_sm_eval.evaluation.definitions import PreparedDefinition, prepare
from airflow_provider_sm_eval.evaluation.definitions.inputs import (
    BenchmarkEvaluation,
    CustomScorerEvaluation,
    EvaluatorInputs,
    LLMAsJudgeEvaluation,
)
from airflow_provider_sm_eval.evaluation.lifecycle import start_execution
from airflow_provider_sm_eval.evaluation.request import StartRequest
from sagemaker_eval_emulator.server import EvaluationEmulator

#: One pytest-xdist worker runs the whole module: its module-scoped emulator is reset once.
pytestmark = pytest.mark.xdist_group(__name__)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sdk_definitions"
CASES = sorted(path.stem for path in FIXTURES.glob("*.json"))
INPUT_TYPES: dict[str, type[EvaluatorInputs]] = {
    "BenchMarkEvaluator": BenchmarkEvaluation,
    "LLMAsJudgeEvaluator": LLMAsJudgeEvaluation,
    "CustomScorerEvaluator": CustomScorerEvaluation,
}
DATASET_BUCKET, DATASET_KEY = "sdk-fixtures-input", "datasets/gen_qa.jsonl"
OUTPUT_BUCKET = "sdk-fixtures-output"
#: Cases whose input value the SDK's start renders as a Jinja template (``{{ x }}`` becomes ``""``):
#: the SDK loses the value, ours keeps it. Case -> (position in the definition, input).
SDK_RENDERS_INPUT: dict[str, tuple[tuple[str, ...], str]] = {
    "benchmark_braces": (("MlflowConfig", "MlflowExperimentName"), "mlflow_experiment_name"),
}
#: The upload folder of one try (the operators derive it from the task instance).
UPLOAD_KEY = "fixture-try-1"


def load(case: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{case}.json").read_text())


def normalized(definition: dict[str, Any], *, pipeline_name: str, generated: dict[str, str | None]) -> Any:
    """``definition`` with its generated names and ids replaced by their kind, and nothing else:

    - the pipeline's name (``SagemakerEvaluation-<Type>-<uuid>``: the SDK's uuid4, our uuid5);
    - ``generated``: the model's lineage artifact ARN (ids made by CreateArtifact) and the
      custom metrics file's S3 URI (the SDK's key holds a timestamp, ours the try's upload key).
    """
    names = {pipeline_name: "<pipeline-name>", **{v: f"<{k}>" for k, v in generated.items() if v}}

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return names.get(value, value) if isinstance(value, str) else value

    return walk(definition)


def inputs_of(fixture: dict[str, Any]) -> EvaluatorInputs:
    """The fixture's SDK keyword arguments as our inputs (``role`` is ``role_arn`` here)."""
    arguments = {("role_arn" if k == "role" else k): v for k, v in fixture["inputs"].items()}
    return INPUT_TYPES[fixture["evaluator"]](**arguments)


@pytest.fixture(scope="module")
def emulator(sm_eval_emulator_session: EvaluationEmulator) -> EvaluationEmulator:
    """One clean emulator for the module: the cases share it (a reset costs seconds)."""
    sm_eval_emulator_session.reset()
    return sm_eval_emulator_session


@pytest.fixture(scope="module")
def clients(emulator: EvaluationEmulator) -> AwsClients:
    s3 = emulator.client("s3")
    for bucket in (DATASET_BUCKET, OUTPUT_BUCKET):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=DATASET_BUCKET, Key=DATASET_KEY, Body=b'{"query": "1+1?", "response": "2"}\n')
    return AwsClients(sagemaker_client=emulator.client("sagemaker"), s3_client=s3)


def start_and_read_back(
    prepared: PreparedDefinition, inputs: EvaluatorInputs, clients: AwsClients
) -> tuple[str, Any]:
    """Start through the core's start path; the pipeline's name and the definition it ran."""
    request = StartRequest(
        eval_type=prepared.eval_type,
        name="sdk-fixture",
        pipeline_definition=prepared.definition,
        pipeline_name_fields=prepared.pipeline_name_fields,
        role_arn=inputs.role_arn,
        s3_output_path=inputs.s3_output_path,
        tags=list(prepared.tags),
    )
    execution = start_execution(request, clients)
    described = clients.sagemaker.describe_pipeline_definition_for_execution(
        PipelineExecutionArn=execution.arn
    )
    return execution.pipeline_name, json.loads(described["PipelineDefinition"])


def test_the_fixtures_cover_every_variant() -> None:
    cases = set(CASES)
    for kind in ("benchmark", "custom_scorer", "llmaj"):
        for variant in ("base", "mlflow_explicit", "mlflow_off", "model_package", "model_package_no_base"):
            assert f"{kind}_{variant}" in cases
    assert {"benchmark_vpc", "benchmark_kms", "custom_scorer_vpc_kms", "llmaj_vpc_kms"} <= cases
    assert {"custom_scorer_dataset_arn", "llmaj_dataset_arn", "custom_scorer_evaluator_arn"} <= cases
    assert "llmaj_custom_metrics" in cases


@pytest.mark.parametrize("case", [c for c in CASES if "definition" in load(c)])
def test_started_definition_equals_the_sdks(
    case: str, emulator: EvaluationEmulator, clients: AwsClients
) -> None:
    fixture = load(case)
    expected = fixture["definition"]
    sdk_mlflow_off = expected.get("MlflowConfig") == {"MlflowResourceArn": "None"}
    if sdk_mlflow_off:
        # The SDK found no MLflow app; our lookup fails once. The SDK then sends the text "None"
        # as the MLflow ARN; we send no MlflowConfig at all.
        emulator.faults.fail_call("ListMlflowApps", "AccessDeniedException", "not allowed", times=1)
        expected = {k: v for k, v in expected.items() if k != "MlflowConfig"}
    inputs = inputs_of(fixture)

    prepared = prepare(inputs, clients, upload_key=UPLOAD_KEY)
    pipeline_name, started = start_and_read_back(prepared, inputs, clients)

    resolved = fixture.get("resolved", {})
    ours = normalized(
        started,
        pipeline_name=pipeline_name,
        generated={
            "model-artifact": prepared.resolved.dataset_artifact_arn,
            "custom-metrics": prepared.resolved.custom_metrics_s3_uri,
        },
    )
    theirs = normalized(
        expected,
        pipeline_name=fixture["pipeline_name"],
        generated={
            "model-artifact": resolved.get("model_artifact_arn"),
            "custom-metrics": (resolved.get("uploaded_s3_uris") or [None])[0],
        },
    )
    if case in SDK_RENDERS_INPUT:
        (*path, key), argument = SDK_RENDERS_INPUT[case]
        given = fixture["inputs"][argument]
        mine, sdks = ours, theirs
        for step in path:
            mine, sdks = mine[step], sdks[step]
        assert mine[key] == given != sdks[key]
        sdks[key] = given
    else:
        assert "{{" not in json.dumps(started)
    assert ours == theirs
    assert ("MlflowConfig" in started) is not sdk_mlflow_off


@pytest.mark.parametrize("case", [c for c in CASES if "definition" in load(c)])
def test_the_sdks_definition_is_accepted_as_a_hand_written_one(case: str) -> None:
    """Its result steps, lineage steps, ``Get`` references and ``DependsOn`` pass the start's checks."""
    fixture = load(case)
    request = StartRequest(
        eval_type=INPUT_TYPES[fixture["evaluator"]].eval_type_value,
        name="sdk-definition",
        pipeline_definition=fixture["definition"],
        role_arn=fixture["inputs"]["role"],
    )
    assert request.pipeline_definition.document == fixture["definition"]
    assert request.pipeline_name_fields is None
