"""OpenLineage of evaluation tasks: the S3 data an evaluation reads and the result files it writes.

The amazon provider's SageMaker pipeline operators report no lineage. Here an evaluation's
inputs are the S3 URIs of its steps' ``InputDataConfig`` (literal, or ``Get`` references to
pipeline parameters, resolved from the values given at start or the declared defaults) and its
outputs are the result files it wrote (``EvaluationSummary.artifact_uris``), else its S3 output
root. The models evaluated (a model package ARN, a base model id) are inputs too, and the pipeline
execution ARN is an ``externalQuery`` run facet. Everything comes from what the task already
holds: no AWS call. OpenLineage is imported lazily; without the openlineage provider the
operators' lineage methods return None (nothing to report, nothing raised).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_sm_eval.evaluation.s3_layout import parse_s3_uri

if TYPE_CHECKING:
    from airflow.providers.common.compat.openlineage.facet import Dataset
    from airflow.providers.openlineage.extractors import OperatorLineage

_PARAMETER_REFERENCE = "Parameters."
#: ``source`` of the ``externalQuery`` run facet carrying the pipeline execution ARN.
EXECUTION_FACET_SOURCE = "sagemaker-pipelines"
#: Namespace of models named by id rather than ARN (``ServerlessJobConfig.BaseModelArn``).
MODEL_ID_NAMESPACE = "sagemaker-model"


def definition_input_uris(
    definition: Mapping[str, Any], parameters: Mapping[str, Any] | None = None
) -> list[str]:
    """S3 URIs the definition's steps read, with parameter references resolved; in step order."""
    values = _parameter_values(definition, parameters)
    uris: list[str] = []
    for step in definition.get("Steps", []):
        for uri in _input_uris(step.get("Arguments", {}), values):
            if uri not in uris:
                uris.append(uri)
    return uris


def definition_model_ids(
    definition: Mapping[str, Any], parameters: Mapping[str, Any] | None = None
) -> list[str]:
    """Models the definition's steps evaluate (``ModelPackageConfig.SourceModelPackageArn``,
    ``ServerlessJobConfig.BaseModelArn``), with parameter references resolved; in step order."""
    values = _parameter_values(definition, parameters)
    models: list[str] = []
    for step in definition.get("Steps", []):
        arguments = step.get("Arguments", {}) if isinstance(step, dict) else {}
        if not isinstance(arguments, dict):
            continue
        package = arguments.get("ModelPackageConfig") or {}
        serverless = arguments.get("ServerlessJobConfig") or {}
        for reference in (package.get("SourceModelPackageArn"), serverless.get("BaseModelArn")):
            model = _resolve(reference, values)
            if model and model not in models:
                models.append(model)
    return models


def _parameter_values(definition: Mapping[str, Any], parameters: Mapping[str, Any] | None) -> dict[str, Any]:
    defaults = {
        p["Name"]: p.get("DefaultValue") for p in definition.get("Parameters", []) if isinstance(p, dict)
    }
    return {**defaults, **(parameters or {})}


def _resolve(reference: Any, values: Mapping[str, Any]) -> str | None:
    """A literal string as it is, ``{"Get": "Parameters.X"}`` as the value of X, else None."""
    if isinstance(reference, dict) and str(reference.get("Get", "")).startswith(_PARAMETER_REFERENCE):
        reference = values.get(reference["Get"].removeprefix(_PARAMETER_REFERENCE))
    return reference if isinstance(reference, str) and reference else None


def _input_uris(arguments: Any, values: Mapping[str, Any]) -> Iterator[str]:
    channels = arguments.get("InputDataConfig", []) if isinstance(arguments, dict) else []
    for channel in channels:
        source = channel.get("DataSource", {}).get("S3DataSource", {}) if isinstance(channel, dict) else {}
        uri = _resolve(source.get("S3Uri"), values)
        if uri and uri.startswith("s3://"):
            yield uri


def s3_dataset(uri: str) -> Dataset:
    """The OpenLineage dataset of an S3 object or prefix: namespace ``s3://bucket``, name the key."""
    from airflow.providers.common.compat.openlineage.facet import Dataset

    parsed = parse_s3_uri(uri, name="S3 URI")
    return Dataset(namespace=f"s3://{parsed.bucket}", name=parsed.key or "/")


def model_dataset(model: str) -> Dataset:
    """The OpenLineage dataset of a model: an ARN splits into namespace ``arn:...:account`` and
    name ``model-package/...``; a model id (the same id in every region) gets namespace
    ``sagemaker-model``, so the start and complete events name it alike."""
    from airflow.providers.common.compat.openlineage.facet import Dataset

    if model.startswith("arn:"):
        namespace, _, resource = model.rpartition(":")
        return Dataset(namespace=namespace, name=resource)
    return Dataset(namespace=MODEL_ID_NAMESPACE, name=model)


def operator_lineage(
    inputs: Iterable[str],
    outputs: Iterable[str],
    *,
    models: Iterable[str] = (),
    execution_arn: str | None = None,
) -> OperatorLineage | None:
    """OperatorLineage of the models evaluated and the S3 URIs read and written, with the pipeline
    execution as an ``externalQuery`` run facet; None when the openlineage provider is missing."""
    try:
        from airflow.providers.common.compat.openlineage.facet import ExternalQueryRunFacet
        from airflow.providers.openlineage.extractors import OperatorLineage
    except ImportError:
        return None

    run_facets: dict[str, Any] = {}
    if execution_arn:
        run_facets["externalQuery"] = ExternalQueryRunFacet(
            externalQueryId=execution_arn, source=EXECUTION_FACET_SOURCE
        )
    return OperatorLineage(
        inputs=[model_dataset(model) for model in models] + [s3_dataset(uri) for uri in inputs],
        outputs=[s3_dataset(uri) for uri in outputs],
        run_facets=run_facets,
    )
