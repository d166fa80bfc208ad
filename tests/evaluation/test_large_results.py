"""Large LLM-as-judge result files are read with bounded memory: 100,000 records are summarized,
a 64 MiB line without a newline is refused once it passes the maximum line size.

S3 (the emulator's moto) runs in another process so that tracemalloc measures only the reader's memory.
"""

from __future__ import annotations

import json
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from evaluation_helpers import (
    BASE_METRICS_STEP,
    CUSTOM_METRICS_STEP,
    REGION,
    judge_record,
    llmaj_result,
    succeeded_execution,
)

from airflow_provider_sm_eval.evaluation.clients import AwsClients
from airflow_provider_sm_eval.evaluation.constants import EvalType
from airflow_provider_sm_eval.evaluation.exceptions import ResultFileError
from airflow_provider_sm_eval.evaluation.results.s3_objects import MAX_JSONL_LINE_BYTES
from airflow_provider_sm_eval.evaluation.s3_layout import S3Uri
from sagemaker_eval_emulator.child_process import emulator_process

#: One pytest-xdist worker runs the whole module: its module-scoped emulator process starts once.
pytestmark = pytest.mark.xdist_group(__name__)

RECORDS = 100_000
#: The base file is shorter: pairs stop at the shorter file while the longer one is still counted.
BASE_RECORDS = 1_000


@pytest.fixture(scope="module")
def s3_in_other_process() -> Iterator[Any]:
    with emulator_process(quiet=True, publish_events=False) as process:
        yield process.client("s3", region_name=REGION)


def write_records(path: Path, count: int, custom: bool) -> None:
    with path.open("w") as handle:
        for index in range(count):
            better = (index % 3 == 0) == custom
            scores = {"Correctness": 0.9 if better else 0.4, "Helpfulness": 0.6}
            record = judge_record(f"Question number {index}?", f"Answer number {index}.", scores)
            handle.write(json.dumps(record) + "\n")


def test_summary_of_100k_records_streams(s3_in_other_process: Any, tmp_path: Path) -> None:
    s3 = s3_in_other_process
    root = S3Uri(f"large-{uuid.uuid4().hex[:12]}", "run")
    s3.create_bucket(Bucket=root.bucket)
    aggregate = {"Correctness": {"score": 0.7, "std_deviation": 0.2, "total_evaluations": RECORDS}}
    sizes = {}
    for role, custom, count in (("custom", True, RECORDS), ("base", False, BASE_RECORDS)):
        _, examples = llmaj_result(
            s3,
            root,
            job_name=f"{role}-metrics",
            judge_job_name=f"judge-{role}",
            aggregate=aggregate,
            records=[],
        )
        path = tmp_path / f"{role}.jsonl"
        write_records(path, count, custom)
        sizes[role] = path.stat().st_size
        s3.upload_file(str(path), examples.bucket, examples.key)
    execution = succeeded_execution(
        EvalType.LLM_AS_JUDGE,
        root,
        {CUSTOM_METRICS_STEP: "custom-metrics", BASE_METRICS_STEP: "base-metrics"},
    )

    tracemalloc.start()
    try:
        summary = execution.summary(clients=AwsClients(s3_client=s3))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert summary.example_counts == {"custom": RECORDS, "base": BASE_RECORDS}
    assert summary.win_rates is not None
    assert summary.win_rates.pairs == BASE_RECORDS
    assert summary.win_rates.custom_wins == (BASE_RECORDS + 2) // 3
    assert summary.win_rates.base_wins == BASE_RECORDS - (BASE_RECORDS + 2) // 3
    assert peak < sizes["custom"] / 5, f"peak {peak} bytes for a file of {sizes['custom']} bytes"


def test_a_64_mib_line_without_newline_is_refused_with_bounded_memory(
    s3_in_other_process: Any, tmp_path: Path
) -> None:
    s3 = s3_in_other_process
    root = S3Uri(f"large-{uuid.uuid4().hex[:12]}", "run")
    s3.create_bucket(Bucket=root.bucket)
    aggregate = {"Correctness": {"score": 0.7, "std_deviation": 0.2, "total_evaluations": 1}}
    _, examples = llmaj_result(
        s3, root, job_name="custom-metrics", judge_job_name="judge-custom", aggregate=aggregate, records=[]
    )
    path = tmp_path / "one-line.jsonl"
    size = 64 * 1024 * 1024
    with path.open("wb") as handle:
        handle.write(b'{"inputRecord": {"prompt": "')
        for _ in range(size // (1024 * 1024)):
            handle.write(b"x" * (1024 * 1024))
    s3.upload_file(str(path), examples.bucket, examples.key)
    execution = succeeded_execution(EvalType.LLM_AS_JUDGE, root, {CUSTOM_METRICS_STEP: "custom-metrics"})

    tracemalloc.start()
    try:
        with pytest.raises(ResultFileError) as caught:
            execution.summary(clients=AwsClients(s3_client=s3))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert caught.value.s3_uri == str(examples)
    assert f"line 1 is longer than the maximum line size of {MAX_JSONL_LINE_BYTES} bytes" in str(caught.value)
    assert peak < 3 * MAX_JSONL_LINE_BYTES < size, f"peak {peak} bytes reading a {size}-byte line"
