"""Pipeline definitions: accepted as dict, JSON string or file; invalid ones named and explained."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_sm_eval.evaluation.constants import S3_OUTPUT_PATH_PARAMETER
from airflow_provider_sm_eval.evaluation.definition import load_pipeline_definition

DEFINITIONS = Path(__file__).parents[2] / "example_dags" / "pipeline_definitions"


def minimal() -> dict[str, Any]:
    return {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "S3OutputPath", "Type": "String"}],
        "Steps": [
            {"Name": "CreateEvaluationAction", "Type": "Lineage", "Arguments": {}},
            {
                "Name": "EvaluateCustomModel",
                "Type": "Training",
                "DependsOn": ["CreateEvaluationAction"],
                "Arguments": {"OutputDataConfig": {"S3OutputPath": {"Get": "Parameters.S3OutputPath"}}},
            },
            {
                "Name": "AssociateLineage",
                "Type": "Lineage",
                "Arguments": {"Source": {"Get": "Steps.EvaluateCustomModel.ModelArtifacts.S3ModelArtifacts"}},
            },
        ],
    }


@pytest.mark.parametrize("file_name", ["benchmark.json", "custom_scorer.json", "llm_as_judge.json"])
def test_example_definitions_load_from_path_string_and_dict(file_name: str) -> None:
    path = DEFINITIONS / file_name
    from_path = load_pipeline_definition(path)
    from_path_text = load_pipeline_definition(str(path))
    from_json = load_pipeline_definition(path.read_text())
    from_dict = load_pipeline_definition(json.loads(path.read_text()))
    assert from_path == from_path_text == from_json == from_dict
    assert from_path.declares_parameter(S3_OUTPUT_PATH_PARAMETER)
    assert "CreateEvaluationAction" in from_path.step_names
    assert json.loads(from_path.to_json()) == json.loads(path.read_text())


def _broken(change: Any) -> dict[str, Any]:
    document = minimal()
    change(document)
    return document


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ('{"Steps": [', "pipeline_definition is not valid JSON"),
        ("[]", "must be a JSON object"),
        (_broken(lambda d: d.pop("Steps")), "non-empty 'Steps' list"),
        (_broken(lambda d: d.update(Steps={})), "non-empty 'Steps' list"),
        (_broken(lambda d: d.update(Steps=[])), "non-empty 'Steps' list"),
        (_broken(lambda d: d.update(Version="2019-01-01")), "Version '2019-01-01'"),
        (_broken(lambda d: d["Steps"].append(copy.deepcopy(d["Steps"][0]))), "two steps named"),
        (_broken(lambda d: d["Steps"][0].update(Name="bad name!")), "Steps[0] has Name 'bad name!'"),
        (_broken(lambda d: d["Steps"][0].pop("Type")), "has no string 'Type'"),
        (_broken(lambda d: d["Steps"][1].update(DependsOn=["Nope"])), "depends on unknown step 'Nope'"),
        (
            _broken(lambda d: d["Steps"][1].update(DependsOn="CreateEvaluationAction")),
            "'DependsOn' must be a list",
        ),
        (
            _broken(lambda d: d["Steps"][1].update(DependsOn=["EvaluateCustomModel"])),
            "depends on itself",
        ),
        (
            _broken(lambda d: d["Steps"][2]["Arguments"].update(X={"Get": "Steps.Missing.Arn"})),
            "references unknown step 'Missing'",
        ),
        (_broken(lambda d: d.update(Parameters=[])), "undeclared parameter 'S3OutputPath'"),
        (
            _broken(lambda d: d["Parameters"].append({"Name": "S3OutputPath", "Type": "String"})),
            "declares parameter 'S3OutputPath' twice",
        ),
        (_broken(lambda d: d["Parameters"].append({"Name": "X", "Type": "Blob"})), "has Type 'Blob'"),
        ({"Steps": [{"Name": "A", "Type": "Lineage", "Arguments": {"x": {1, 2}}}]}, "not JSON-serializable"),
        (42, "must be a dict, a JSON string or a file path"),
    ],
)
def test_invalid_definitions_raise_value_error_naming_the_input(definition: Any, message: str) -> None:
    with pytest.raises(ValueError, match="pipeline_definition") as caught:
        load_pipeline_definition(definition)
    assert message in str(caught.value)


def test_missing_file_and_bad_file_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=r"pipeline_definition file '.*bad\.json' is not valid JSON"):
        load_pipeline_definition(bad)
    with pytest.raises(ValueError, match="cannot be read"):
        load_pipeline_definition(tmp_path / "missing.json")
    with pytest.raises(ValueError, match=r"file 'definitions/missing\.json' cannot be read"):
        load_pipeline_definition("definitions/missing.json")


def test_execution_references_are_allowed() -> None:
    document = minimal()
    document["Steps"][0]["Arguments"] = {"Name": {"Get": "Execution.PipelineExecutionId"}}
    assert load_pipeline_definition(document).step_names[0] == "CreateEvaluationAction"
