"""One validator per start input, shared by the core and the Airflow layer.

Each returns the value in the form SageMaker takes it, or raises :class:`InvalidInputError`
naming the input (``name``) and what is wrong, before anything is sent to AWS.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from airflow_provider_sm_eval.evaluation.constants import (
    EVALUATION_TAG_KEY,
    EVALUATION_TAG_VALUE,
    S3_OUTPUT_PATH_PARAMETER,
)
from airflow_provider_sm_eval.evaluation.definition import PipelineDefinition
from airflow_provider_sm_eval.evaluation.exceptions import InvalidInputError
from airflow_provider_sm_eval.evaluation.s3_layout import parse_s3_uri

_DISPLAY_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}$")
#: The evaluation name leaves room for the ``-{unix_time}`` suffix of the display name.
_EVALUATION_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,70}$")
MIN_TOKEN, MAX_TOKEN = 32, 128
MAX_DESCRIPTION = 3072
_MAX_TAG_KEY = 128
_MAX_TAG_VALUE = 256
_MAX_TAGS = 50
_MAX_PARAMETER_VALUE = 1024
#: SageMaker's tag key pattern; keys starting with ``aws:`` are reserved for AWS.
_TAG_KEY = re.compile(r"^[\w\s.:/=+\-@]+$")
_RESERVED_TAG_PREFIX = "aws:"

TagsInput = Mapping[str, str] | list[dict[str, str]]


def validate_evaluation_name(value: Any, *, name: str = "name") -> str:
    if not isinstance(value, str) or not _EVALUATION_NAME.match(value):
        raise InvalidInputError(
            name,
            f"{name} {value!r} must be 1-71 letters or digits, optionally joined by hyphens "
            "(it becomes the execution display name with a -{unix_time} suffix)",
        )
    return value


def validate_display_name(value: Any, *, name: str = "display_name") -> str:
    if not isinstance(value, str) or not _DISPLAY_NAME.match(value):
        raise InvalidInputError(
            name, f"{name} {value!r} must be 1-82 letters or digits, optionally joined by hyphens"
        )
    return value


def validate_description(value: Any, *, name: str = "description") -> str:
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION:
        raise InvalidInputError(name, f"{name} must be a string of at most {MAX_DESCRIPTION} characters")
    return value


def validate_client_request_token(value: Any, *, name: str = "client_request_token") -> str:
    if not isinstance(value, str) or not MIN_TOKEN <= len(value) <= MAX_TOKEN:
        raise InvalidInputError(name, f"{name} must be a string of {MIN_TOKEN}-{MAX_TOKEN} characters")
    return value


def fresh_token() -> str:
    """A new idempotency token."""
    return f"sm-eval-{uuid.uuid4()}"


def validate_tags(tags: TagsInput | None, *, name: str = "tags") -> list[dict[str, str]]:
    """The user's tags as a SageMaker ``Tags`` list.

    The evaluation tag itself may be repeated with its value but not given another value.
    """
    if tags is None:
        return []
    if isinstance(tags, Mapping):
        pairs = list(tags.items())
    elif isinstance(tags, list):
        pairs = []
        for index, tag in enumerate(tags):
            if not isinstance(tag, dict) or set(tag) != {"Key", "Value"}:
                raise InvalidInputError(
                    name, f"{name}[{index}] must be a dict with exactly 'Key' and 'Value'"
                )
            pairs.append((tag["Key"], tag["Value"]))
    else:
        raise InvalidInputError(name, f"{name} must be a dict or a list of {{'Key', 'Value'}} dicts")
    result: list[dict[str, str]] = []
    for key, value in pairs:
        if not isinstance(key, str) or not 1 <= len(key) <= _MAX_TAG_KEY or not _TAG_KEY.match(key):
            raise InvalidInputError(
                name,
                f"{name} key {key!r} must be 1-{_MAX_TAG_KEY} letters, digits, spaces or _ . : / = + - @",
            )
        if key.lower().startswith(_RESERVED_TAG_PREFIX):
            raise InvalidInputError(
                name, f"{name} key {key!r}: keys starting with 'aws:' are reserved for AWS"
            )
        if not isinstance(value, str) or len(value) > _MAX_TAG_VALUE:
            raise InvalidInputError(
                name, f"{name} value of {key!r} must be a string of at most {_MAX_TAG_VALUE} characters"
            )
        if key == EVALUATION_TAG_KEY:
            if value != EVALUATION_TAG_VALUE:
                raise InvalidInputError(name, f"{name} may not set {EVALUATION_TAG_KEY} to {value!r}")
            continue
        result.append({"Key": key, "Value": value})
    if len(result) + 1 > _MAX_TAGS:
        raise InvalidInputError(
            name, f"{name} has {len(result)} tags; at most {_MAX_TAGS - 1} fit beside the evaluation tag"
        )
    return result


def validate_pipeline_parameters(
    parameters: Mapping[str, str | int | float] | None,
    definition: PipelineDefinition,
    *,
    name: str = "pipeline_parameters",
) -> dict[str, str]:
    """Parameter values as the strings SageMaker takes; each must be declared by ``definition``."""
    if parameters is not None and not isinstance(parameters, Mapping):
        raise InvalidInputError(name, f"{name} must be a dict of parameter name to value")
    values: dict[str, str] = {}
    for key, value in (parameters or {}).items():
        if not definition.declares_parameter(key):
            raise InvalidInputError(
                name, f"{name} names {key!r}, which the pipeline definition does not declare"
            )
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise InvalidInputError(name, f"{name}[{key!r}] must be a string or a number, got {value!r}")
        if len(str(value)) > _MAX_PARAMETER_VALUE:
            raise InvalidInputError(name, f"{name}[{key!r}] is longer than {_MAX_PARAMETER_VALUE} characters")
        text = str(value)
        _check_parameter_type(text, definition.parameter_types.get(key, "String"), f"{name}[{key!r}]", name)
        if key == S3_OUTPUT_PATH_PARAMETER:
            try:
                text = str(parse_s3_uri(text, name=f"{name}[{key!r}]"))
            except ValueError as error:
                raise InvalidInputError(name, str(error)) from None
        values[key] = text
    return values


def validate_required_parameters(
    values: Mapping[str, str], definition: PipelineDefinition, *, name: str = "pipeline_parameters"
) -> None:
    """Every parameter the definition declares without a default must have a value."""
    missing = sorted(definition.required_parameters - values.keys())
    if missing:
        raise InvalidInputError(
            name,
            f"{name} gives no value for {', '.join(map(repr, missing))}, which the pipeline definition "
            "declares without a DefaultValue",
        )


def _check_parameter_type(value: str, kind: str, label: str, name: str) -> None:
    """``value`` must parse as the parameter's declared ``Integer``, ``Float`` or ``Boolean``."""
    try:
        if kind == "Integer":
            int(value)
        elif kind == "Float":
            float(value)
        elif kind == "Boolean" and value.lower() not in ("true", "false"):
            raise ValueError(value)
    except ValueError:
        raise InvalidInputError(
            name, f"{label} {value!r} is not a valid {kind}, as the definition declares"
        ) from None
