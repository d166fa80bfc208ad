"""Definition parsing, the step graph and value resolution (no server)."""

from __future__ import annotations

import json

import pytest
from emulator_harness import definition

from airflow_provider_sm_eval.evaluation.constants import S3_OUTPUT_PATH_PARAMETER, StepName
from sagemaker_eval_emulator.definition import parse_definition, resolve
from sagemaker_eval_emulator.errors import ValidationException


@pytest.mark.parametrize("kind", ["benchmark", "custom_scorer", "llm_as_judge"])
def test_example_definitions_parse_and_route_outputs_through_the_parameter(kind: str) -> None:
    parsed = parse_definition(definition(kind))
    assert json.loads(parsed.text)["Version"] == "2020-12-01"
    assert S3_OUTPUT_PATH_PARAMETER in parsed.parameters
    training = [s for s in parsed.steps.values() if s.type == "Training"]
    assert training
    for step in training:
        assert step.arguments["OutputDataConfig"]["S3OutputPath"] == {
            "Get": f"Parameters.{S3_OUTPUT_PATH_PARAMETER}"
        }


def test_get_references_to_steps_are_dependencies() -> None:
    parsed = parse_definition(definition("llm_as_judge"))
    metrics = parsed.steps[StepName.EVALUATE_BASE_MODEL_METRICS.value]
    assert metrics.depends_on == {StepName.EVALUATE_BASE_INFERENCE_MODEL.value}
    lineage = parsed.steps[StepName.ASSOCIATE_LINEAGE.value]
    assert lineage.depends_on == {
        StepName.CREATE_EVALUATION_ACTION.value,  # DependsOn: the action its associations point to
        StepName.EVALUATE_BASE_MODEL_METRICS.value,
        StepName.EVALUATE_CUSTOM_MODEL_METRICS.value,
    }


def test_bind_parameters_uses_defaults_and_requires_the_rest() -> None:
    parsed = parse_definition(definition("benchmark"))
    values = parsed.bind_parameters([{"Name": "S3OutputPath", "Value": "s3://b/p"}])
    assert values["S3OutputPath"] == "s3://b/p"
    assert values["Benchmark"] == "mmlu"
    with pytest.raises(ValidationException, match="S3OutputPath"):
        parsed.bind_parameters(None)


def test_resolve_replaces_known_references_and_joins() -> None:
    value = {
        "path": {"Get": "Parameters.Root"},
        "joined": {"Std:Join": {"On": "/", "Values": [{"Get": "Parameters.Root"}, "x", 1]}},
        "later": {"Get": "Steps.A.TrainingJobName"},
        "list": [{"Get": "Execution.PipelineExecutionId"}],
    }
    resolved = resolve(value, {"Parameters.Root": "s3://b", "Execution.PipelineExecutionId": "abc"})
    assert resolved == {
        "path": "s3://b",
        "joined": "s3://b/x/1",
        "later": {"Get": "Steps.A.TrainingJobName"},
        "list": ["abc"],
    }
