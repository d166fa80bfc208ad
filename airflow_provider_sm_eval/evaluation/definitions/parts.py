"""The pieces every evaluation definition shares, as data: the document, ``MlflowConfig``, the
training step of a serverless evaluation job (``ServerlessJobConfig``, output, dataset, VPC,
KMS, model package), the lineage steps, and where the pipeline's name goes.

Shapes follow the SageMaker Python SDK 1.27's ``pipeline_templates``; a change in SageMaker's
shapes shared by all types is made here, one specific to a type in that type's builder.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow_provider_sm_eval.evaluation.constants import PIPELINE_DEFINITION_VERSION, StepName
from airflow_provider_sm_eval.evaluation.definitions.inputs import EvaluatorInputs, is_hub_dataset_arn
from airflow_provider_sm_eval.evaluation.definitions.resolve import Resolved
from airflow_provider_sm_eval.evaluation.validators import validate_tags

#: The placeholder the SDK leaves where the pipeline's name goes (filled at start, see
#: :func:`pipeline_name_fields`).
PIPELINE_NAME_TEMPLATE = "{{ pipeline_name }}"
#: ``ServerlessJobConfig.EvaluationType`` values.
BENCHMARK_JOB = "BenchmarkEvaluation"
CUSTOM_SCORER_JOB = "CustomScorerEvaluation"
LLMAJ_JOB = "LLMAJEvaluation"
MAX_RUNTIME_SECONDS = 86400
#: The tag the SDK puts on the pipeline of a JumpStart model (its version tag is left out: ``*``).
JUMPSTART_MODEL_ID_TAG = "sagemaker-sdk:jumpstart-model-id"

#: A position in a JSON document: keys and list indexes from the root.
JsonPath = tuple[str | int, ...]


def get(reference: str) -> dict[str, str]:
    """A ``{"Get": ...}`` reference (``Execution.PipelineExecutionId``, ``Steps.X.Y``, ...)."""
    return {"Get": reference}


def execution_id() -> dict[str, str]:
    return get("Execution.PipelineExecutionId")


def join(on: str, values: list[Any]) -> dict[str, Any]:
    """``Std:Join`` of ``values`` with ``on``."""
    return {"Std:Join": {"On": on, "Values": values}}


def document(inputs: EvaluatorInputs, resolved: Resolved, steps: list[dict[str, Any]]) -> dict[str, Any]:
    """The pipeline definition around ``steps``; ``MlflowConfig`` only when MLflow is on."""
    definition: dict[str, Any] = {"Version": PIPELINE_DEFINITION_VERSION, "Metadata": {}}
    mlflow = mlflow_config(inputs, resolved)
    if mlflow is not None:
        definition["MlflowConfig"] = mlflow
    definition["Parameters"] = []
    definition["Steps"] = steps
    return definition


def mlflow_config(inputs: EvaluatorInputs, resolved: Resolved) -> dict[str, str] | None:
    """``MlflowConfig``: the experiment defaults to the pipeline's name (the SDK's default).

    With MLflow off the SDK still sends ``MlflowConfig`` with the text ``"None"`` as its ARN;
    that is no ARN, so it is left out here.
    """
    if resolved.mlflow_resource_arn is None:
        return None
    return {
        "MlflowResourceArn": resolved.mlflow_resource_arn,
        "MlflowExperimentName": inputs.mlflow_experiment_name or PIPELINE_NAME_TEMPLATE,
    }


def pipeline_tags(inputs: EvaluatorInputs) -> list[dict[str, str]]:
    """The pipeline's tags as the SDK sets them: a JumpStart model's id, then the inputs' tags
    (a tag given with the same key wins)."""
    given = {tag["Key"] for tag in inputs.tags}
    if inputs.is_model_package or JUMPSTART_MODEL_ID_TAG in given:
        return list(inputs.tags)
    return validate_tags([{"Key": JUMPSTART_MODEL_ID_TAG, "Value": inputs.model}, *inputs.tags])


def pipeline_name_fields(inputs: EvaluatorInputs, definition: dict[str, Any]) -> tuple[JsonPath, ...]:
    """Where the pipeline's name goes in a built ``definition``: the defaulted MLflow experiment
    and every evaluation action's ``Properties.PipelineName``. Found by position, never by value,
    so an input that holds ``{{ pipeline_name }}`` stays as given."""
    fields: list[JsonPath] = []
    if "MlflowConfig" in definition and inputs.mlflow_experiment_name is None:
        fields.append(("MlflowConfig", "MlflowExperimentName"))
    for index, step in enumerate(definition["Steps"]):
        if step["Name"] == StepName.CREATE_EVALUATION_ACTION.value:
            for action in range(len(step["Arguments"]["Actions"])):
                fields.append(("Steps", index, "Arguments", "Actions", action, "Properties", "PipelineName"))
    return tuple(fields)


def serverless_job_config(
    resolved: Resolved, evaluation_type: str, evaluator_arn: str | None = None
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "BaseModelArn": resolved.base_model_arn,
        "AcceptEula": True,
        "JobType": "Evaluation",
        "EvaluationType": evaluation_type,
    }
    if evaluator_arn is not None:
        config["EvaluatorArn"] = evaluator_arn
    return config


def output_data_config(s3_output_path: str, kms_key_id: str | None) -> dict[str, str]:
    config = {"S3OutputPath": s3_output_path, "CompressionType": "NONE"}
    if kms_key_id is not None:
        config["KmsKeyId"] = kms_key_id
    return config


def input_data_config(dataset: str) -> list[dict[str, Any]]:
    """The ``train`` channel: a ``DatasetSource`` for a hub DataSet ARN, else an S3 prefix."""
    if is_hub_dataset_arn(dataset):
        source: dict[str, Any] = {"DatasetSource": {"DatasetArn": dataset}}
    else:
        source = {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": dataset}}
    return [{"ChannelName": "train", "DataSource": source}]


def model_package_config(resolved: Resolved) -> dict[str, str | None]:
    return {
        "ModelPackageGroupArn": resolved.model_package_group_arn,
        "SourceModelPackageArn": resolved.source_model_package_arn,
    }


def training_step(
    name: StepName,
    inputs: EvaluatorInputs,
    resolved: Resolved,
    *,
    evaluation_type: str,
    hyperparameters: dict[str, Any],
    s3_output_path: str,
    evaluator_arn: str | None = None,
    training_job_name: str | dict[str, Any] | None = None,
    dataset: str | None = None,
    in_vpc: bool = True,
    model_package: bool = False,
    depends_on: list[StepName] | None = None,
) -> dict[str, Any]:
    """A ``Training`` step running one serverless evaluation job on the base model's ARN.

    ``model_package`` adds the evaluated model package (``ModelPackageConfig``); ``in_vpc`` adds
    ``networking`` when given.
    """
    arguments: dict[str, Any] = {}
    if training_job_name is not None:
        arguments["TrainingJobName"] = training_job_name
    arguments["RoleArn"] = inputs.role_arn
    if model_package:
        arguments["ModelPackageConfig"] = model_package_config(resolved)
    arguments["ServerlessJobConfig"] = serverless_job_config(resolved, evaluation_type, evaluator_arn)
    arguments["StoppingCondition"] = {"MaxRuntimeInSeconds": MAX_RUNTIME_SECONDS}
    arguments["HyperParameters"] = hyperparameters
    arguments["OutputDataConfig"] = output_data_config(s3_output_path, inputs.kms_key_id)
    if dataset is not None:
        arguments["InputDataConfig"] = input_data_config(dataset)
    if in_vpc and inputs.networking is not None:
        arguments["VpcConfig"] = {
            "SecurityGroupIds": list(inputs.networking.security_group_ids),
            "Subnets": list(inputs.networking.subnets),
        }
    step: dict[str, Any] = {"Name": name.value, "Type": "Training", "Arguments": arguments}
    if depends_on:
        step["DependsOn"] = [d.value for d in depends_on]
    return step


def create_evaluation_action(resolved: Resolved) -> dict[str, Any]:
    """``CreateEvaluationAction``: the execution's evaluation action and context, the model package
    that contributed to it and the model's lineage artifact."""
    return {
        "Name": StepName.CREATE_EVALUATION_ACTION.value,
        "Type": "Lineage",
        "Arguments": {
            "Actions": [
                {
                    "ActionName": execution_id(),
                    "ActionType": "Evaluation",
                    "Source": {"SourceUri": resolved.source_model_package_arn, "SourceType": "ModelPackage"},
                    "Properties": {
                        "PipelineExecutionArn": get("Execution.PipelineExecutionArn"),
                        "PipelineName": PIPELINE_NAME_TEMPLATE,
                    },
                }
            ],
            "Contexts": [
                {
                    "ContextName": execution_id(),
                    "ContextType": "PipelineExecution",
                    "Source": {"SourceUri": get("Execution.PipelineExecutionArn")},
                }
            ],
            "Associations": [
                {
                    "Source": {"Name": execution_id(), "Type": "Action"},
                    "Destination": {"Name": execution_id(), "Type": "Context"},
                    "AssociationType": "ContributedTo",
                },
                {
                    "Source": {"Arn": resolved.dataset_artifact_arn},
                    "Destination": {"Arn": action_arn(resolved)},
                    "AssociationType": "ContributedTo",
                },
            ],
        },
    }


def action_arn(resolved: Resolved) -> dict[str, Any]:
    """The evaluation action's ARN: the account's action prefix and the execution id."""
    return join("/", [resolved.action_arn_prefix, execution_id()])


def associate_lineage(resolved: Resolved, artifacts: list[tuple[str, str, StepName]]) -> dict[str, Any]:
    """``AssociateLineage``: one artifact per ``(name suffix, artifact type, step)`` holding the
    step's S3 output, each contributing to the evaluation action."""
    entries, associations = [], []
    for suffix, artifact_type, step in artifacts:
        entries.append(
            {
                "ArtifactName": join("-", [execution_id(), suffix]),
                "ArtifactType": artifact_type,
                "Source": {"SourceUri": get(f"Steps.{step.value}.OutputDataConfig.S3OutputPath")},
            }
        )
        associations.append(
            {
                "Source": {"Name": join("-", [execution_id(), suffix]), "Type": "Artifact"},
                "Destination": {"Arn": action_arn(resolved)},
                "AssociationType": "ContributedTo",
            }
        )
    return {
        "Name": StepName.ASSOCIATE_LINEAGE.value,
        "Type": "Lineage",
        "DependsOn": [StepName.CREATE_EVALUATION_ACTION.value],
        "Arguments": {"Artifacts": entries, "Associations": associations},
    }


def metric_key(resolved: Resolved) -> str:
    """Nova recipes read ``metric``, the open-weights ones ``evaluation_metric`` (the SDK's rule)."""
    return "metric" if resolved.is_nova else "evaluation_metric"


def one_job_per_model(
    inputs: EvaluatorInputs, resolved: Resolved, evaluate: Callable[[StepName, bool], dict[str, Any]]
) -> list[dict[str, Any]]:
    """The steps of a type with one job per evaluated model (benchmark, custom scorer).

    A JumpStart model: one ``EvaluateBaseModel`` step. A model package: the lineage action,
    ``EvaluateBaseModel`` when ``evaluate_base_model``, ``EvaluateCustomModel``, and the lineage
    of their reports. ``evaluate(step, custom)`` builds a job step.
    """
    if resolved.source_model_package_arn is None:
        return [evaluate(StepName.EVALUATE_BASE_MODEL, False)]
    steps = [create_evaluation_action(resolved)]
    reports = []
    if inputs.evaluate_base_model:
        steps.append(evaluate(StepName.EVALUATE_BASE_MODEL, False))
        reports.append(("base-eval-report", "EvaluationReport", StepName.EVALUATE_BASE_MODEL))
    steps.append(evaluate(StepName.EVALUATE_CUSTOM_MODEL, True))
    reports.append(("custom-eval-report", "EvaluationReport", StepName.EVALUATE_CUSTOM_MODEL))
    steps.append(associate_lineage(resolved, reports))
    return steps
