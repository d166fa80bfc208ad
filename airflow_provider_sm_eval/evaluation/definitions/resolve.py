"""What the SageMaker SDK looks up before it builds an evaluation definition, over boto3.

:func:`resolve` reads first (the model's hub content or model package, the model package group,
the dataset, the hub's inference defaults, the MLflow app) and writes last (the lineage artifact
when none exists, the custom metrics file), so that every refusal comes before any ``Create*``
or ``Put*`` call. A lookup that finds nothing raises :class:`~..exceptions.InvalidInputError`
naming the argument and what was not found; any other AWS error is raised as
:class:`~..exceptions.EvaluationAWSError`. The optional MLflow app lookup, as in the SDK, only
warns when it fails (MLflow is then off).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from airflow_provider_sm_eval.evaluation.arns import partition_of_region
from airflow_provider_sm_eval.evaluation.clients import AwsClients, aws_errors
from airflow_provider_sm_eval.evaluation.constants import INFERENCE_HYPERPARAMETERS
from airflow_provider_sm_eval.evaluation.definitions.catalog import check_benchmark_for_model, is_nova_model
from airflow_provider_sm_eval.evaluation.definitions.inputs import (
    BenchmarkEvaluation,
    CustomScorerEvaluation,
    EvaluatorInputs,
    LLMAsJudgeEvaluation,
    parse_hub_content_arn,
    parse_model_package_arn,
)
from airflow_provider_sm_eval.evaluation.exceptions import EvaluationAWSError, InvalidInputError
from airflow_provider_sm_eval.evaluation.request import check_role_partition
from airflow_provider_sm_eval.evaluation.s3_layout import S3Uri, parse_s3_uri

log = logging.getLogger(__name__)

PUBLIC_HUB = "SageMakerPublicHub"
#: Environment variable naming the hub searched first (the SDK's; falls back to the public hub).
HUB_NAME_ENV = "SAGEMAKER_HUB_NAME"
#: The judge's inference hyperparameters: fixed in the SDK, overridable here.
JUDGE_HYPERPARAMETERS = {"max_new_tokens": "8192", "temperature": "0", "top_k": "-1", "top_p": "1.0"}
_NOT_FOUND_CODES = frozenset({"ResourceNotFound", "ResourceNotFoundException", "ValidationException"})
_MLFLOW_UNUSABLE = frozenset({"Failed", "CreateFailed", "DeleteFailed", "Stopped"})
_MLFLOW_READY = frozenset({"Created", "Updated"})
#: ``upload_key``: one S3 key segment.
_UPLOAD_KEY = re.compile(r"^[A-Za-z0-9._=-]{1,200}$")
CUSTOM_METRICS_FILE = "custom-metrics.json"
#: Where the region's list of judge models is (the SDK reads it to check ``evaluator_model``).
JUDGE_MODELS_BUCKET = "jumpstart-cache-prod-{region}"
JUDGE_MODELS_KEY = "fmhMetadata/supported-llmaj-judge-models.json"


@dataclass(frozen=True)
class Resolved:
    """Everything looked up for one definition.

    ``dataset_artifact_arn`` is the lineage artifact the SDK's templates call so: the artifact of
    the evaluated model package (looked up, or created when missing). It is None for a JumpStart
    model, whose definition has no lineage steps. ``mlflow_resource_arn`` None means MLflow is off.
    ``hyperparameters`` are the inference hyperparameters the jobs get (hub defaults, then the
    inputs' overrides), as strings.
    """

    region: str
    partition: str
    account_id: str
    hub_name: str
    base_model_name: str
    base_model_arn: str
    source_model_package_arn: str | None = None
    model_package_group_arn: str | None = None
    dataset_artifact_arn: str | None = None
    mlflow_resource_arn: str | None = None
    hyperparameters: dict[str, str] = field(default_factory=dict)
    custom_metrics_s3_uri: str | None = None

    @property
    def action_arn_prefix(self) -> str:
        """The lineage action ARN prefix the execution's action gets (its id is appended)."""
        return f"arn:{self.partition}:sagemaker:{self.region}:{self.account_id}:action"

    @property
    def is_nova(self) -> bool:
        return is_nova_model(self.base_model_name)


@dataclass
class _Calls:
    """The AWS calls one resolution made."""

    count: int = 0

    @contextmanager
    def call(self, operation: str, resource: str) -> Iterator[None]:
        self.count += 1
        with aws_errors(operation, resource):
            yield

    @contextmanager
    def must_exist(self, operation: str, resource: str, argument: str, what: str) -> Iterator[None]:
        """:meth:`call`, where AWS's not-found answer is the user's error: it names ``argument``."""
        try:
            with self.call(operation, resource):
                yield
        except EvaluationAWSError as error:
            if _is_not_found(error):
                raise InvalidInputError(argument, f"{what} was not found: {error.message}") from None
            raise


def resolve(
    inputs: EvaluatorInputs, clients: AwsClients, *, upload_key: str, hub_name: str | None = None
) -> Resolved:
    """Look up what ``inputs`` need; see the module docstring for the order and the errors.

    ``upload_key`` names the folder of uploaded inputs (``{s3_output_path}/evaluationinputs/
    {upload_key}/``): give the same key on every retry of one try so a retry overwrites its own
    upload. ``hub_name`` defaults to ``$SAGEMAKER_HUB_NAME``, else the public hub.
    """
    return resolve_counted(inputs, clients, upload_key=upload_key, hub_name=hub_name)[0]


def resolve_counted(
    inputs: EvaluatorInputs, clients: AwsClients, *, upload_key: str, hub_name: str | None = None
) -> tuple[Resolved, int]:
    """:func:`resolve` and the number of AWS calls it made."""
    if not isinstance(upload_key, str) or not _UPLOAD_KEY.match(upload_key):
        raise InvalidInputError(
            "upload_key", f"upload_key {upload_key!r} must be 1-200 letters, digits or . _ = -"
        )
    calls = _Calls()
    sagemaker = clients.sagemaker
    region = sagemaker.meta.region_name
    check_role_partition(inputs.role_arn, region)
    partition = partition_of_region(region) or inputs.role_arn.split(":")[1]
    hub = hub_name or os.environ.get(HUB_NAME_ENV) or PUBLIC_HUB
    # Reads: every refusal happens here, before any write.
    if inputs.is_model_package:
        model = _model_package(inputs, clients, calls, hub, partition)
    else:
        model = _jumpstart_model(inputs.model, clients, calls, hub)
    _check_model_family(inputs, model.base_model_name)
    group_arn = _model_package_group(inputs, clients, calls, partition, region)
    _check_dataset(inputs, clients, calls)
    if isinstance(inputs, LLMAsJudgeEvaluation):
        _check_judge_model(inputs, region, clients, calls)
    hyperparameters = _hyperparameters(inputs, model, clients, calls, hub)
    mlflow_arn = inputs.mlflow_resource_arn or _default_mlflow_app(clients, calls)
    # Writes.
    artifact_arn = None
    if model.source_model_package_arn is not None:
        artifact_arn = _model_artifact(model.source_model_package_arn, clients, calls)
    custom_metrics_uri = None
    if isinstance(inputs, LLMAsJudgeEvaluation) and inputs.custom_metrics is not None:
        custom_metrics_uri = _upload_custom_metrics(inputs, inputs.custom_metrics, upload_key, clients, calls)
    resolved = Resolved(
        region=region,
        partition=partition,
        account_id=inputs.role_arn.split(":")[4],
        hub_name=model.hub_name,
        base_model_name=model.base_model_name,
        base_model_arn=model.base_model_arn,
        source_model_package_arn=model.source_model_package_arn,
        model_package_group_arn=group_arn,
        dataset_artifact_arn=artifact_arn,
        mlflow_resource_arn=mlflow_arn,
        hyperparameters=hyperparameters,
        custom_metrics_s3_uri=custom_metrics_uri,
    )
    return resolved, calls.count


@dataclass(frozen=True)
class _Model:
    base_model_name: str
    base_model_arn: str
    hub_name: str
    source_model_package_arn: str | None = None
    #: The base model's ``HubContentDocument`` when it was described already (JumpStart models).
    hub_document: Any = None


def _is_not_found(error: EvaluationAWSError) -> bool:
    return (
        error.code in _NOT_FOUND_CODES
        or "not found" in error.message.lower()
        or ("does not exist" in error.message.lower())
    )


def _describe_hub_model(
    name: str, clients: AwsClients, calls: _Calls, hub: str, version: str | None = None
) -> tuple[dict[str, Any], str] | None:
    """DescribeHubContent of model ``name`` in ``hub``, then in the public hub; None when in neither."""
    for hub_name in dict.fromkeys((hub, PUBLIC_HUB)):
        arguments: dict[str, Any] = {"HubName": hub_name, "HubContentType": "Model", "HubContentName": name}
        if version is not None:
            arguments["HubContentVersion"] = version
        try:
            with calls.call("DescribeHubContent", f"{hub_name}/Model/{name}"):
                return dict(clients.sagemaker.describe_hub_content(**arguments)), hub_name
        except EvaluationAWSError as error:
            if not _is_not_found(error):
                raise
            log.info("Model %s is not in hub %s: %s", name, hub_name, error.message)
    return None


def _jumpstart_model(model_id: str, clients: AwsClients, calls: _Calls, hub: str) -> _Model:
    found = _describe_hub_model(model_id, clients, calls, hub)
    if found is None:
        hubs = " or ".join(dict.fromkeys((hub, PUBLIC_HUB)))
        raise InvalidInputError("model", f"model {model_id!r} is in no hub: no Model hub content in {hubs}")
    described, hub_name = found
    return _Model(
        model_id, str(described["HubContentArn"]), hub_name, None, described.get("HubContentDocument")
    )


def _model_package(
    inputs: EvaluatorInputs, clients: AwsClients, calls: _Calls, hub: str, partition: str
) -> _Model:
    """The base model a fine-tuned model package names (its first container's ``BaseModel``)."""
    arn = inputs.model
    parts = parse_model_package_arn(arn)
    assert parts is not None  # validated by the inputs
    region = clients.sagemaker.meta.region_name
    if parts["region"] != region:
        raise InvalidInputError(
            "model", f"model package {arn!r} is in region {parts['region']}; the evaluation runs in {region}"
        )
    with calls.must_exist("DescribeModelPackage", arn, "model", f"model package {arn!r}"):
        described = clients.sagemaker.describe_model_package(ModelPackageName=arn)
    containers = (described.get("InferenceSpecification") or {}).get("Containers") or []
    base = (containers[0].get("BaseModel") if containers else None) or {}
    name, version = base.get("HubContentName"), base.get("HubContentVersion")
    if not name or not version:
        raise InvalidInputError(
            "model",
            f"model package {arn!r} has no base model (InferenceSpecification.Containers[0].BaseModel "
            "with HubContentName and HubContentVersion): evaluation takes model packages made by "
            "SageMaker's fine-tuning",
        )
    hub_name = PUBLIC_HUB
    if hub != PUBLIC_HUB:  # the SDK's SAGEMAKER_HUB_NAME: used when it holds the base model
        found = _describe_hub_model(name, clients, calls, hub, version)
        hub_name = found[1] if found else PUBLIC_HUB
    owner = "aws" if hub_name == PUBLIC_HUB else parts["account"]
    base_arn = (
        f"arn:{partition}:sagemaker:{parts['region']}:{owner}:hub-content/{hub_name}/Model/{name}/{version}"
    )
    return _Model(str(name), base_arn, hub_name, str(described.get("ModelPackageArn") or arn))


def _check_model_family(inputs: EvaluatorInputs, base_model_name: str) -> None:
    if isinstance(inputs, BenchmarkEvaluation):
        check_benchmark_for_model(inputs.entry, base_model_name)
    if isinstance(inputs, LLMAsJudgeEvaluation) and is_nova_model(base_model_name):
        raise InvalidInputError(
            "model",
            f"model {inputs.model!r} is based on Amazon Nova model {base_model_name!r}; the SDK judges "
            "those through its InspectAI path, which is not supported here",
        )


def _model_package_group(
    inputs: EvaluatorInputs, clients: AwsClients, calls: _Calls, partition: str, region: str
) -> str | None:
    """The given group (a name is looked up), else the evaluated model package's own group."""
    given = inputs.model_package_group
    if given is not None and given.startswith("arn:"):
        return given
    if given is not None:
        with calls.must_exist(
            "DescribeModelPackageGroup", given, "model_package_group", f"model package group {given!r}"
        ):
            described = clients.sagemaker.describe_model_package_group(ModelPackageGroupName=given)
        return str(described["ModelPackageGroupArn"])
    parts = parse_model_package_arn(inputs.model) if inputs.is_model_package else None
    if parts is None:
        return None
    return (
        f"arn:{partition}:sagemaker:{parts['region']}:{parts['account']}:model-package-group/{parts['name']}"
    )


def _check_dataset(inputs: EvaluatorInputs, clients: AwsClients, calls: _Calls) -> None:
    """The dataset exists: an S3 prefix with an object, or a described hub DataSet (as the SDK checks)."""
    dataset = getattr(inputs, "dataset", None)
    if dataset is None:
        return
    hub_arn = parse_hub_content_arn(dataset)
    if hub_arn is not None:
        with calls.must_exist("DescribeHubContent", dataset, "dataset", f"dataset {dataset!r}"):
            clients.sagemaker.describe_hub_content(
                HubName=hub_arn["hub"],
                HubContentType="DataSet",
                HubContentName=hub_arn["name"],
                HubContentVersion=hub_arn["version"],
            )
        return
    uri = parse_s3_uri(dataset, name="dataset")
    with calls.call("ListObjectsV2", dataset):
        listed = clients.s3.list_objects_v2(Bucket=uri.bucket, Prefix=uri.key, MaxKeys=1)
    if not listed.get("KeyCount"):
        raise InvalidInputError("dataset", f"dataset {dataset!r} was not found: no S3 object under it")


def _evaluation_type(inputs: EvaluatorInputs, base_model_name: str) -> str | None:
    """The hub recipe whose defaults the SDK uses (``EvaluationType`` of its evaluation recipe)."""
    if isinstance(inputs, BenchmarkEvaluation) and is_nova_model(base_model_name):
        return (
            "DeterministicMultiModalBenchmark" if inputs.benchmark == "mmmu" else "DeterministicTextBenchmark"
        )
    if isinstance(inputs, (BenchmarkEvaluation, CustomScorerEvaluation)):
        return "DeterministicEvaluation"
    return None


def _hyperparameters(
    inputs: EvaluatorInputs, model: _Model, clients: AwsClients, calls: _Calls, hub: str
) -> dict[str, str]:
    """Hub recipe defaults (the judge's fixed values), then the inputs' overrides, which must fit
    the recipe's specification (type, min, max, enum) as the SDK's ``hyperparameters`` check."""
    overrides = inputs.hyperparameter_overrides()
    base_model_name = model.base_model_name
    evaluation_type = _evaluation_type(inputs, base_model_name)
    if evaluation_type is None:
        for name in overrides:
            if name not in JUDGE_HYPERPARAMETERS:
                raise InvalidInputError(
                    name, f"{name}: the judge's jobs take only {', '.join(JUDGE_HYPERPARAMETERS)}"
                )
        return {**JUDGE_HYPERPARAMETERS, **overrides}
    specs = _hub_specs(model, evaluation_type, clients, calls, hub)
    if specs is None:
        return overrides
    for name in overrides:
        _check_against_spec(name, getattr(inputs, name), specs, base_model_name)
    defaults = {
        name: str(specs[name]["default"])
        for name in INFERENCE_HYPERPARAMETERS
        if isinstance(specs.get(name), dict) and specs[name].get("default") is not None
    }
    return {**defaults, **overrides}


def _check_against_spec(name: str, value: Any, specs: dict[str, Any], model_name: str) -> None:
    spec = specs.get(name)
    if not isinstance(spec, dict):
        known = ", ".join(n for n in INFERENCE_HYPERPARAMETERS if isinstance(specs.get(n), dict))
        raise InvalidInputError(
            name, f"{name}: the evaluation recipe of {model_name!r} does not take it (it takes: {known})"
        )
    kind = spec.get("type")
    if (kind == "integer" and not isinstance(value, int)) or (
        kind == "string" and not isinstance(value, str)
    ):
        raise InvalidInputError(name, f"{name} must be of type {kind} for {model_name!r}, got {value!r}")
    if ("min" in spec and value < spec["min"]) or ("max" in spec and value > spec["max"]):
        raise InvalidInputError(
            name,
            f"{name} {value!r} is out of range for {model_name!r} ({spec.get('min')} to {spec.get('max')})",
        )
    if "enum" in spec and value not in spec["enum"]:
        raise InvalidInputError(name, f"{name} {value!r} is not one of {spec['enum']} for {model_name!r}")


def _hub_specs(
    model: _Model, evaluation_type: str, clients: AwsClients, calls: _Calls, hub: str
) -> dict[str, Any] | None:
    """The override specification of the model's evaluation recipe (``SmtjOverrideParamsS3Uri``);
    None, with a warning, when the model has no such recipe (the SDK then sends no defaults)."""
    model_name = model.base_model_name
    document = model.hub_document
    if document is None:
        found = _describe_hub_model(model_name, clients, calls, hub)
        document = found[0].get("HubContentDocument") if found else None
    try:
        document = json.loads(document) if isinstance(document, str) else document or {}
    except json.JSONDecodeError:
        document = {}
    recipe = next(
        (
            r
            for r in document.get("RecipeCollection") or []
            if isinstance(r, dict)
            and r.get("Type") == "Evaluation"
            and r.get("EvaluationType") == evaluation_type
        ),
        None,
    )
    uri = (recipe or {}).get("SmtjOverrideParamsS3Uri")
    if not uri:
        log.warning(
            "Model %s has no %s evaluation recipe with override parameters: no inference defaults",
            model_name,
            evaluation_type,
        )
        return None
    location = parse_s3_uri(uri, name=f"SmtjOverrideParamsS3Uri of {model_name}")
    with calls.call("GetObject", uri):
        body = clients.s3.get_object(Bucket=location.bucket, Key=location.key)["Body"].read()
    specs = json.loads(body)
    return specs if isinstance(specs, dict) else None


def _check_judge_model(inputs: LLMAsJudgeEvaluation, region: str, clients: AwsClients, calls: _Calls) -> None:
    """``evaluator_model`` is in the region's list of judge models, when that list can be read
    (as the SDK checks; a list that cannot be read only warns)."""
    bucket, key = JUDGE_MODELS_BUCKET.format(region=region), JUDGE_MODELS_KEY
    try:
        with calls.call("GetObject", f"s3://{bucket}/{key}"):
            document = json.loads(clients.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        models = {
            e["model_id"]
            for e in document.get("supported_judge_models", [])
            if isinstance(e, dict) and isinstance(e.get("model_id"), str)
        }
    except (EvaluationAWSError, ValueError, AttributeError) as error:
        log.warning(
            "Could not read the judge models of %s (%s): evaluator_model is not checked", region, error
        )
        return
    if models and inputs.evaluator_model not in models:
        raise InvalidInputError(
            "evaluator_model",
            f"evaluator_model {inputs.evaluator_model!r} is not a judge model in {region}; "
            f"valid: {', '.join(sorted(models))}",
        )


def _default_mlflow_app(clients: AwsClients, calls: _Calls) -> str | None:
    """The account's default MLflow app (else the first ready one); None, with a warning, when
    there is none or the lookup fails. Unlike the SDK, no app is created."""
    try:
        with calls.call("ListMlflowApps", "MLflow apps"):
            apps = [
                app
                for page in clients.sagemaker.get_paginator("list_mlflow_apps").paginate()
                for app in page.get("Summaries", [])
            ]
    except (EvaluationAWSError, AttributeError, ValueError) as error:
        log.warning("Could not list MLflow apps (%s): MLflow tracking is off", error)
        return None
    chosen = next((a for a in apps if a.get("AccountDefaultStatus") == "ENABLED"), None)
    chosen = chosen or next((a for a in apps if a.get("Status") in _MLFLOW_READY), None)
    if chosen is None or chosen.get("Status") in _MLFLOW_UNUSABLE:
        log.warning("No usable MLflow app in the account: MLflow tracking is off")
        return None
    return str(chosen["Arn"])


def _model_artifact(source_uri: str, clients: AwsClients, calls: _Calls) -> str:
    """The lineage artifact of ``source_uri`` (ListArtifacts), created when there is none."""
    sagemaker = clients.sagemaker
    with calls.call("ListArtifacts", source_uri):
        listed = sagemaker.list_artifacts(SourceUri=source_uri).get("ArtifactSummaries", [])
    if listed:
        return str(listed[0]["ArtifactArn"])
    stamp = datetime.now(timezone.utc).strftime("%a %b %d %H:%M:%S UTC %Y")
    with calls.call("CreateArtifact", source_uri):
        created = sagemaker.create_artifact(
            ArtifactType="Model",
            Source={"SourceUri": source_uri, "SourceTypes": [{"SourceIdType": "Custom", "Value": stamp}]},
            Properties={"ModelPackageArn": source_uri},
        )
    return str(created["ArtifactArn"])


def custom_metrics_location(s3_output_path: str, upload_key: str) -> S3Uri:
    """Where the judge's custom metrics are uploaded: ``{s3_output_path}/evaluationinputs/{upload_key}/``."""
    return parse_s3_uri(s3_output_path, name="s3_output_path").join(
        "evaluationinputs", upload_key, CUSTOM_METRICS_FILE
    )


def _upload_custom_metrics(
    inputs: EvaluatorInputs, text: str, upload_key: str, clients: AwsClients, calls: _Calls
) -> str:
    location = custom_metrics_location(inputs.s3_output_path, upload_key)
    extra: dict[str, str] = {}
    if inputs.kms_key_id is not None:
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": inputs.kms_key_id}
    with calls.call("PutObject", str(location)):
        clients.s3.put_object(Bucket=location.bucket, Key=location.key, Body=text.encode(), **extra)  # type: ignore[arg-type]
    return str(location)
