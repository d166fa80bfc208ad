"""What the SageMaker SDK's evaluators look up around a pipeline, served by the emulator (boto3, our venv).

Hub content, model packages with their base model, MLflow apps, lineage, Bedrock's judge models,
IAM policy simulation; the SDK's definitions (``tests/fixtures/sdk_definitions``) run; step
requests are checked against botocore's model as SageMaker checks them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from emulator_harness import NO_RETRIES, ROLE_ARN, Harness, token, wait_for
from test_emulator_wire_shapes import shape_errors

from sagemaker_eval_emulator.catalog import CATALOG_OPERATIONS, ai_registry_hub_name
from sagemaker_eval_emulator.seed import (
    JUDGE_MODELS,
    JUDGE_MODELS_BUCKET,
    JUDGE_MODELS_KEY,
    PUBLIC_HUB,
    HubContentSeed,
    MlflowAppSeed,
    ModelPackageSeed,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sdk_definitions"
MODEL = "meta-textgeneration-llama-3-2-1b-instruct"
ACCOUNT = "123456789012"


def _code(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = info.value.response["Error"]
    return error["Code"], error["Message"]


def _package_arn(region: str, group: str, version: int = 1) -> str:
    return f"arn:aws:sagemaker:{region}:{ACCOUNT}:model-package/{group}/{version}"


# --- hub content ---------------------------------------------------------------------------
def test_describe_hub_content_of_a_seeded_jumpstart_model(harness: Harness) -> None:
    found = harness.sm.describe_hub_content(HubName=PUBLIC_HUB, HubContentType="Model", HubContentName=MODEL)

    region = harness.emu.region
    assert found["HubContentArn"] == (
        f"arn:aws:sagemaker:{region}:aws:hub-content/{PUBLIC_HUB}/Model/{MODEL}/1.0.0"
    )
    assert found["HubArn"] == f"arn:aws:sagemaker:{region}:aws:hub/{PUBLIC_HUB}"
    assert (found["HubContentVersion"], found["HubContentStatus"]) == ("1.0.0", "Available")
    document = json.loads(found["HubContentDocument"])
    recipe = document["RecipeCollection"][0]
    assert (recipe["Type"], recipe["EvaluationType"]) == ("Evaluation", "DeterministicEvaluation")
    bucket, _, key = recipe["SmtjOverrideParamsS3Uri"].removeprefix("s3://").partition("/")
    overrides = json.loads(harness.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert overrides["max_new_tokens"]["default"] == 8192


def test_describe_hub_content_not_found_is_resource_not_found(harness: Harness) -> None:
    with pytest.raises(ClientError) as info:
        harness.sm.describe_hub_content(
            HubName=PUBLIC_HUB, HubContentType="Model", HubContentName="no-such-model"
        )
    assert _code(info) == (
        "ResourceNotFound",
        f"Hub content no-such-model of type Model does not exist in hub {PUBLIC_HUB}.",
    )
    with pytest.raises(ClientError) as info:
        harness.sm.describe_hub_content(
            HubName=PUBLIC_HUB, HubContentType="Model", HubContentName=MODEL, HubContentVersion="9.9.9"
        )
    assert _code(info)[0] == "ResourceNotFound"
    assert "9.9.9" in _code(info)[1]


@pytest.mark.hostile("emulator")
def test_describe_hub_content_of_an_unknown_type_is_refused_by_the_model(harness: Harness) -> None:
    with pytest.raises(ClientError) as info:
        harness.sm.describe_hub_content(HubName=PUBLIC_HUB, HubContentType="Script", HubContentName=MODEL)
    code, message = _code(info)
    assert code == "ValidationException"
    assert "Value 'Script' at 'HubContentType' failed to satisfy constraint" in message


def test_datasets_and_evaluators_are_in_the_accounts_ai_registry_hub(harness: Harness) -> None:
    hub = ai_registry_hub_name(harness.emu.region, ACCOUNT)
    dataset = harness.sm.describe_hub_content(
        HubName=hub, HubContentType="DataSet", HubContentName="gen-qa-sample"
    )
    assert dataset["HubContentArn"].endswith(f":{ACCOUNT}:hub-content/{hub}/DataSet/gen-qa-sample/1.0.0")
    document = json.loads(dataset["HubContentDocument"])
    body = harness.s3.get_object(Bucket=document["DatasetS3Bucket"], Key=document["DatasetS3Prefix"])["Body"]
    assert json.loads(body.read().splitlines()[0])["response"] == "2"
    scorer = harness.sm.describe_hub_content(
        HubName=hub, HubContentType="JsonDoc", HubContentName="exact-match-scorer"
    )
    assert json.loads(scorer["HubContentDocument"])["EvaluatorType"] == "RewardFunction"


def test_added_hub_content_lists_and_pages(harness: Harness) -> None:
    region = harness.emu.region
    for version in ("1.0.0", "1.2.0", "2.0.0"):
        harness.emu.catalog.add_hub_content(
            HubContentSeed(name="my-model", content_type="Model", version=version, document={"v": version}),
            region,
        )
    latest = harness.sm.describe_hub_content(
        HubName=PUBLIC_HUB, HubContentType="Model", HubContentName="my-model"
    )
    assert latest["HubContentVersion"] == "2.0.0"

    first = harness.sm.list_hub_content_versions(
        HubName=PUBLIC_HUB, HubContentType="Model", HubContentName="my-model", MaxResults=2
    )
    rest = harness.sm.list_hub_content_versions(
        HubName=PUBLIC_HUB,
        HubContentType="Model",
        HubContentName="my-model",
        MaxResults=2,
        NextToken=first["NextToken"],
    )
    versions = [s["HubContentVersion"] for s in first["HubContentSummaries"] + rest["HubContentSummaries"]]
    assert versions == ["1.0.0", "1.2.0", "2.0.0"]
    assert "NextToken" not in rest
    names = [
        s["HubContentName"]
        for s in harness.sm.list_hub_contents(HubName=PUBLIC_HUB, HubContentType="Model", MaxResults=100)[
            "HubContentSummaries"
        ]
    ]
    assert MODEL in names
    assert names.count("my-model") == 1  # one summary per content: its latest version


# --- model packages ------------------------------------------------------------------------
def test_describe_model_package_carries_its_base_model(harness: Harness) -> None:
    arn = _package_arn(harness.emu.region, "llama-3-2-1b-finetuned")

    package = harness.sm.describe_model_package(ModelPackageName=arn)

    assert package["ModelPackageArn"] == arn
    assert package["ModelPackageGroupName"] == "llama-3-2-1b-finetuned"
    container = package["InferenceSpecification"]["Containers"][0]
    assert container["BaseModel"] == {"HubContentName": MODEL, "HubContentVersion": "1.0.0"}


def test_model_packages_added_in_process_and_one_without_base_model(harness: Harness) -> None:
    region = harness.emu.region
    arn = harness.emu.catalog.add_model_package(
        ModelPackageSeed(group="tuned", version=3, base_model="huggingface-llm-qwen2-5-7b-instruct"), region
    )
    assert arn == _package_arn(region, "tuned", 3)
    container = harness.sm.describe_model_package(ModelPackageName=arn)["InferenceSpecification"][
        "Containers"
    ][0]
    assert container["BaseModel"]["HubContentName"] == "huggingface-llm-qwen2-5-7b-instruct"

    bare = harness.sm.describe_model_package(ModelPackageName=_package_arn(region, "no-base-model"))
    assert "BaseModel" not in bare["InferenceSpecification"]["Containers"][0]


def test_describe_model_package_not_found(harness: Harness) -> None:
    missing = _package_arn(harness.emu.region, "missing", 7)
    with pytest.raises(ClientError) as info:
        harness.sm.describe_model_package(ModelPackageName=missing)
    assert _code(info) == ("ValidationException", f"Model package {missing} not found")


# --- MLflow apps ---------------------------------------------------------------------------
def test_list_mlflow_apps_pages_and_apps_can_be_created_and_deleted(harness: Harness) -> None:
    region = harness.emu.region
    for index in range(3):
        harness.emu.catalog.add_mlflow_app(
            MlflowAppSeed(name=f"app-{index}", app_id=f"app-test{index}"), region
        )

    first = harness.sm.list_mlflow_apps(MaxResults=3, SortBy="Name", SortOrder="Ascending")
    rest = harness.sm.list_mlflow_apps(
        MaxResults=3, SortBy="Name", SortOrder="Ascending", NextToken=first["NextToken"]
    )
    names = [a["Name"] for a in first["Summaries"] + rest["Summaries"]]
    assert names == ["app-0", "app-1", "app-2", "default-mlflow-app"]
    assert "NextToken" not in rest

    created = harness.sm.create_mlflow_app(
        Name="mine", ArtifactStoreUri="s3://bucket/mlflow", RoleArn=ROLE_ARN
    )["Arn"]
    described = harness.sm.describe_mlflow_app(Arn=created)
    assert (described["Name"], described["Status"], described["ArtifactStoreUri"]) == (
        "mine",
        "Created",
        "s3://bucket/mlflow",
    )
    harness.sm.delete_mlflow_app(Arn=created)
    with pytest.raises(ClientError) as info:
        harness.sm.describe_mlflow_app(Arn=created)
    assert _code(info)[0] == "ResourceNotFound"


# --- lineage -------------------------------------------------------------------------------
def test_lineage_calls(harness: Harness) -> None:
    sm = harness.sm
    source = f"arn:aws:sagemaker:{harness.emu.region}:aws:hub-content/{PUBLIC_HUB}/Model/{MODEL}/1.0.0"
    artifact = sm.create_artifact(
        ArtifactType="Model", Source={"SourceUri": source}, Properties={"HubContentArn": source}
    )["ArtifactArn"]
    assert [a["ArtifactArn"] for a in sm.list_artifacts(SourceUri=source)["ArtifactSummaries"]] == [artifact]
    assert sm.list_artifacts(SourceUri="s3://elsewhere")["ArtifactSummaries"] == []
    assert sm.describe_artifact(ArtifactArn=artifact)["Properties"] == {"HubContentArn": source}

    action = sm.create_action(ActionName="exec1", ActionType="Evaluation", Source={"SourceUri": source})[
        "ActionArn"
    ]
    context = sm.create_context(
        ContextName="exec1", ContextType="PipelineExecution", Source={"SourceUri": "arn:x"}
    )["ContextArn"]
    assert action.endswith(":action/exec1")
    assert sm.describe_action(ActionName="exec1")["ActionType"] == "Evaluation"
    assert sm.describe_context(ContextName="exec1")["ContextArn"] == context
    assert [
        c["ContextName"] for c in sm.list_contexts(ContextType="PipelineExecution")["ContextSummaries"]
    ] == ["exec1"]
    with pytest.raises(ClientError) as info:
        sm.create_action(ActionName="exec1", ActionType="Evaluation", Source={"SourceUri": source})
    assert _code(info)[0] == "ValidationException"

    sm.add_association(SourceArn=action, DestinationArn=context, AssociationType="ContributedTo")
    sm.add_association(SourceArn=artifact, DestinationArn=action, AssociationType="ContributedTo")
    found = sm.list_associations(DestinationArn=action)["AssociationSummaries"]
    assert [(a["SourceArn"], a["AssociationType"]) for a in found] == [(artifact, "ContributedTo")]


@pytest.mark.hostile("emulator")
def test_an_association_with_a_missing_end_is_not_found(harness: Harness) -> None:
    context = harness.sm.create_context(ContextName="c1", ContextType="T", Source={"SourceUri": "u"})[
        "ContextArn"
    ]
    ghost = context.replace("context/c1", "action/ghost")
    with pytest.raises(ClientError) as info:
        harness.sm.add_association(SourceArn=ghost, DestinationArn=context)
    assert _code(info) == ("ResourceNotFound", f"Action '{ghost}' does not exist.")


# --- outside SageMaker ---------------------------------------------------------------------
def test_judge_models_list_and_bedrock_foundation_models(harness: Harness) -> None:
    region = harness.emu.region
    listed = json.loads(
        harness.s3.get_object(Bucket=JUDGE_MODELS_BUCKET.format(region=region), Key=JUDGE_MODELS_KEY)[
            "Body"
        ].read()
    )
    assert [m["model_id"] for m in listed["supported_judge_models"]] == list(JUDGE_MODELS)

    bedrock = harness.emu.client("bedrock", config=NO_RETRIES)
    details = bedrock.get_foundation_model(modelIdentifier=JUDGE_MODELS[0])["modelDetails"]
    assert details["modelId"] == JUDGE_MODELS[0]
    assert details["modelLifecycle"] == {"status": "ACTIVE"}
    with pytest.raises(ClientError) as info:
        bedrock.get_foundation_model(modelIdentifier="amazon.no-such-model-v1:0")
    assert _code(info)[0] == "ResourceNotFoundException"


def test_iam_policy_simulation_allows_every_action(harness: Harness) -> None:
    iam = harness.emu.client("iam", config=NO_RETRIES)
    results = iam.simulate_principal_policy(
        PolicySourceArn=ROLE_ARN, ActionNames=["sagemaker:CreatePipeline", "s3:GetObject"]
    )["EvaluationResults"]
    assert [(r["EvalActionName"], r["EvalDecision"]) for r in results] == [
        ("sagemaker:CreatePipeline", "allowed"),
        ("s3:GetObject", "allowed"),
    ]


# --- every catalog response in the model's shapes ------------------------------------------
def test_catalog_responses_match_the_model(harness: Harness) -> None:
    sm = harness.emu.client("sagemaker", config=NO_RETRIES)
    captured: list[tuple[Any, Any]] = []
    sm.meta.events.register(
        "after-call.sagemaker", lambda parsed, model, **_: captured.append((model, parsed))
    )
    region = harness.emu.region
    hub = {"HubName": PUBLIC_HUB, "HubContentType": "Model"}
    sm.describe_hub(HubName=PUBLIC_HUB)
    sm.describe_hub_content(**hub, HubContentName=MODEL)
    sm.list_hub_contents(**hub)
    sm.list_hub_content_versions(**hub, HubContentName=MODEL)
    sm.describe_model_package(ModelPackageName=_package_arn(region, "llama-3-2-1b-finetuned"))
    apps = sm.list_mlflow_apps()["Summaries"]
    sm.describe_mlflow_app(Arn=apps[0]["Arn"])
    created = sm.create_mlflow_app(Name="shapes", ArtifactStoreUri="s3://b/m", RoleArn=ROLE_ARN)["Arn"]
    sm.delete_mlflow_app(Arn=created)
    context = sm.create_context(ContextName="c", ContextType="T", Source={"SourceUri": "u"})["ContextArn"]
    sm.describe_context(ContextName="c")
    sm.list_contexts()
    action = sm.create_action(ActionName="a", ActionType="T", Source={"SourceUri": "u"}, Status="Completed")[
        "ActionArn"
    ]
    sm.describe_action(ActionName="a")
    sm.list_actions()
    artifact = sm.create_artifact(ArtifactName="r", ArtifactType="T", Source={"SourceUri": "u"})[
        "ArtifactArn"
    ]
    sm.describe_artifact(ArtifactArn=artifact)
    sm.list_artifacts()
    sm.add_association(SourceArn=artifact, DestinationArn=action)
    sm.add_association(SourceArn=action, DestinationArn=context, AssociationType="ContributedTo")
    sm.list_associations()

    assert {model.name for model, _ in captured} == set(CATALOG_OPERATIONS)
    errors = [
        f"{model.name}{e}" for model, parsed in captured for e in shape_errors(model.output_shape, parsed)
    ]
    assert errors == []


# --- the SDK's definitions run; their step requests are checked ----------------------------
def _fixture(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / f"{name}.json").read_text()))


def _run_fixture(harness: Harness, name: str, replace: dict[str, str] | None = None) -> tuple[str, str]:
    """Create the fixture's pipeline (its model artifact made first, as the SDK does) and start it."""
    fixture = _fixture(name)
    text = json.dumps(fixture["definition"])
    resolved = fixture["resolved"]
    artifact = harness.sm.create_artifact(
        ArtifactType="Model", Source={"SourceUri": resolved["model_artifact_source_uri"]}
    )["ArtifactArn"]
    text = text.replace(resolved["model_artifact_arn"], artifact)
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    bucket = fixture["inputs"]["s3_output_path"].removeprefix("s3://").partition("/")[0]
    harness.s3.create_bucket(Bucket=bucket)
    harness.sm.create_pipeline(
        PipelineName=fixture["pipeline_name"],
        PipelineDefinition=text,
        RoleArn=ROLE_ARN,
        ClientRequestToken=token(),
    )
    arn = harness.sm.start_pipeline_execution(
        PipelineName=fixture["pipeline_name"], ClientRequestToken=token()
    )["PipelineExecutionArn"]
    return arn, bucket


@pytest.mark.parametrize(
    ("name", "result_steps"),
    [
        ("benchmark_model_package_with_base", {"EvaluateBaseModel", "EvaluateCustomModel"}),
        ("custom_scorer_model_package", {"EvaluateCustomModel"}),
        ("llmaj_model_package_with_base", {"EvaluateBaseModelMetrics", "EvaluateCustomModelMetrics"}),
    ],
)
def test_the_sdks_definitions_run_with_lineage_and_results(
    harness: Harness, name: str, result_steps: set[str]
) -> None:
    arn, bucket = _run_fixture(harness, name)

    assert harness.wait_terminal(arn)["PipelineExecutionStatus"] == "Succeeded"
    steps = harness.steps(arn)
    assert {"CreateEvaluationAction", "AssociateLineage"} <= steps.keys()
    execution_id = arn.rpartition("/")[2]
    assert harness.sm.describe_action(ActionName=execution_id)["Source"]["SourceType"] == "ModelPackage"
    assert harness.sm.describe_context(ContextName=execution_id)["ContextType"] == "PipelineExecution"
    reports = [
        a["ArtifactName"]
        for a in harness.sm.list_artifacts(ArtifactType="EvaluationReport")["ArtifactSummaries"]
    ]
    assert any(r.startswith(execution_id) for r in reports)
    keys = [o["Key"] for o in harness.s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    for step in result_steps:
        job = steps[step]["Metadata"]["TrainingJob"]["Arn"].rpartition("/")[2]
        assert any(job in key for key in keys), f"no result files of {step} ({job}) in {keys}"


@pytest.mark.hostile("emulator")
def test_a_malformed_serverless_job_config_fails_the_step_as_create_training_job_would(
    harness: Harness,
) -> None:
    arn, _ = _run_fixture(harness, "benchmark_base", {'"JobType": "Evaluation"': '"JobType": "Inference"'})

    described = harness.wait_terminal(arn)
    assert described["PipelineExecutionStatus"] == "Failed"
    step = harness.steps(arn)["EvaluateBaseModel"]
    assert step["StepStatus"] == "Failed"
    assert step["FailureReason"].startswith(
        "ClientError: ValidationException: 1 validation error detected: Value 'Inference' at "
        "'ServerlessJobConfig.JobType' failed to satisfy constraint: Member must satisfy enum value set"
    )
    assert "TrainingJob" not in step["Metadata"]  # the job was never created


@pytest.mark.hostile("emulator")
def test_the_sdks_mlflow_off_definition_fails_its_first_job_on_the_mlflow_arn_pattern(
    harness: Harness,
) -> None:
    arn, _ = _run_fixture(harness, "benchmark_mlflow_off")

    assert harness.wait_terminal(arn)["PipelineExecutionStatus"] == "Failed"
    reason = harness.steps(arn)["EvaluateBaseModel"]["FailureReason"]
    assert "Value 'None' at 'MlflowConfig.MlflowResourceArn' failed to satisfy constraint" in reason


@pytest.mark.hostile("emulator")
def test_a_definition_whose_mlflow_config_is_not_an_object_is_refused_at_create(harness: Harness) -> None:
    definition = _fixture("benchmark_base")["definition"]
    definition["MlflowConfig"] = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-x"
    with pytest.raises(ClientError) as info:
        harness.sm.create_pipeline(
            PipelineName="bad-mlflow",
            PipelineDefinition=json.dumps(definition),
            RoleArn=ROLE_ARN,
            ClientRequestToken=token(),
        )
    assert _code(info) == (
        "ValidationException",
        "Invalid pipeline definition: 'MlflowConfig' must be an object",
    )


@pytest.mark.hostile("emulator")
def test_a_lineage_step_whose_association_names_no_entity_fails(harness: Harness) -> None:
    arn, _ = _run_fixture(harness, "benchmark_model_package", {'"Type": "Context"': '"Type": "Artifact"'})

    assert harness.wait_terminal(arn)["PipelineExecutionStatus"] == "Failed"
    reason = harness.steps(arn)["CreateEvaluationAction"]["FailureReason"]
    assert reason.startswith("ClientError: ResourceNotFound: Artifact ")
    wait_for(lambda: harness.status(arn) == "Failed", what="the failed execution")


def test_the_judge_scores_the_metrics_its_step_asks_for(harness: Harness) -> None:
    arn, bucket = _run_fixture(
        harness, "llmaj_model_package_with_base"
    )  # ["Correctness", "Builtin.Faithfulness"]

    assert harness.wait_terminal(arn)["PipelineExecutionStatus"] == "Succeeded"
    keys = [o["Key"] for o in harness.s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    aggregates = [k for k in keys if k.endswith("bedrock_llm_judge_results.json")]
    assert len(aggregates) == 2
    for key in aggregates:
        results = json.loads(harness.s3.get_object(Bucket=bucket, Key=key)["Body"].read())["results"]
        assert list(results) == ["Builtin.Correctness", "Builtin.Faithfulness"]
