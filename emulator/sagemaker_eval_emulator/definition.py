"""Pipeline definitions: parsing, validation, the step dependency graph and value resolution.

A definition is the JSON document of CreatePipeline (``Version``, ``Parameters``, ``Steps``).
Steps depend on the steps named in ``DependsOn`` and on every step referenced by a
``{"Get": "Steps.<Name>..."}`` value in their arguments.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sagemaker_eval_emulator.errors import ValidationException

PARAMETER_TYPES = ("String", "Integer", "Float", "Boolean")
_MAX_STEP_NAME = 64


@dataclass(frozen=True)
class ParameterSpec:
    """A declared pipeline parameter."""

    name: str
    type: str
    default: str | None


@dataclass(frozen=True)
class StepSpec:
    """One step of a definition and the names of the steps it waits for."""

    name: str
    type: str
    arguments: Mapping[str, Any]
    depends_on: frozenset[str]
    display_name: str | None
    description: str | None


@dataclass(frozen=True)
class PipelineDefinition:
    """A parsed, validated definition; ``steps`` keeps the document's order."""

    text: str
    parameters: Mapping[str, ParameterSpec]
    steps: Mapping[str, StepSpec]
    #: The definition's ``MlflowConfig`` (its training jobs report to that MLflow resource).
    mlflow_config: Mapping[str, Any] | None = None

    def bind_parameters(self, given: list[dict[str, str]] | None) -> dict[str, str]:
        """Values of all parameters for one execution: given ones over defaults.

        Raises ValidationException for an undeclared name, a duplicate, a value that does not
        fit the declared type, or a parameter without default that was not given.
        """
        values: dict[str, str] = {}
        for entry in given or []:
            name, value = entry.get("Name"), entry.get("Value")
            if not isinstance(name, str) or not isinstance(value, str):
                raise ValidationException("PipelineParameters entries need a string Name and Value")
            spec = self.parameters.get(name)
            if spec is None:
                raise ValidationException(
                    f"Pipeline parameter '{name}' is not declared in the pipeline definition "
                    f"(declared: {', '.join(self.parameters) or 'none'})"
                )
            if name in values:
                raise ValidationException(f"Pipeline parameter '{name}' is given more than once")
            _check_parameter_value(spec, value)
            values[name] = value
        for spec in self.parameters.values():
            if spec.name not in values:
                if spec.default is None:
                    raise ValidationException(
                        f"Pipeline parameter '{spec.name}' has no default value and was not given"
                    )
                values[spec.name] = spec.default
        return values


def parse_definition(text: str) -> PipelineDefinition:
    """Parse and validate a definition; raise ValidationException saying what is wrong."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationException(f"Unable to parse pipeline definition: invalid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise ValidationException("Unable to parse pipeline definition: the document is not a JSON object")
    parameters = _parse_parameters(document.get("Parameters", []))
    raw_steps = document.get("Steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ValidationException("Invalid pipeline definition: 'Steps' must be a non-empty list")
    steps: dict[str, StepSpec] = {}
    for index, raw in enumerate(raw_steps):
        step = _parse_step(raw, index)
        if step.name in steps:
            raise ValidationException(f"Invalid pipeline definition: duplicate step name '{step.name}'")
        steps[step.name] = step
    for step in steps.values():
        for ref in _references(step.arguments):
            _check_reference(ref, step.name, steps, parameters)
        unknown = sorted(step.depends_on - steps.keys())
        if unknown:
            raise ValidationException(
                f"Invalid pipeline definition: step '{step.name}' depends on unknown step(s) "
                f"{', '.join(repr(u) for u in unknown)}"
            )
        if step.name in step.depends_on:
            raise ValidationException(f"Invalid pipeline definition: step '{step.name}' depends on itself")
    _check_acyclic(steps)
    mlflow_config = document.get("MlflowConfig")
    if mlflow_config is not None and not isinstance(mlflow_config, dict):
        raise ValidationException("Invalid pipeline definition: 'MlflowConfig' must be an object")
    return PipelineDefinition(text=text, parameters=parameters, steps=steps, mlflow_config=mlflow_config)


def resolve(value: Any, context: Mapping[str, Any]) -> Any:
    """Replace ``Get`` references found in ``context`` and evaluate ``Std:Join``.

    ``context`` maps reference paths (``Parameters.X``, ``Execution.PipelineExecutionId``,
    ``Steps.S.TrainingJobName``...) to values; references it lacks are left as they are.
    """
    if isinstance(value, dict):
        if set(value) == {"Get"} and isinstance(value["Get"], str):
            return context.get(value["Get"], value)
        if set(value) == {"Std:Join"} and isinstance(value["Std:Join"], dict):
            join = value["Std:Join"]
            parts = [resolve(v, context) for v in join.get("Values", [])]
            if all(isinstance(p, str | int | float) for p in parts):
                return str(join.get("On", "")).join(str(p) for p in parts)
            return {"Std:Join": {**join, "Values": parts}}
        return {key: resolve(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, context) for item in value]
    return value


def _parse_parameters(raw: Any) -> dict[str, ParameterSpec]:
    if not isinstance(raw, list):
        raise ValidationException("Invalid pipeline definition: 'Parameters' must be a list")
    parameters: dict[str, ParameterSpec] = {}
    for entry in raw:
        if not isinstance(entry, dict) or not isinstance(entry.get("Name"), str) or not entry["Name"]:
            raise ValidationException("Invalid pipeline definition: every parameter needs a string 'Name'")
        name = entry["Name"]
        kind = entry.get("Type", "String")
        if kind not in PARAMETER_TYPES:
            raise ValidationException(
                f"Invalid pipeline definition: parameter '{name}' has type {kind!r}, "
                f"expected one of {', '.join(PARAMETER_TYPES)}"
            )
        if name in parameters:
            raise ValidationException(f"Invalid pipeline definition: duplicate parameter '{name}'")
        default = entry.get("DefaultValue")
        spec = ParameterSpec(name, kind, None if default is None else _stringify(default))
        if spec.default is not None:
            _check_parameter_value(spec, spec.default)
        parameters[name] = spec
    return parameters


def _parse_step(raw: Any, index: int) -> StepSpec:
    if not isinstance(raw, dict):
        raise ValidationException(f"Invalid pipeline definition: step #{index} is not an object")
    name = raw.get("Name")
    if not isinstance(name, str) or not name or len(name) > _MAX_STEP_NAME:
        raise ValidationException(
            f"Invalid pipeline definition: step #{index} needs a 'Name' of 1 to {_MAX_STEP_NAME} characters"
        )
    kind = raw.get("Type")
    if not isinstance(kind, str) or not kind:
        raise ValidationException(f"Invalid pipeline definition: step '{name}' needs a 'Type'")
    arguments = raw.get("Arguments", {})
    if not isinstance(arguments, dict):
        raise ValidationException(
            f"Invalid pipeline definition: 'Arguments' of step '{name}' is not an object"
        )
    depends = raw.get("DependsOn", [])
    if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
        raise ValidationException(
            f"Invalid pipeline definition: 'DependsOn' of step '{name}' must be a list of step names"
        )
    step_refs = {
        ref.split(".")[1] for ref in _references(arguments) if ref.startswith("Steps.") and "." in ref[6:]
    }
    return StepSpec(
        name=name,
        type=kind,
        arguments=arguments,
        depends_on=frozenset(depends) | step_refs,
        display_name=raw.get("DisplayName") if isinstance(raw.get("DisplayName"), str) else None,
        description=raw.get("Description") if isinstance(raw.get("Description"), str) else None,
    )


def _references(value: Any) -> list[str]:
    """Every ``Get`` path inside ``value``."""
    if isinstance(value, dict):
        if set(value) == {"Get"} and isinstance(value["Get"], str):
            return [value["Get"]]
        return [ref for item in value.values() for ref in _references(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in _references(item)]
    return []


def _check_reference(
    ref: str, step_name: str, steps: Mapping[str, StepSpec], parameters: Mapping[str, ParameterSpec]
) -> None:
    root, _, rest = ref.partition(".")
    if root == "Parameters" and rest in parameters:
        return
    if root == "Steps" and rest.split(".")[0] in steps and "." in rest:
        return
    if root == "Execution" and rest:
        return
    raise ValidationException(
        f"Invalid pipeline definition: step '{step_name}' references {ref!r}, "
        "which is not a declared parameter, a step property or an execution variable"
    )


def _check_acyclic(steps: Mapping[str, StepSpec]) -> None:
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = " -> ".join([*path[path.index(name) :], name])
            raise ValidationException(f"Invalid pipeline definition: cyclic step dependencies {cycle}")
        state[name] = 1
        for dep in sorted(steps[name].depends_on):
            visit(dep, [*path, name])
        state[name] = 2

    for name in steps:
        visit(name, [])


def _check_parameter_value(spec: ParameterSpec, value: str) -> None:
    try:
        if spec.type == "Integer":
            int(value)
        elif spec.type == "Float":
            float(value)
        elif spec.type == "Boolean" and value.lower() not in ("true", "false"):
            raise ValueError(value)
    except ValueError:
        raise ValidationException(
            f"Value {value!r} of pipeline parameter '{spec.name}' is not a valid {spec.type}"
        ) from None


def _stringify(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
