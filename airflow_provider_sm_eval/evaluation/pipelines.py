"""Finding, creating and updating the tagged evaluation pipeline of a type, the SDK's way.

The SDK keeps one pipeline per evaluation type, named ``{prefix}-{uuid4}`` and tagged
``SagemakerModelEvaluation=true``, and overwrites its definition on every start. Here:

- the pipeline of a type converges to one under any concurrency: the oldest tagged pipeline of
  the type is used; when there is none, every start creates the same name (``{prefix}-{uuid5}``,
  fixed per type) with the same token, so concurrent CreatePipeline calls collide and the losers
  use the winner's pipeline, whatever error the collision gave;
- the definition version an execution runs is pinned (StartPipelineExecution's
  PipelineVersionId), so concurrent starts with different definitions each run their own; a
  version whose definition is identical (its digest is kept in the version's description) is
  reused instead of adding a version per start;
- the SDK's evaluators leave ``{{ pipeline_name }}`` in their definitions; it is replaced with
  the pipeline's real name before the definition is stored, as the SDK's ``start`` does. A built
  definition names the positions that take the name instead; only those are set, as data, so a
  value that holds ``{{ pipeline_name }}`` stays as it was given.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from airflow_provider_sm_eval.evaluation.clients import aws_errors, wrap_client_error
from airflow_provider_sm_eval.evaluation.constants import (
    EVALUATION_TAG_KEY,
    EVALUATION_TAG_VALUE,
    PIPELINE_NAME_PLACEHOLDER,
    EvalType,
)
from airflow_provider_sm_eval.evaluation.definition import PipelineDefinition
from airflow_provider_sm_eval.evaluation.types.registry import kind_of

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

log = logging.getLogger(__name__)

#: Positions in a definition that take the pipeline's name; None: replace the SDK's placeholder.
NameFields: TypeAlias = Sequence[Sequence[str | int]] | None

#: Namespace of the uuid5 in converged pipeline names (fixed: every version of this provider agrees).
_NAME_NAMESPACE = uuid.UUID("6f1f7e0e-2b9c-5d41-9a57-000e0a1e0000")
_VERSION_MARKER_PREFIX = "sm-eval definition sha256:"
#: Recent versions searched for an identical definition (one ListPipelineVersions page).
_VERSIONS_SEARCHED = 20


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
    """Every pipeline named with ``eval_type``'s prefix that carries the evaluation tag, oldest first.

    The prefix is matched again client-side: services differ in how they apply it.
    """
    prefix = kind_of(eval_type).pipeline_name_prefix
    with aws_errors("ListPipelines", f"pipelines with prefix {prefix}"):
        pages = sagemaker.get_paginator("list_pipelines").paginate(
            PipelineNamePrefix=prefix, SortBy="CreationTime", SortOrder="Ascending"
        )
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
    *,
    pipeline_name_fields: NameFields = None,
) -> PinnedPipelineVersion:
    """The version of the type's pipeline (created when missing) that holds ``definition``.

    ``tags`` go on the pipeline: at creation, or with AddTags (logged) on an existing one, so
    that no tag given is dropped. ``pipeline_name_fields``: see :func:`definition_for_pipeline`.
    """
    pipeline = next(evaluation_pipelines(sagemaker, eval_type), None)
    if pipeline is None:
        pipeline = _create_or_join_pipeline(
            sagemaker, eval_type, definition, role_arn, tags, pipeline_name_fields=pipeline_name_fields
        )
    elif tags:
        with aws_errors("AddTags", pipeline.arn):
            sagemaker.add_tags(ResourceArn=pipeline.arn, Tags=tags)  # type: ignore[arg-type]
        log.info("Tagged evaluation pipeline %s with %s", pipeline.name, ", ".join(t["Key"] for t in tags))
    text = definition_for_pipeline(definition, pipeline.name, pipeline_name_fields)
    marker = _version_marker(text, role_arn)
    reused = _version_with_marker(sagemaker, pipeline, marker)
    if reused is not None:
        return PinnedPipelineVersion(pipeline.name, pipeline.arn, reused)
    with aws_errors("UpdatePipeline", pipeline.name):
        response = sagemaker.update_pipeline(
            PipelineName=pipeline.name, PipelineDefinition=text, RoleArn=role_arn
        )
    version_id = int(response["PipelineVersionId"])
    with aws_errors("UpdatePipelineVersion", pipeline.name):
        sagemaker.update_pipeline_version(
            PipelineArn=response["PipelineArn"],
            PipelineVersionId=version_id,
            PipelineVersionDescription=marker,
        )
    return PinnedPipelineVersion(pipeline.name, response["PipelineArn"], version_id)


def converged_pipeline_name(eval_type: EvalType) -> str:
    """The name this provider gives a new pipeline of ``eval_type``: the SDK's prefix and a
    uuid5 fixed per type (pipeline names are unique per account and region already)."""
    return (
        f"{kind_of(eval_type).pipeline_name_prefix}-{uuid.uuid5(_NAME_NAMESPACE, EvalType(eval_type).value)}"
    )


def definition_for_pipeline(
    definition: PipelineDefinition, pipeline_name: str, pipeline_name_fields: NameFields = None
) -> str:
    """The JSON text stored for ``definition`` in pipeline ``pipeline_name``.

    With ``pipeline_name_fields`` (positions: keys and list indexes) those fields are set to the
    name, as data, and nothing else changes. Without (None), every ``{{ pipeline_name }}``
    placeholder in the text is replaced, as the SDK does.
    """
    if pipeline_name_fields is None:
        return PIPELINE_NAME_PLACEHOLDER.sub(pipeline_name, definition.to_json())
    document = copy.deepcopy(definition.document)
    for path in pipeline_name_fields:
        node: Any = document
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = pipeline_name
    return json.dumps(document, separators=(",", ":"))


def _create_or_join_pipeline(
    sagemaker: SageMakerClient,
    eval_type: EvalType,
    definition: PipelineDefinition,
    role_arn: str,
    tags: list[dict[str, str]],
    *,
    pipeline_name_fields: NameFields,
) -> EvaluationPipeline:
    """Create the type's converged pipeline, or use it when a concurrent start created it first."""
    from botocore.exceptions import ClientError

    name = converged_pipeline_name(eval_type)
    try:
        response = sagemaker.create_pipeline(
            PipelineName=name,
            PipelineDefinition=definition_for_pipeline(definition, name, pipeline_name_fields),
            RoleArn=role_arn,
            ClientRequestToken=str(uuid.uuid5(_NAME_NAMESPACE, name)),
            Tags=[{"Key": EVALUATION_TAG_KEY, "Value": EVALUATION_TAG_VALUE}, *tags],  # type: ignore[list-item]
        )
        log.info("Created evaluation pipeline %s", name)
        return EvaluationPipeline(name, response["PipelineArn"])
    except ClientError as error:
        create_error = wrap_client_error(error, "CreatePipeline", name)
    try:
        arn = sagemaker.describe_pipeline(PipelineName=name)["PipelineArn"]
    except ClientError:
        raise create_error from None
    if not has_evaluation_tag(sagemaker, arn):
        raise create_error
    log.info(
        "Evaluation pipeline %s was created by a concurrent start (%s): using it", name, create_error.code
    )
    return EvaluationPipeline(name, arn)


def _version_marker(definition_json: str, role_arn: str) -> str:
    digest = hashlib.sha256(f"{role_arn}\n{definition_json}".encode()).hexdigest()
    return f"{_VERSION_MARKER_PREFIX}{digest}"


def _version_with_marker(sagemaker: SageMakerClient, pipeline: EvaluationPipeline, marker: str) -> int | None:
    """The newest of the pipeline's recent versions whose description is ``marker``."""
    with aws_errors("ListPipelineVersions", pipeline.name):
        versions = sagemaker.list_pipeline_versions(
            PipelineName=pipeline.name, SortOrder="Descending", MaxResults=_VERSIONS_SEARCHED
        ).get("PipelineVersionSummaries", [])
    return next(
        (int(v["PipelineVersionId"]) for v in versions if v.get("PipelineVersionDescription") == marker), None
    )
