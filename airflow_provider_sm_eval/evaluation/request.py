"""StartRequest: every input of a start, validated once at the edge and passed down as is.

The SDK-compatible façade and the Airflow operator build one; the lifecycle takes it. A refused
input raises :class:`~.exceptions.InvalidInputError` (a ValueError) whose ``field`` names it,
before any AWS call.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from airflow_provider_sm_eval.evaluation.arns import validate_role_arn
from airflow_provider_sm_eval.evaluation.constants import S3_OUTPUT_PATH_PARAMETER, EvalType
from airflow_provider_sm_eval.evaluation.definition import PipelineDefinition, load_pipeline_definition
from airflow_provider_sm_eval.evaluation.exceptions import InvalidInputError
from airflow_provider_sm_eval.evaluation.s3_layout import parse_s3_uri
from airflow_provider_sm_eval.evaluation.types.registry import kind_of
from airflow_provider_sm_eval.evaluation.validators import (
    fresh_token,
    validate_client_request_token,
    validate_description,
    validate_display_name,
    validate_evaluation_name,
    validate_pipeline_parameters,
    validate_required_parameters,
    validate_tags,
)


def _definition(value: Any) -> PipelineDefinition:
    return value if isinstance(value, PipelineDefinition) else load_pipeline_definition(value)


def _output_path(value: Any) -> str | None:
    return None if value is None else str(parse_s3_uri(value, name="s3_output_path"))


class StartRequest(BaseModel):
    """What a start sends to SageMaker, validated.

    ``display_name`` defaults to ``{name}-{unix_time}``, ``description`` to
    ``Evaluation execution: {name}`` and ``client_request_token`` to a fresh one (the SDK's
    conventions). ``pipeline_definition`` is given as a dict, a JSON string or a file path.
    ``region``, when known, is the region the start goes to: ``role_arn`` must be of its partition.

    ``pipeline_name_fields`` lists the positions in the definition (keys and list indexes) that
    take the pipeline's name, filled as data when the pipeline is known (a built definition gives
    them, see :mod:`.definitions`). None, for a hand-written definition, replaces every
    ``{{ pipeline_name }}`` placeholder in it instead, as the SDK does.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    eval_type: Annotated[EvalType, BeforeValidator(EvalType.parse)]
    name: Annotated[str, BeforeValidator(validate_evaluation_name)]
    pipeline_definition: Annotated[PipelineDefinition, BeforeValidator(_definition)]
    role_arn: Annotated[str, BeforeValidator(validate_role_arn)]
    s3_output_path: Annotated[str | None, BeforeValidator(_output_path)] = None
    tags: Annotated[list[dict[str, str]], BeforeValidator(validate_tags)] = []
    pipeline_parameters: dict[str, str] = {}
    client_request_token: Annotated[str, BeforeValidator(validate_client_request_token)] = Field(
        default_factory=fresh_token
    )
    display_name: Annotated[str, BeforeValidator(validate_display_name)]
    description: Annotated[str, BeforeValidator(validate_description)]
    region: str | None = None
    pipeline_name_fields: tuple[tuple[str | int, ...], ...] | None = None

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise input_error(error) from None

    @model_validator(mode="before")
    @classmethod
    def _sdk_defaults(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or not isinstance(data.get("name"), str):
            return data
        filled = dict(data)
        if filled.get("display_name") is None:
            filled["display_name"] = f"{data['name']}-{int(time.time())}"
        if filled.get("description") is None:
            filled["description"] = f"Evaluation execution: {data['name']}"
        if filled.get("client_request_token") is None:
            filled.pop("client_request_token", None)
        return filled

    @field_validator("pipeline_parameters", mode="before")
    @classmethod
    def _parameters(cls, value: Any, info: ValidationInfo) -> dict[str, str]:
        """Checked against the definition and ``s3_output_path`` (fields validated before)."""
        definition = info.data.get("pipeline_definition")
        if definition is None:  # refused already: that error is the one reported
            return {}
        values = validate_pipeline_parameters(value, definition)
        given = values.get(S3_OUTPUT_PATH_PARAMETER)
        output = info.data.get("s3_output_path")
        if output is not None and given is not None and given.rstrip("/") != output:
            raise InvalidInputError(
                "pipeline_parameters",
                f"s3_output_path {output!r} and pipeline_parameters[{S3_OUTPUT_PATH_PARAMETER!r}] "
                f"{given!r} disagree",
            )
        return values

    @model_validator(mode="after")
    def _fits_the_definition(self) -> StartRequest:
        """The definition can produce this type's results, and every required parameter has a value."""
        steps = kind_of(self.eval_type).result_steps
        if not any(step.value in self.pipeline_definition.step_names for step in steps):
            raise InvalidInputError(
                "pipeline_definition",
                f"pipeline_definition has no {' or '.join(s.value for s in steps)} step, so it cannot "
                f"produce the results of a {self.eval_type.value} evaluation "
                f"(its steps: {', '.join(self.pipeline_definition.step_names)})",
            )
        validate_required_parameters(self.execution_parameters(), self.pipeline_definition)
        return self

    @field_validator("pipeline_name_fields", mode="before")
    @classmethod
    def _name_fields(cls, value: Any, info: ValidationInfo) -> tuple[tuple[str | int, ...], ...] | None:
        """Each position exists in the definition and holds a string (checked before any AWS call)."""
        definition = info.data.get("pipeline_definition")
        if value is None or definition is None:
            return None if value is None else ()
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise InvalidInputError("pipeline_name_fields", "pipeline_name_fields must be a list of paths")
        paths = []
        for path in value:
            if isinstance(path, (str, bytes)) or not isinstance(path, (list, tuple)) or not path:
                raise InvalidInputError(
                    "pipeline_name_fields", f"pipeline_name_fields holds {path!r}, not a non-empty path"
                )
            if not isinstance(value_at(definition.document, tuple(path)), str):
                raise InvalidInputError(
                    "pipeline_name_fields",
                    f"pipeline_name_fields: {list(path)!r} is no string field of the pipeline_definition",
                )
            paths.append(tuple(path))
        return tuple(paths)

    @model_validator(mode="after")
    def _role_in_region(self) -> StartRequest:
        if self.region is not None:
            check_role_partition(self.role_arn, self.region)
        return self

    def execution_parameters(self) -> dict[str, str]:
        """The parameters StartPipelineExecution sends: ``s3_output_path`` fills ``S3OutputPath``
        when the definition declares it."""
        values = dict(self.pipeline_parameters)
        if self.s3_output_path is not None and self.pipeline_definition.declares_parameter(
            S3_OUTPUT_PATH_PARAMETER
        ):
            values[S3_OUTPUT_PATH_PARAMETER] = self.s3_output_path
        return values


def value_at(document: Any, path: tuple[str | int, ...]) -> Any:
    """The value at ``path`` (keys and list indexes) in ``document``; None when there is none."""
    node: Any = document
    for step in path:
        if isinstance(node, dict):
            found = isinstance(step, str) and step in node
        else:
            found = (
                isinstance(node, list)
                and isinstance(step, int)
                and not isinstance(step, bool)
                and 0 <= step < len(node)
            )
        if not found:
            return None
        node = node[step]
    return node


def check_role_partition(role_arn: str, region: str) -> None:
    """InvalidInputError naming ``role_arn`` when it is of another partition than ``region``."""
    try:
        validate_role_arn(role_arn, region=region)
    except ValueError as error:
        raise InvalidInputError("role_arn", str(error)) from None


def input_error(error: ValidationError) -> InvalidInputError:
    """The first refused input of ``error`` as an InvalidInputError naming it."""
    first = error.errors()[0]
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, InvalidInputError):
        return cause
    field = str(first["loc"][0]) if first["loc"] else "request"
    if isinstance(cause, ValueError):
        return InvalidInputError(field, str(cause))
    return InvalidInputError(field, f"{field}: {first['msg']}")
