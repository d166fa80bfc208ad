"""Loading and validating SageMaker pipeline definitions before anything is sent to AWS.

A definition is accepted as a dict, a JSON string or the path of a JSON file. Problems raise
ValueError naming the input and what is wrong with it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any, TypeAlias

from airflow_provider_sm_eval.evaluation.constants import PIPELINE_DEFINITION_VERSION

PipelineDefinitionInput: TypeAlias = Mapping[str, Any] | str | PathLike[str]

#: SageMaker's limit on an inline ``PipelineDefinition``.
MAX_DEFINITION_CHARS = 1_048_576
_STEP_NAME = re.compile(r"^[A-Za-z0-9\-_]{1,64}$")
_PARAMETER_TYPES = frozenset({"String", "Integer", "Float", "Boolean"})


@dataclass(frozen=True)
class PipelineDefinition:
    """A validated pipeline definition and the facts read from it."""

    document: dict[str, Any]
    step_names: tuple[str, ...]
    parameter_names: frozenset[str]
    #: Declared ``Type`` of each parameter (``String`` when absent).
    parameter_types: Mapping[str, str]
    #: Parameters without a ``DefaultValue``: a start must give them.
    required_parameters: frozenset[str]

    def to_json(self) -> str:
        return json.dumps(self.document, separators=(",", ":"))

    def declares_parameter(self, name: str) -> bool:
        return name in self.parameter_names


def load_pipeline_definition(
    definition: PipelineDefinitionInput, *, name: str = "pipeline_definition"
) -> PipelineDefinition:
    """Parse and validate ``definition``; raise ValueError naming ``name`` when it is unusable."""
    document = _as_document(definition, name)
    if not isinstance(document, dict):
        raise ValueError(f"{name} must be a JSON object, got {type(document).__name__}")
    version = document.get("Version", PIPELINE_DEFINITION_VERSION)
    if version != PIPELINE_DEFINITION_VERSION:
        raise ValueError(f"{name} has Version {version!r}; expected {PIPELINE_DEFINITION_VERSION!r}")
    parameter_types, required = _parameters(document.get("Parameters", []), name)
    parameters = frozenset(parameter_types)
    steps = document.get("Steps")
    if not isinstance(steps, list) or not steps:
        raise ValueError(f"{name} must have a non-empty 'Steps' list")
    step_names = _step_names(steps, name)
    for step in steps:
        _check_references(step, set(step_names), parameters, name)
    _check_acyclic(steps, name)
    text_length = len(json.dumps(document, separators=(",", ":")))
    if text_length > MAX_DEFINITION_CHARS:
        raise ValueError(f"{name} is {text_length} characters long; SageMaker accepts {MAX_DEFINITION_CHARS}")
    return PipelineDefinition(document, step_names, parameters, parameter_types, required)


def _as_document(definition: PipelineDefinitionInput, name: str) -> Any:
    if isinstance(definition, Mapping):
        try:
            return json.loads(json.dumps(definition))
        except (TypeError, ValueError) as error:
            raise ValueError(f"{name} is not JSON-serializable: {error}") from None
    if isinstance(definition, PathLike):
        return _read_file(Path(definition), name)
    if not isinstance(definition, str):
        raise ValueError(
            f"{name} must be a dict, a JSON string or a file path, got {type(definition).__name__}"
        )
    text = definition.strip()
    if not text.startswith(("{", "[")) and len(text) < 4096:
        path = Path(text)
        if path.is_file() or path.suffix == ".json":
            return _read_file(path, name)
    return _parse_json(text, name)


def _read_file(path: Path, name: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"{name} file {str(path)!r} cannot be read: {error.strerror}") from None
    return _parse_json(text, f"{name} file {str(path)!r}")


def _parse_json(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{name} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None


def _parameters(parameters: Any, name: str) -> tuple[dict[str, str], frozenset[str]]:
    """The declared type of each parameter, and the parameters without a default."""
    if not isinstance(parameters, list):
        raise ValueError(f"{name} 'Parameters' must be a list")
    types: dict[str, str] = {}
    required: set[str] = set()
    for index, parameter in enumerate(parameters):
        if not isinstance(parameter, dict) or not isinstance(parameter.get("Name"), str):
            raise ValueError(f"{name} Parameters[{index}] must be an object with a string 'Name'")
        kind = parameter.get("Type", "String")
        if kind not in _PARAMETER_TYPES:
            raise ValueError(
                f"{name} parameter {parameter['Name']!r} has Type {kind!r}; "
                f"expected one of {', '.join(sorted(_PARAMETER_TYPES))}"
            )
        if parameter["Name"] in types:
            raise ValueError(f"{name} declares parameter {parameter['Name']!r} twice")
        types[parameter["Name"]] = kind
        if parameter.get("DefaultValue") is None:
            required.add(parameter["Name"])
    return types, frozenset(required)


def _step_names(steps: list[Any], name: str) -> tuple[str, ...]:
    names: list[str] = []
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            raise ValueError(f"{name} Steps[{index}] must be an object")
        step_name = step.get("Name")
        if not isinstance(step_name, str) or not _STEP_NAME.match(step_name):
            raise ValueError(
                f"{name} Steps[{index}] has Name {step_name!r}; expected 1-64 letters, digits, '-' or '_'"
            )
        if not isinstance(step.get("Type"), str):
            raise ValueError(f"{name} step {step_name!r} has no string 'Type'")
        if step_name in names:
            raise ValueError(f"{name} has two steps named {step_name!r}")
        names.append(step_name)
    return tuple(names)


def _check_references(step: dict[str, Any], steps: set[str], parameters: frozenset[str], name: str) -> None:
    step_name = step["Name"]
    depends_on = step.get("DependsOn", [])
    if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
        raise ValueError(f"{name} step {step_name!r} 'DependsOn' must be a list of step names")
    for target in depends_on:
        if target == step_name:
            raise ValueError(f"{name} step {step_name!r} depends on itself")
        if target not in steps:
            raise ValueError(f"{name} step {step_name!r} depends on unknown step {target!r}")
    for reference in _get_references(step.get("Arguments", {})):
        kind, _, rest = reference.partition(".")
        target = rest.split(".", 1)[0].split("[", 1)[0]
        if kind == "Steps" and target not in steps:
            raise ValueError(f"{name} step {step_name!r} references unknown step {target!r} ({reference})")
        if kind == "Parameters" and target not in parameters:
            raise ValueError(
                f"{name} step {step_name!r} references undeclared parameter {target!r} ({reference})"
            )


def _check_acyclic(steps: list[dict[str, Any]], name: str) -> None:
    """Refuse a cycle of ``DependsOn`` and ``Get: Steps.X`` dependencies (SageMaker would refuse it)."""
    needs = {step["Name"]: _dependencies(step) for step in steps}
    done: set[str] = set()

    def visit(step_name: str, path: list[str]) -> None:
        if step_name in done:
            return
        if step_name in path:
            cycle = " -> ".join([*path[path.index(step_name) :], step_name])
            raise ValueError(f"{name} has a cycle of step dependencies: {cycle}")
        for target in sorted(needs[step_name]):
            visit(target, [*path, step_name])
        done.add(step_name)

    for step_name in needs:
        visit(step_name, [])


def _dependencies(step: dict[str, Any]) -> set[str]:
    """The steps ``step`` waits for: its ``DependsOn`` and the steps its ``Get`` references read."""
    targets = set(step.get("DependsOn", []))
    for reference in _get_references(step.get("Arguments", {})):
        kind, _, rest = reference.partition(".")
        if kind == "Steps":
            targets.add(rest.split(".", 1)[0].split("[", 1)[0])
    return targets


def _get_references(value: Any) -> Iterator[str]:
    """Every ``{"Get": "..."}`` reference string inside ``value``."""
    if isinstance(value, dict):
        if isinstance(value.get("Get"), str):
            yield value["Get"]
        for item in value.values():
            yield from _get_references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _get_references(item)
