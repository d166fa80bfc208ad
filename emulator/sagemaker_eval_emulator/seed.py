"""What the emulator's catalog holds when it starts (and after a reset): the one place for it.

The SageMaker SDK's evaluators (``sagemaker-train``) look these up before they build a
pipeline: JumpStart models, datasets and evaluators in the public hub ``SageMakerPublicHub``
(``DescribeHubContent``), fine-tuned model packages that name their base model
(``DescribeModelPackage``), the account's MLflow apps (``ListMlflowApps``), and the list of
judge models the LLM-as-judge evaluator accepts, an S3 object of the JumpStart cache bucket.
Tests add more through ``Catalog.add_hub_content`` / ``add_model_package`` / ``add_mlflow_app``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

#: The public hub of JumpStart content (its content ARNs have the account ``aws``).
PUBLIC_HUB = "SageMakerPublicHub"
#: Hub content types (the ``HubContentType`` enum of the SageMaker API) the seed uses.
MODEL, DATASET, JSON_DOC = "Model", "DataSet", "JsonDoc"
#: Where the LLM-as-judge evaluator reads the judge models of a region (bucket, key).
JUDGE_MODELS_BUCKET = "jumpstart-cache-prod-{region}"
JUDGE_MODELS_KEY = "fmhMetadata/supported-llmaj-judge-models.json"


@dataclass(frozen=True)
class HubContentSeed:
    """One version of one hub content; ``document`` is sent as the ``HubContentDocument`` JSON string."""

    name: str
    content_type: str
    version: str
    document: dict[str, Any]
    display_name: str | None = None
    description: str | None = None
    hub_name: str = PUBLIC_HUB
    search_keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelPackageSeed:
    """A fine-tuned model package: ``<group>/<version>``, based on a hub model (None: no base model)."""

    group: str
    version: int
    base_model: str | None
    base_model_version: str = "1.0.0"
    recipe_name: str | None = None
    model_data_url: str | None = None


@dataclass(frozen=True)
class MlflowAppSeed:
    name: str
    app_id: str
    status: str = "Created"
    mlflow_version: str = "3.0"
    account_default: bool = False


@dataclass(frozen=True)
class Seed:
    hub_contents: tuple[HubContentSeed, ...] = ()
    model_packages: tuple[ModelPackageSeed, ...] = ()
    mlflow_apps: tuple[MlflowAppSeed, ...] = ()
    judge_models: tuple[str, ...] = ()
    objects: dict[str, bytes] = field(default_factory=dict)  # "s3://bucket/key" -> body


#: ``{region}`` in a seeded document or object URI is the region of the request.
_CACHE = "s3://jumpstart-cache-prod-{region}"
_ECR = "763104351884.dkr.ecr.{region}.amazonaws.com"


def _override_params_uri(name: str) -> str:
    return f"{_CACHE}/recipes/{name}/evaluation/deterministic-override-params.json"


#: The inference settings an evaluation recipe lets users override, with the defaults the SDK
#: documents for Llama 3.2 1B (``recipe_utils._get_evaluation_override_params``).
EVAL_OVERRIDE_PARAMS: dict[str, Any] = {
    "max_new_tokens": {"default": 8192, "type": "integer", "min": 1, "max": 16384, "required": False},
    "temperature": {"default": 0, "type": "float", "min": 0, "max": 2, "required": False},
    "top_k": {"default": -1, "type": "integer", "min": -1, "max": 1000, "required": False},
    "top_p": {"default": 1.0, "type": "float", "min": 0, "max": 1, "required": False},
}


def _model(name: str, version: str, display: str, hf_id: str) -> HubContentSeed:
    """A JumpStart text-generation model, with the document fields the SDK reads.

    ``RecipeCollection`` holds one ``Evaluation`` recipe of ``EvaluationType``
    ``DeterministicEvaluation`` whose ``SmtjOverrideParamsS3Uri`` names the override spec the
    SDK downloads for the evaluators' ``hyperparameters`` (seeded in ``objects``).
    """
    return HubContentSeed(
        name=name,
        content_type=MODEL,
        version=version,
        display_name=display,
        description=f"{display} (JumpStart, seeded by the local emulator)",
        search_keywords=("@capability:fine_tuning", "@capability:evaluation"),
        document={
            "Url": f"https://huggingface.co/{hf_id}",
            "HuggingfaceId": hf_id,
            "MinSdkVersion": "2.225.0",
            "TrainingSupported": True,
            "IncrementalTrainingSupported": False,
            "HostingEcrUri": f"{_ECR}/djl-inference:0.31.0-lmi13.0.0-cu124",
            "HostingArtifactUri": f"{_CACHE}/{name}/artifacts/inference-prepack/v1.0.0/",
            "DefaultPayloads": {},
            "GatedBucket": False,
            "RecipeCollection": [
                {
                    "Name": f"{name}-evaluation-deterministic",
                    "Type": "Evaluation",
                    "EvaluationType": "DeterministicEvaluation",
                    "SmtjOverrideParamsS3Uri": _override_params_uri(name),
                }
            ],
        },
    )


#: Text-generation models of the public hub (the SDK's examples use the first).
JUMPSTART_MODELS = (
    _model(
        "meta-textgeneration-llama-3-2-1b-instruct",
        "1.0.0",
        "Llama 3.2 1B Instruct",
        "meta-llama/Llama-3.2-1B-Instruct",
    ),
    _model(
        "meta-textgeneration-llama-3-2-3b-instruct",
        "1.0.0",
        "Llama 3.2 3B Instruct",
        "meta-llama/Llama-3.2-3B-Instruct",
    ),
    _model(
        "huggingface-llm-qwen2-5-7b-instruct",
        "1.0.0",
        "Qwen2.5 7B Instruct",
        "Qwen/Qwen2.5-7B-Instruct",
    ),
)

#: Datasets of the public hub (``DataSet`` hub content).
DATASETS = (
    HubContentSeed(
        name="gen-qa-sample",
        content_type=DATASET,
        version="1.0.0",
        display_name="Generative QA sample",
        document={
            "DatasetS3Bucket": "sm-eval-emulator-datasets",
            "DatasetS3Prefix": "gen-qa-sample/gen_qa.jsonl",
            "DatasetFormat": "jsonl",
            "DatasetType": "Evaluation",
        },
    ),
)

#: Evaluators (custom scorers) of the public hub: ``JsonDoc`` hub content with an evaluator document.
EVALUATORS = (
    HubContentSeed(
        name="exact-match-scorer",
        content_type=JSON_DOC,
        version="1.0.0",
        display_name="Exact match scorer",
        search_keywords=("@evaluator",),
        document={
            "EvaluatorType": "RewardFunction",
            "Method": "lambda",
            "Reference": "arn:aws:lambda:us-east-1:123456789012:function:exact-match-scorer",
        },
    ),
)

#: Bedrock model ids the LLM-as-judge evaluator accepts as ``evaluator_model``.
JUDGE_MODELS = (
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "meta.llama3-1-70b-instruct-v1:0",
    "amazon.nova-pro-v1:0",
)

#: A model package fine-tuned from the first JumpStart model, and one without a base model.
MODEL_PACKAGES = (
    ModelPackageSeed(group="llama-3-2-1b-finetuned", version=1, base_model=JUMPSTART_MODELS[0].name),
    ModelPackageSeed(group="no-base-model", version=1, base_model=None),
)

#: The account's MLflow app (the SDK picks it when no ``mlflow_resource_arn`` is given).
MLFLOW_APPS = (MlflowAppSeed(name="default-mlflow-app", app_id="app-emulator000001", account_default=True),)


def judge_models_document(model_ids: tuple[str, ...]) -> bytes:
    """The supported-judge-models list in the shape the SDK reads (``supported_judge_models[].model_id``)."""
    return json.dumps({"supported_judge_models": [{"model_id": m} for m in model_ids]}, indent=2).encode()


DEFAULT_SEED = Seed(
    hub_contents=(*JUMPSTART_MODELS, *DATASETS, *EVALUATORS),
    model_packages=MODEL_PACKAGES,
    mlflow_apps=MLFLOW_APPS,
    judge_models=JUDGE_MODELS,
    objects={
        "s3://sm-eval-emulator-datasets/gen-qa-sample/gen_qa.jsonl": b'{"query": "1+1?", "response": "2"}\n',
        **{_override_params_uri(m.name): json.dumps(EVAL_OVERRIDE_PARAMS).encode() for m in JUMPSTART_MODELS},
    },
)
