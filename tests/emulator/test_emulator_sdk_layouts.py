"""The emulator's result files against the SDK's layouts as stated by hand in tests/fixtures/sdk_results.

Keys and shapes are checked against the fixtures' literal patterns and files, not against the
provider's layout helpers that the emulator itself writes with.
"""

from __future__ import annotations

import pytest
from emulator_harness import BUCKET, Harness

from airflow_provider_sm_eval.evaluation.constants import EvalType
from tests.fixtures.sdk_layouts import CASES, documents, fixture_objects, load_case, match_layout, shape

ROOT = "sdk-layout"


@pytest.mark.parametrize("case", CASES)
def test_emulator_writes_the_sdk_keys_and_shapes(harness: Harness, case: str) -> None:
    spec = load_case(case)
    harness.emu.examples = 3
    arn = harness.start(harness.create(EvalType(spec["eval_type"])), prefix=ROOT)
    assert harness.wait_terminal(arn)["PipelineExecutionStatus"] == "Succeeded"
    steps = harness.steps(arn)
    jobs = {step: steps[step]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[1] for step in spec["jobs"]}
    written = {key.removeprefix(f"{ROOT}/"): key for key in harness.keys(f"{ROOT}/")}

    found = match_layout(spec, jobs, written)
    assert sorted(found.values()) == sorted(written), "the emulator wrote keys outside the SDK's layout"

    sdk_files = fixture_objects(case)
    sdk_keys = match_layout(spec, spec["jobs"], sdk_files)
    for (step, index), key in found.items():
        entry = spec["layout"][index]
        body = harness.s3.get_object(Bucket=BUCKET, Key=written[key])["Body"].read()
        ours = shape(documents(key, body), entry)
        sdk = shape(documents(sdk_keys[(step, index)], sdk_files[sdk_keys[(step, index)]]), entry)
        assert ("missing" not in {kind for _, kind in sdk}) and len(sdk) > len(entry["fields"])
        assert sdk - ours == set(), f"{key}: fields of the SDK's file missing or of another type"
