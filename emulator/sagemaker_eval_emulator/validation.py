"""Requests checked against botocore's SageMaker service model, as SageMaker's front end checks them.

- An operation the model does not have is ``UnknownOperationException`` (HTTP 400).
- A member of the wrong JSON type (a number where a string goes, an object where a list goes, ...)
  is ``SerializationException`` (HTTP 400), the error of AWS JSON protocols for bodies that do not
  deserialize into the operation's input.
- A required member that is missing, and a value outside the member's constraints (length, range,
  enum, pattern), is ``ValidationException`` in AWS's wording: ``1 validation error detected:
  Value 'x' at 'pipelineName' failed to satisfy constraint: Member must ...``.

Only the model decides, so the checks cover every operation, the emulator's and moto's alike.
"""

from __future__ import annotations

import functools
import re
import threading
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

from sagemaker_eval_emulator.errors import (
    SerializationException,
    UnknownOperationException,
    ValidationException,
)

_MAX_REPORTED = 10
_CONSTRAINT = "failed to satisfy constraint"
_model_lock = threading.Lock()


@functools.cache
def sagemaker_model() -> ServiceModel:
    import botocore.session

    with _model_lock:
        return botocore.session.get_session().get_service_model("sagemaker")


def max_definition_length() -> int:
    """The longest pipeline definition SageMaker takes (``PipelineDefinition``'s ``max``).

    It bounds definitions read from ``PipelineDefinitionS3Location`` too: DescribePipeline returns
    them in a ``PipelineDefinition`` member of the same shape.
    """
    return int(sagemaker_model().shape_for("PipelineDefinition").metadata["max"])


@functools.cache
def _operation_names() -> frozenset[str]:
    return frozenset(sagemaker_model().operation_names)


def operation_model(operation: str) -> OperationModel:
    """The model of a SageMaker operation; UnknownOperationException when there is none."""
    if operation not in _operation_names():
        raise UnknownOperationException(f"Operation {operation!r} is not an operation of SageMaker")
    return sagemaker_model().operation_model(operation)


def validate(operation: str, params: dict[str, Any]) -> None:
    """Raise the error SageMaker gives for ``params`` of ``operation`` when they do not fit its input."""
    shape = operation_model(operation).input_shape
    if shape is None:
        return
    problems: list[str] = []
    _check(shape, params, "", problems)
    if problems:
        shown = problems[:_MAX_REPORTED]
        count = len(problems)
        raise ValidationException(
            f"{count} validation error{'s' if count > 1 else ''} detected: {'; '.join(shown)}"
        )


def _check(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    """Add constraint violations to ``problems``; raise SerializationException on a type mismatch."""
    kind = shape.type_name
    if not _has_type(kind, value):
        raise SerializationException(
            f"Expected {_article(kind)} {kind} at '{path or 'the request body'}', got {type(value).__name__} "
            f"{_shown(value)}"
        )
    if isinstance(shape, StructureShape):
        for name in shape.required_members:
            if value.get(name) is None:
                problems.append(f"Value null at '{_join(path, name)}' {_CONSTRAINT}: Member must not be null")
        for name, item in value.items():
            member = shape.members.get(name)
            if member is not None and item is not None:
                _check(member, item, _join(path, name), problems)
        return
    if kind in ("list", "map", "string", "integer", "long", "float", "double"):
        problems.extend(_range_problems(shape, value, path))
    if kind == "list":
        for index, item in enumerate(value, start=1):
            _check(shape.member, item, f"{path}.{index}.member", problems)  # type: ignore[attr-defined]
        return
    if kind == "map":
        for key, item in value.items():
            _check(shape.key, key, f"{path}.{key}.key", problems)  # type: ignore[attr-defined]
            _check(shape.value, item, f"{path}.{key}.value", problems)  # type: ignore[attr-defined]
        return
    if kind == "string":
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            problems.append(f"{_at(value, path)}: Member must satisfy enum value set: [{', '.join(enum)}]")
        pattern = shape.metadata.get("pattern")
        if pattern and (compiled := _pattern(pattern)) is not None and compiled.fullmatch(value) is None:
            problems.append(f"{_at(value, path)}: Member must satisfy regular expression pattern: {pattern}")


def _has_type(kind: str, value: Any) -> bool:
    if kind in {"structure", "map"}:
        return isinstance(value, dict)
    if kind == "list":
        return isinstance(value, list)
    if kind in ("string", "blob"):
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("integer", "long"):
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("float", "double"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "timestamp":  # epoch seconds, as botocore sends them, or an ISO 8601 string
        return isinstance(value, int | float | str) and not isinstance(value, bool)
    return True


def _range_problems(shape: Shape, value: Any, path: str) -> list[str]:
    """Length (strings, lists, maps) or value (numbers) outside the shape's ``min`` / ``max``."""
    numeric = shape.type_name in ("integer", "long", "float", "double")
    measure, what = (value, "value") if numeric else (len(value), "length")
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    problems = []
    if low is not None and measure < low:
        problems.append(f"{_at(value, path)}: Member must have {what} greater than or equal to {low}")
    if high is not None and measure > high:
        problems.append(f"{_at(value, path)}: Member must have {what} less than or equal to {high}")
    return problems


def _at(value: Any, path: str) -> str:
    return f"Value {_shown(value)} at '{path}' {_CONSTRAINT}"


@functools.cache
def _pattern(pattern: str) -> re.Pattern[str] | None:
    """The model's (Java) pattern compiled for Python; None when Python cannot read it."""
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:
        return None


def _join(path: str, member: str) -> str:
    """The path of a member, named as in the API (``PipelineParameters.1.member.Name``)."""
    return f"{path}.{member}" if path else member


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 100 else f"{text[:97]}..."


def _article(kind: str) -> str:
    return "an" if kind[:1] in "aeiou" else "a"
