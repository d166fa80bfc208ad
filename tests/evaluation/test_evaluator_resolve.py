"""Resolving the evaluators' inputs against the emulator, refusals before any write, and values
that the SDK's text templates break on."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from airflow_provider_sm_eval.evaluation.clients import AwsClients
from airflow_provider_sm_eval.evaluation.definitions import build, prepare
from airflow_provider_sm_eval.evaluation.definitions.inputs import (
    BenchmarkEvaluation,
    CustomScorerEvaluation,
    EvaluatorInputs,
    LLMAsJudgeEvaluation,
)
from airflow_provider_sm_eval.evaluation.definitions.resolve import PUBLIC_HUB, resolve
from airflow_provider_sm_eval.evaluation.exceptions import InvalidInputError
from airflow_provider_sm_eval.evaluation.lifecycle import start_execution
from airflow_provider_sm_eval.evaluation.request import StartRequest
from sagemaker_eval_emulator.server import EvaluationEmulator

#: One pytest-xdist worker runs the whole module: its module-scoped emulator is reset once.
pytestmark = pytest.mark.xdist_group(__name__)

ROLE = "arn:aws:iam::123456789012:role/EvalRole"
MODEL = "meta-textgeneration-llama-3-2-1b-instruct"
PACKAGES = "arn:aws:sagemaker:us-east-1:123456789012:model-package"
PACKAGE = f"{PACKAGES}/llama-3-2-1b-finetuned/1"
OUTPUT = "s3://eval-output/evals/"
DATASET = "s3://eval-input/qa/gen_qa.jsonl"
METRICS = [{"customMetricDefinition": {"name": "Tone", "instructions": 'Rate "{{prediction}}" \\ kindly'}}]
#: Operations that change something: none may run before a refusal.
WRITES = ("Create", "Start", "Put", "Update", "Add", "Delete", "Upload", "Retry")


@pytest.fixture(scope="module")
def module_emulator(sm_eval_emulator_session: EvaluationEmulator) -> EvaluationEmulator:
    """One clean emulator for the module (a reset costs seconds); tests clear calls and faults."""
    sm_eval_emulator_session.reset()
    s3 = sm_eval_emulator_session.client("s3")
    for bucket in ("eval-output", "eval-input"):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket="eval-input", Key="qa/gen_qa.jsonl", Body=b'{"query": "q", "response": "r"}\n')
    return sm_eval_emulator_session


@pytest.fixture
def emulator(module_emulator: EvaluationEmulator) -> EvaluationEmulator:
    module_emulator.faults.clear()
    module_emulator.calls.reset()
    return module_emulator


@pytest.fixture(scope="module")
def module_clients(module_emulator: EvaluationEmulator) -> AwsClients:
    return AwsClients(
        sagemaker_client=module_emulator.client("sagemaker"), s3_client=module_emulator.client("s3")
    )


@pytest.fixture
def clients(emulator: EvaluationEmulator, module_clients: AwsClients) -> AwsClients:
    return module_clients


def benchmark(**overrides: Any) -> BenchmarkEvaluation:
    return BenchmarkEvaluation(
        **{"model": MODEL, "benchmark": "mmlu", "s3_output_path": OUTPUT, "role_arn": ROLE, **overrides}
    )


def judge(**overrides: Any) -> LLMAsJudgeEvaluation:
    fields = {"evaluator_model": "anthropic.claude-3-haiku-20240307-v1:0", "builtin_metrics": ["Correctness"]}
    return LLMAsJudgeEvaluation(
        **{
            "model": MODEL,
            "dataset": DATASET,
            "s3_output_path": OUTPUT,
            "role_arn": ROLE,
            **fields,
            **overrides,
        }
    )


def writes(emulator: EvaluationEmulator) -> list[str]:
    return [a for a in emulator.calls.actions() if a.split(":", 1)[1].startswith(WRITES)]


def test_a_jumpstart_model_resolves_to_its_hub_content_and_recipe_defaults(
    clients: AwsClients, emulator: EvaluationEmulator
) -> None:
    resolved = resolve(benchmark(temperature=0.5), clients, upload_key="k")
    assert resolved.base_model_arn == (
        f"arn:aws:sagemaker:us-east-1:aws:hub-content/{PUBLIC_HUB}/Model/{MODEL}/1.0.0"
    )
    assert resolved.source_model_package_arn is None
    assert resolved.dataset_artifact_arn is None
    assert resolved.hyperparameters == {
        "max_new_tokens": "8192",
        "temperature": "0.5",
        "top_k": "-1",
        "top_p": "1.0",
    }
    assert (
        resolved.mlflow_resource_arn
        == "arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-emulator000001"
    )
    assert writes(emulator) == []


def test_a_private_hub_without_the_model_falls_back_to_the_public_hub(
    clients: AwsClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGEMAKER_HUB_NAME", "my-private-hub")
    resolved = resolve(benchmark(), clients, upload_key="k")
    assert resolved.hub_name == PUBLIC_HUB
    assert f"/{PUBLIC_HUB}/Model/{MODEL}/" in resolved.base_model_arn


def test_a_model_package_resolves_to_its_base_model_group_and_one_lineage_artifact(
    clients: AwsClients, emulator: EvaluationEmulator
) -> None:
    first = prepare(benchmark(model=PACKAGE), clients, upload_key="k")
    emulator.calls.reset()
    again = prepare(benchmark(model=PACKAGE), clients, upload_key="k")
    assert first.resolved.source_model_package_arn == PACKAGE
    assert first.resolved.base_model_name == MODEL
    assert first.resolved.base_model_arn.endswith(f"/{PUBLIC_HUB}/Model/{MODEL}/1.0.0")
    assert first.resolved.model_package_group_arn == (
        "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/llama-3-2-1b-finetuned"
    )
    assert first.resolved.dataset_artifact_arn == again.resolved.dataset_artifact_arn
    assert emulator.calls.count("sagemaker", "ListArtifacts") == 1
    assert emulator.calls.count("sagemaker", "CreateArtifact") == 0
    assert first.aws_calls >= again.aws_calls > 0


def test_the_cost_counts_every_call_made(clients: AwsClients, emulator: EvaluationEmulator) -> None:
    prepared = prepare(judge(custom_metrics=METRICS, model=PACKAGE), clients, upload_key="k")
    assert prepared.aws_calls == emulator.calls.total()
    assert prepared.seconds > 0


def test_without_an_mlflow_app_tracking_is_off_with_a_warning(
    clients: AwsClients, emulator: EvaluationEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.faults.fail_call("ListMlflowApps", "AccessDeniedException", "not allowed", times=1)
    with caplog.at_level(logging.WARNING):
        prepared = prepare(benchmark(), clients, upload_key="k")
    assert prepared.resolved.mlflow_resource_arn is None
    assert "MlflowConfig" not in prepared.definition
    assert "MLflow tracking is off" in caplog.text


def test_custom_metrics_land_under_the_same_key_on_every_retry_of_a_try(
    clients: AwsClients, emulator: EvaluationEmulator
) -> None:
    inputs = judge(custom_metrics=METRICS, kms_key_id="alias/evals")
    first = prepare(inputs, clients, upload_key="dag-run-1-try-1")
    retry = prepare(inputs, clients, upload_key="dag-run-1-try-1")
    other = prepare(inputs, clients, upload_key="dag-run-1-try-2")
    uri = "s3://eval-output/evals/evaluationinputs/dag-run-1-try-1/custom-metrics.json"
    assert first.resolved.custom_metrics_s3_uri == retry.resolved.custom_metrics_s3_uri == uri
    assert other.resolved.custom_metrics_s3_uri != uri
    stored = clients.s3.get_object(
        Bucket="eval-output", Key="evals/evaluationinputs/dag-run-1-try-1/custom-metrics.json"
    )
    assert json.loads(stored["Body"].read()) == METRICS
    assert (
        stored.get("SSEKMSKeyId", "").endswith("alias/evals")
        or stored.get("ServerSideEncryption") == "aws:kms"
    )
    steps = {s["Name"]: s for s in first.definition["Steps"]}
    assert steps["EvaluateBaseModelMetrics"]["Arguments"]["HyperParameters"]["custom_metrics"] == uri


@pytest.mark.hostile("start")
@pytest.mark.parametrize(
    ("make", "field", "expected"),
    [
        (lambda: benchmark(model="no-such-model"), "model", "in no hub"),
        (lambda: benchmark(model=f"{PACKAGES}/no-base-model/1"), "model", "no base model"),
        (lambda: benchmark(model=f"{PACKAGES}/missing-group/4"), "model", "not found"),
        (lambda: benchmark(model=PACKAGE.replace("us-east-1", "eu-west-1")), "model", "region eu-west-1"),
        (lambda: benchmark(model_package_group="missing-group"), "model_package_group", "not found"),
        (lambda: benchmark(model=PACKAGE, benchmark="mmmu"), "benchmark", "Nova"),
        (
            lambda: judge(dataset="s3://eval-input/none/here.jsonl", custom_metrics=METRICS),
            "dataset",
            "not found",
        ),
        (
            lambda: CustomScorerEvaluation(
                model=MODEL,
                evaluator="prime_math",
                dataset="arn:aws:sagemaker:us-east-1:123456789012:hub-content/AIRegistry/DataSet/gone/1.0.0",
                s3_output_path=OUTPUT,
                role_arn=ROLE,
            ),
            "dataset",
            "not found",
        ),
    ],
)
def test_what_no_lookup_finds_is_refused_before_any_write(
    make: Any, field: str, expected: str, clients: AwsClients, emulator: EvaluationEmulator
) -> None:
    inputs = make()  # valid without AWS: what refuses it is a lookup
    with pytest.raises(InvalidInputError) as caught:
        prepare(inputs, clients, upload_key="k")
    assert caught.value.field == field
    assert expected in str(caught.value)
    assert writes(emulator) == []


@pytest.mark.hostile("start")
@pytest.mark.parametrize(
    ("overrides", "field", "expected"),
    [
        ({"max_new_tokens": 20000}, "max_new_tokens", "out of range"),
        ({"temperature": 2.5}, "temperature", "out of range"),
        ({"max_model_len": 4096}, "max_model_len", "does not take it"),
        ({"top_k": -1, "aggregation": "median"}, "aggregation", "does not take it"),
    ],
)
def test_hyperparameters_must_fit_the_models_recipe(
    overrides: dict[str, Any], field: str, expected: str, clients: AwsClients, emulator: EvaluationEmulator
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        prepare(benchmark(**overrides), clients, upload_key="k")
    assert caught.value.field == field
    assert expected in str(caught.value)
    assert writes(emulator) == []


@pytest.mark.hostile("start")
def test_the_judge_takes_only_its_four_hyperparameters(clients: AwsClients) -> None:
    prepared = prepare(judge(temperature=0.2), clients, upload_key="k")
    assert prepared.resolved.hyperparameters["temperature"] == "0.2"
    with pytest.raises(InvalidInputError) as caught:
        prepare(judge(aggregation="mean"), clients, upload_key="k")
    assert caught.value.field == "aggregation"


@pytest.mark.hostile("start")
def test_a_judge_model_off_the_regions_list_is_refused_listing_the_valid_ones(
    clients: AwsClients, emulator: EvaluationEmulator
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        prepare(judge(evaluator_model="anthropic.claude-v0", custom_metrics=METRICS), clients, upload_key="k")
    assert caught.value.field == "evaluator_model"
    assert "anthropic.claude-3-haiku-20240307-v1:0" in str(caught.value)
    assert writes(emulator) == []


def test_an_unreadable_judge_list_only_warns(
    clients: AwsClients, emulator: EvaluationEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    where = {
        "Bucket": "jumpstart-cache-prod-us-east-1",
        "Key": "fmhMetadata/supported-llmaj-judge-models.json",
    }
    listed = clients.s3.get_object(**where)["Body"].read()
    clients.s3.delete_object(**where)
    try:
        with caplog.at_level(logging.WARNING):
            prepared = prepare(judge(evaluator_model="anthropic.claude-v0"), clients, upload_key="k")
    finally:
        clients.s3.put_object(**where, Body=listed)
    assert "evaluator_model is not checked" in caplog.text
    assert '"judge_model_id": "anthropic.claude-v0"' in json.dumps(prepared.definition)


def test_the_pipeline_of_a_jumpstart_model_is_tagged_with_its_id(clients: AwsClients) -> None:
    tag = {"Key": "sagemaker-sdk:jumpstart-model-id", "Value": MODEL}
    assert prepare(benchmark(tags={"team": "a"}), clients, upload_key="k").tags == (
        tag,
        {"Key": "team", "Value": "a"},
    )
    assert prepare(benchmark(model=PACKAGE, tags={"team": "a"}), clients, upload_key="k").tags == (
        {"Key": "team", "Value": "a"},
    )
    mine = {"Key": "sagemaker-sdk:jumpstart-model-id", "Value": "mine"}
    assert prepare(benchmark(tags=[mine]), clients, upload_key="k").tags == (mine,)


@pytest.mark.hostile("start")
@pytest.mark.parametrize(
    "make",
    [
        lambda: benchmark(benchmark="mmlu_x"),
        lambda: benchmark(subtasks=["cooking"]),
        lambda: judge(builtin_metrics=["Sparkle"]),
        lambda: judge(custom_metrics='{"not": "a list"}'),
        lambda: judge(dataset="s3:/eval-input/qa.jsonl"),
        lambda: judge(dataset="arn:aws:sagemaker:us-east-1:123456789012:hub-content/H/DataSet/x"),
    ],
)
def test_what_the_inputs_refuse_makes_no_call_at_all(make: Any, emulator: EvaluationEmulator) -> None:
    emulator.calls.reset()
    with pytest.raises(InvalidInputError):
        make()
    assert emulator.calls.total() == 0


@pytest.mark.hostile("start")
@pytest.mark.parametrize("upload_key", ["", "a/b", "../x", "k" * 201, None])
def test_an_upload_key_that_is_no_key_segment_is_refused(upload_key: Any, clients: AwsClients) -> None:
    with pytest.raises(InvalidInputError) as caught:
        prepare(judge(custom_metrics=METRICS), clients, upload_key=upload_key)
    assert caught.value.field == "upload_key"


TRICKY = 'say "hi" \\ {{ pipeline_name }} {{ x }}'


@pytest.mark.hostile("start")
@pytest.mark.parametrize(
    "inputs",
    [
        benchmark(
            mlflow_experiment_name=TRICKY, model=PACKAGE, s3_output_path='s3://eval-output/a"b\\c{{d}}/'
        ),
        judge(mlflow_experiment_name=TRICKY, dataset='s3://eval-input/q"a\\{{x}}.jsonl'),
        CustomScorerEvaluation(
            model=MODEL,
            evaluator="prime_code",
            dataset='s3://eval-input/{{ pipeline_name }}"\\.jsonl',
            s3_output_path=OUTPUT,
            role_arn=ROLE,
            mlflow_experiment_name=TRICKY,
        ),
    ],
    ids=["benchmark", "llm_as_judge", "custom_scorer"],
)
def test_quotes_backslashes_and_braces_stay_intact_through_the_start(
    inputs: EvaluatorInputs, clients: AwsClients, emulator: EvaluationEmulator
) -> None:
    """The SDK's text templates give invalid JSON for such values (its fixture records the error)."""
    s3 = clients.s3
    for uri in {getattr(inputs, "dataset", DATASET)}:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        s3.put_object(Bucket=bucket, Key=key, Body=b"{}\n")
    prepared = prepare(inputs, clients, upload_key="k")
    execution = start_execution(
        StartRequest(
            eval_type=prepared.eval_type,
            name="tricky",
            pipeline_definition=prepared.definition,
            pipeline_name_fields=prepared.pipeline_name_fields,
            role_arn=ROLE,
            s3_output_path=inputs.s3_output_path,
        ),
        clients,
    )
    stored = json.loads(
        clients.sagemaker.describe_pipeline_definition_for_execution(PipelineExecutionArn=execution.arn)[
            "PipelineDefinition"
        ]
    )
    assert stored["MlflowConfig"]["MlflowExperimentName"] == TRICKY
    text = json.dumps(stored)
    output = (
        inputs.s3_output_path.rstrip("/")
        if isinstance(inputs, LLMAsJudgeEvaluation)
        else inputs.s3_output_path
    )
    for value in (output, getattr(inputs, "dataset", output)):
        assert json.dumps(value) in text
    for step in stored["Steps"]:
        for action in step.get("Arguments", {}).get("Actions", []):
            assert action["Properties"]["PipelineName"] == execution.pipeline_name


def test_the_pipeline_name_fills_only_the_fields_built_for_it() -> None:
    """The MLflow experiment defaults to the pipeline's name; a given one is never replaced."""
    from airflow_provider_sm_eval.evaluation.definitions.resolve import Resolved

    resolved = Resolved(
        region="us-east-1",
        partition="aws",
        account_id="123456789012",
        hub_name=PUBLIC_HUB,
        base_model_name=MODEL,
        base_model_arn="arn:aws:sagemaker:us-east-1:aws:hub-content/SageMakerPublicHub/Model/m/1.0.0",
        source_model_package_arn=PACKAGE,
        model_package_group_arn="arn:aws:sagemaker:us-east-1:123456789012:model-package-group/g",
        dataset_artifact_arn="arn:aws:sagemaker:us-east-1:123456789012:artifact/a",
        mlflow_resource_arn="arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-1",
    )
    from airflow_provider_sm_eval.evaluation.definitions.parts import pipeline_name_fields

    defaulted = benchmark(model=PACKAGE)
    given = benchmark(model=PACKAGE, mlflow_experiment_name="{{ pipeline_name }}")
    assert pipeline_name_fields(defaulted, build(defaulted, resolved)) == (
        ("MlflowConfig", "MlflowExperimentName"),
        ("Steps", 0, "Arguments", "Actions", 0, "Properties", "PipelineName"),
    )
    assert pipeline_name_fields(given, build(given, resolved)) == (
        ("Steps", 0, "Arguments", "Actions", 0, "Properties", "PipelineName"),
    )


@pytest.mark.hostile("start")
@pytest.mark.parametrize(
    "fields",
    [
        [["Steps", 0, "Arguments", "RoleArn", "x"]],
        [["Steps", 9]],
        [["Steps", 0, "Type", 1]],
        [[]],
        ["Steps"],
        "Steps",
        [["Steps", True, "Name"]],
    ],
)
def test_pipeline_name_fields_must_name_string_fields_of_the_definition(fields: Any) -> None:
    definition = {
        "Version": "2020-12-01",
        "Steps": [{"Name": "EvaluateBaseModel", "Type": "Training", "Arguments": {"RoleArn": ROLE}}],
    }
    with pytest.raises(InvalidInputError) as caught:
        StartRequest(
            eval_type="benchmark",
            name="n",
            pipeline_definition=definition,
            pipeline_name_fields=fields,
            role_arn=ROLE,
        )
    assert caught.value.field == "pipeline_name_fields"
