"""What a pipeline step asks of SageMaker when it runs, checked as SageMaker's API checks it, and done.

A ``Training`` step makes a ``CreateTrainingJob`` request from its resolved arguments (the
pipeline names the job; the definition's ``MlflowConfig`` goes with the job unless the step has
its own). A ``Lineage`` step makes ``CreateAction`` / ``CreateContext`` / ``CreateArtifact``
requests for its ``Actions``, ``Contexts`` and ``Artifacts``, then ``AddAssociation`` requests for
its ``Associations`` (an end named by ``Arn``, or by ``Name`` and ``Type`` of an entity the
lineage holds); an entity that already exists by that name is kept (a retried execution runs its
Lineage steps again). Each request is checked against botocore's SageMaker model (``validation``), so a
malformed ``ServerlessJobConfig``, ``MlflowConfig`` or lineage entry fails the step when it
starts, with SageMaker's validation message as the step's failure reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sagemaker_eval_emulator.catalog import Catalog
from sagemaker_eval_emulator.errors import ApiError
from sagemaker_eval_emulator.execution import StepRefused
from sagemaker_eval_emulator.validation import validate

#: Lineage step argument -> (the operation each entry is a request of, the catalog's entity kind).
LINEAGE_ENTITIES = {
    "Actions": ("CreateAction", "action"),
    "Contexts": ("CreateContext", "context"),
    "Artifacts": ("CreateArtifact", "artifact"),
}
_ASSOCIATION_END_TYPES = {"Action": "action", "Context": "context", "Artifact": "artifact"}


def check_training_request(
    arguments: Mapping[str, Any], *, job_name: str, mlflow_config: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The CreateTrainingJob request of a Training step; StepRefused when SageMaker would refuse it."""
    request = {**arguments, "TrainingJobName": job_name}
    if mlflow_config is not None and "MlflowConfig" not in request:
        request["MlflowConfig"] = dict(mlflow_config)
    _validated("CreateTrainingJob", request)
    return request


def check_lineage_requests(arguments: Mapping[str, Any]) -> None:
    """Check every entity and association of a Lineage step (resolved arguments)."""
    for key, (operation, _) in LINEAGE_ENTITIES.items():
        for entry in _entries(arguments, key):
            _validated(operation, entry)
    for entry in _entries(arguments, "Associations"):
        for end in ("Source", "Destination"):
            _association_end(entry, end)
        if "AssociationType" in entry:
            _validated(
                "AddAssociation", {"SourceArn": _PLACEHOLDER, "DestinationArn": _PLACEHOLDER, **_type(entry)}
            )


def run_lineage_step(catalog: Catalog, arguments: Mapping[str, Any], region: str) -> None:
    """Create the step's entities, then its associations; StepRefused on the first refusal."""
    check_lineage_requests(arguments)
    try:
        for key, (_, kind) in LINEAGE_ENTITIES.items():
            for entry in _entries(arguments, key):
                catalog.create_lineage(kind, entry, region, reuse=True)
        for entry in _entries(arguments, "Associations"):
            source = _end_arn(catalog, entry, "Source", region)
            destination = _end_arn(catalog, entry, "Destination", region)
            _validated("AddAssociation", {"SourceArn": source, "DestinationArn": destination, **_type(entry)})
            catalog.add_association(source, destination, entry.get("AssociationType"))
    except ApiError as exc:
        raise StepRefused(f"ClientError: {exc.code}: {exc.message}") from None


_PLACEHOLDER = "arn:aws:sagemaker:us-east-1:123456789012:action/placeholder"


def _type(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {"AssociationType": entry["AssociationType"]} if "AssociationType" in entry else {}


def _entries(arguments: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    value = arguments.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise StepRefused(
            f"ClientError: ValidationException: '{key}' of a Lineage step must be a list of objects"
        )
    return value


def _association_end(entry: Mapping[str, Any], end: str) -> Mapping[str, Any]:
    value = entry.get(end)
    if isinstance(value, dict) and isinstance(value.get("Arn"), str):
        return value
    if (
        isinstance(value, dict)
        and isinstance(value.get("Name"), str)
        and value.get("Type") in _ASSOCIATION_END_TYPES
    ):
        return value
    raise StepRefused(
        f"ClientError: ValidationException: association {end} must have an 'Arn', or a 'Name' and a 'Type' "
        f"({', '.join(_ASSOCIATION_END_TYPES)}), got {value!r}"
    )


def _end_arn(catalog: Catalog, entry: Mapping[str, Any], end: str, region: str) -> str:
    value = _association_end(entry, end)
    if "Arn" in value:
        return str(value["Arn"])
    return catalog.lineage_arn(_ASSOCIATION_END_TYPES[value["Type"]], value["Name"], region)


def _validated(operation: str, request: dict[str, Any]) -> None:
    try:
        validate(operation, request)
    except ApiError as exc:
        raise StepRefused(f"ClientError: {exc.code}: {exc.message}") from None
