"""Finding, creating and updating the tagged evaluation pipeline of a type, the SDK's way.

The SDK keeps one pipeline per evaluation type, named ``{prefix}-{uuid4}`` and tagged
``SagemakerModelEvaluation=true``, and overwrites its definition on every start. Here the
definition version that UpdatePipeline returns is pinned when the execution starts, so two
concurrent starts with different definitions each run their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from airflow_provider_sm_eval.evaluation.clients import aws_errors
from airflow_provider_sm_eval.evaluation.constants import EVALUATION_TAG_KEY, EVALUATION_TAG_VALUE, EvalType
from airflow_provider_sm_eval.evaluation.definition import PipelineDefinition
from airflow_provider_sm_eval.evaluation.types.registry import kind_of

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient


@dataclass(frozen=True)
class EvaluationPipeline:
    """A pipeline carrying the evaluation tag."""

    name: str
    arn: str


@dataclass(frozen=True)
class PinnedPipelineVersion:
    """The pipeline an execution runs on and the exact definition version it runs."""

    name: str
    arn: str
    version_id: int


def evaluation_pipelines(sagemaker: SageMakerClient, eval_type: EvalType) -> Iterator[EvaluationPipeline]:
    """Every pipeline named with ``eval_type``'s prefix that carries the evaluation tag.

    The prefix is matched again client-side: services differ in how they apply it.
    """
    prefix = kind_of(eval_type).pipeline_name_prefix
    with aws_errors("ListPipelines", f"pipelines with prefix {prefix}"):
        pages = sagemaker.get_paginator("list_pipelines").paginate(PipelineNamePrefix=prefix)
        summaries = [summary for page in pages for summary in page.get("PipelineSummaries", [])]
    for summary in summaries:
        name = summary.get("PipelineName", "")
        if name.startswith(prefix) and has_evaluation_tag(sagemaker, summary["PipelineArn"]):
            yield EvaluationPipeline(name, summary["PipelineArn"])


def has_evaluation_tag(sagemaker: SageMakerClient, resource_arn: str) -> bool:
    with aws_errors("ListTags", resource_arn):
        for page in sagemaker.get_paginator("list_tags").paginate(ResourceArn=resource_arn):
            for tag in page.get("Tags", []):
                if tag.get("Key") == EVALUATION_TAG_KEY and tag.get("Value") == EVALUATION_TAG_VALUE:
                    return True
    return False


def pin_pipeline_version(
    sagemaker: SageMakerClient,
    eval_type: EvalType,
    definition: PipelineDefinition,
    role_arn: str,
    tags: list[dict[str, str]],
) -> PinnedPipelineVersion:
    """Store ``definition`` as a new version of the type's pipeline (created when missing).

    ``tags`` are applied when the pipeline is created; an existing pipeline keeps its own.
    """
    pipeline = next(evaluation_pipelines(sagemaker, eval_type), None)
    if pipeline is None:
        pipeline = _create_pipeline(sagemaker, eval_type, definition, role_arn, tags)
    with aws_errors("UpdatePipeline", pipeline.name):
        response = sagemaker.update_pipeline(
            PipelineName=pipeline.name, PipelineDefinition=definition.to_json(), RoleArn=role_arn
        )
    return PinnedPipelineVersion(pipeline.name, response["PipelineArn"], int(response["PipelineVersionId"]))


def _create_pipeline(
    sagemaker: SageMakerClient,
    eval_type: EvalType,
    definition: PipelineDefinition,
    role_arn: str,
    tags: list[dict[str, str]],
) -> EvaluationPipeline:
    name = f"{kind_of(eval_type).pipeline_name_prefix}-{uuid.uuid4()}"
    with aws_errors("CreatePipeline", name):
        response = sagemaker.create_pipeline(
            PipelineName=name,
            PipelineDefinition=definition.to_json(),
            RoleArn=role_arn,
            ClientRequestToken=str(uuid.uuid4()),
            Tags=[{"Key": EVALUATION_TAG_KEY, "Value": EVALUATION_TAG_VALUE}, *tags],  # type: ignore[list-item]
        )
    return EvaluationPipeline(name, response["PipelineArn"])
