"""Our readers against the SDK's result layouts as stated by hand in tests/fixtures/sdk_results.

The files are uploaded at their literal keys; no layout helper of the provider places them.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from evaluation_helpers import succeeded_execution

from airflow_provider_sm_eval.evaluation.constants import EvalType, StepName
from airflow_provider_sm_eval.evaluation.report import render_results, summarize
from airflow_provider_sm_eval.evaluation.s3_layout import S3Uri
from tests.fixtures.sdk_layouts import CASES, fixture_objects, load_case, match_layout


def upload(s3: Any, case: str, prefix: str) -> S3Uri:
    """A fresh bucket holding the case's files at ``prefix/<literal key>``; the output root."""
    bucket = f"sdk-layout-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    for key, body in fixture_objects(case).items():
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{key}" if prefix else key, Body=body)
    return S3Uri(bucket, prefix)


@pytest.mark.parametrize("prefix", ["evaluations/2026/run-7", ""])
@pytest.mark.parametrize("case", CASES)
def test_readers_summarize_the_sdk_files(s3: Any, case: str, prefix: str) -> None:
    spec = load_case(case)
    root = upload(s3, case, prefix)
    execution = succeeded_execution(
        EvalType(spec["eval_type"]), root, {StepName(step): job for step, job in spec["jobs"].items()}
    )
    expected = dict(spec["summary"], execution_arn=execution.arn)
    base = f"s3://{root.bucket}/{prefix}/" if prefix else f"s3://{root.bucket}/"
    expected["artifact_uris"] = [base + key for key in expected["artifact_uris"]]

    assert summarize(execution, s3).model_dump(mode="json") == expected


@pytest.mark.parametrize("case", CASES)
def test_fixture_layout_patterns_name_the_summarized_files(case: str) -> None:
    """The patterns the emulator is held to pick exactly the files the readers summarize."""
    spec = load_case(case)
    found = match_layout(spec, spec["jobs"], fixture_objects(case))
    assert sorted(found.values()) == sorted(spec["summary"]["artifact_uris"])


def test_llm_as_judge_examples_render_from_the_sdk_records(s3: Any) -> None:
    spec = load_case("llm_as_judge")
    root = upload(s3, "llm_as_judge", "judged")
    execution = succeeded_execution(
        EvalType.LLM_AS_JUDGE, root, {StepName(step): job for step, job in spec["jobs"].items()}
    )
    text = render_results(execution, s3, limit=2, offset=1, show_explanations=True)
    assert "Name a prime above 10." in text
    assert "15 is not prime." in text
    assert "What is 2 + 2?" not in text
