"""The emulator's own table of evaluation types against the pipelines the SDK creates.

The emulator does not import the provider's type registry; the SDK's definitions
(tests/fixtures/sdk_definitions) are what both are checked against.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sagemaker_eval_emulator.artifacts import EVALUATION_TYPES, eval_kind_of

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sdk_definitions"
#: The fixtures of pipelines the SDK created (some record a refusal and have no definition).
CASES = sorted(path.stem for path in FIXTURES.glob("*.json") if '"definition"' in path.read_text())
#: The SDK's evaluator class of each type the emulator knows, by pipeline name prefix.
EVALUATORS = {
    "SagemakerEvaluation-BenchmarkEvaluation": "BenchMarkEvaluator",
    "SagemakerEvaluation-CustomScorerEvaluation": "CustomScorerEvaluator",
    "SagemakerEvaluation-LLMAJEvaluation": "LLMAsJudgeEvaluator",
}


@pytest.mark.parametrize("case", CASES)
def test_the_sdks_pipeline_is_of_the_type_whose_steps_it_has(case: str) -> None:
    fixture = json.loads((FIXTURES / f"{case}.json").read_text())
    steps = [step["Name"] for step in fixture["definition"]["Steps"]]

    kind = eval_kind_of(fixture["pipeline_name"], steps)

    assert kind is not None
    assert EVALUATORS[kind.pipeline_name_prefix] == fixture["evaluator"]
    assert set(kind.result_steps) & set(steps)  # a base-only evaluation has the base step alone
    assert eval_kind_of(fixture["pipeline_name"].lower(), []) is kind  # as ARNs carry the name


def test_every_type_is_seen_in_the_sdk_fixtures() -> None:
    assert {kind.pipeline_name_prefix for kind in EVALUATION_TYPES} == set(EVALUATORS)
