"""OpenLineage of evaluation tasks: the S3 data an evaluation reads and the result files it writes.

The amazon provider's SageMaker pipeline operators report no lineage. Here an evaluation's
inputs are the S3 URIs of its steps' ``InputDataConfig`` (literal, or ``Get`` references to
pipeline parameters, resolved from the values given at start or the declared defaults) and its
outputs are the result files it wrote (``EvaluationSummary.artifact_uris``), else its S3 output
root. Everything comes from what the task already holds: no AWS call. The OpenLineage listener
alone calls this, and only where the openlineage provider is installed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_sm_eval.evaluation.s3_layout import parse_s3_uri

if TYPE_CHECKING:
    from airflow.providers.common.compat.openlineage.facet import Dataset
    from airflow.providers.openlineage.extractors import OperatorLineage

_PARAMETER_REFERENCE = "Parameters."


def definition_input_uris(
    definition: Mapping[str, Any], parameters: Mapping[str, Any] | None = None
) -> list[str]:
    """S3 URIs the definition's steps read, with parameter references resolved; in step order."""
    defaults = {
        p["Name"]: p.get("DefaultValue") for p in definition.get("Parameters", []) if isinstance(p, dict)
    }
    values = {**defaults, **(parameters or {})}
    uris: list[str] = []
    for step in definition.get("Steps", []):
        for uri in _input_uris(step.get("Arguments", {}), values):
            if uri not in uris:
                uris.append(uri)
    return uris


def _input_uris(arguments: Any, values: Mapping[str, Any]) -> Iterator[str]:
    channels = arguments.get("InputDataConfig", []) if isinstance(arguments, dict) else []
    for channel in channels:
        source = channel.get("DataSource", {}).get("S3DataSource", {}) if isinstance(channel, dict) else {}
        uri = source.get("S3Uri")
        if isinstance(uri, dict) and str(uri.get("Get", "")).startswith(_PARAMETER_REFERENCE):
            uri = values.get(uri["Get"].removeprefix(_PARAMETER_REFERENCE))
        if isinstance(uri, str) and uri.startswith("s3://"):
            yield uri


def s3_dataset(uri: str) -> Dataset:
    """The OpenLineage dataset of an S3 object or prefix: namespace ``s3://bucket``, name the key."""
    from airflow.providers.common.compat.openlineage.facet import Dataset

    parsed = parse_s3_uri(uri, name="S3 URI")
    return Dataset(namespace=f"s3://{parsed.bucket}", name=parsed.key or "/")


def operator_lineage(inputs: Iterable[str], outputs: Iterable[str]) -> OperatorLineage:
    """OperatorLineage of S3 URIs read and written."""
    from airflow.providers.openlineage.extractors import OperatorLineage

    return OperatorLineage(
        inputs=[s3_dataset(uri) for uri in inputs], outputs=[s3_dataset(uri) for uri in outputs]
    )
