"""Where evaluation jobs write their results in S3: the one definition of the layouts.

Paths are relative to an execution's S3 output root ``s3://BUCKET/PREFIX``. The result readers
use these functions; the emulator writes the same layouts from its own knowledge of the service.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(?P<key>.*))?$")

#: Benchmark / custom scorer result files: ``results_*.json`` in the job's output folder.
BENCHMARK_RESULT_FILE_PREFIX = "results_"
BENCHMARK_RESULT_FILE_SUFFIX = ".json"
#: LLM-as-judge aggregate file name and the suffix of its per-example records file.
LLMAJ_AGGREGATE_FILE = "bedrock_llm_judge_results.json"
LLMAJ_EXAMPLES_SUFFIX = "_output.jsonl"


class S3Uri(NamedTuple):
    """A parsed ``s3://bucket/key`` URI."""

    bucket: str
    key: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}" if self.key else f"s3://{self.bucket}"

    def join(self, *parts: str) -> S3Uri:
        """Append path parts with single slashes between them."""
        segments = [self.key.strip("/")] + [p.strip("/") for p in parts]
        return S3Uri(self.bucket, "/".join(s for s in segments if s))


def parse_s3_uri(uri: str, *, name: str = "s3_uri") -> S3Uri:
    """Parse ``s3://bucket[/key]``; raise ValueError naming ``name`` when it is not one."""
    match = _S3_URI.match(uri.strip()) if isinstance(uri, str) else None
    if match is None or ".." in match.group("bucket"):
        raise ValueError(f"{name} {uri!r} is not an S3 URI of the form s3://bucket/prefix")
    return S3Uri(match.group("bucket"), (match.group("key") or "").rstrip("/"))


def job_output_prefix(root: S3Uri, training_job_name: str) -> S3Uri:
    """Folder holding a training job's result files: ``PREFIX/{job}/output/output``."""
    return root.join(training_job_name, "output", "output")


def is_benchmark_result_key(key: str) -> bool:
    """True for a benchmark / custom scorer ``results_*.json`` file key."""
    base = key.rsplit("/", 1)[-1]
    return base.startswith(BENCHMARK_RESULT_FILE_PREFIX) and base.endswith(BENCHMARK_RESULT_FILE_SUFFIX)


def llmaj_aggregate_key(root: S3Uri, training_job_name: str, judge_job_name: str) -> S3Uri:
    """The LLM-as-judge aggregate file of one metrics job."""
    return job_output_prefix(root, training_job_name).join(
        judge_job_name, "eval_results", LLMAJ_AGGREGATE_FILE
    )


def judge_job_name_from_key(root: S3Uri, training_job_name: str, key: str) -> str | None:
    """The folder right after ``/output/output/`` in ``key``, the judge job's name."""
    base = job_output_prefix(root, training_job_name).key + "/"
    if not key.startswith(base):
        return None
    rest = key[len(base) :]
    return rest.split("/", 1)[0] if "/" in rest else None


def llmaj_examples_prefix(root: S3Uri, judge_job_name: str) -> S3Uri:
    """Folder whose first ``*_output.jsonl`` key holds the per-example judge records."""
    return root.join(judge_job_name)


def is_llmaj_examples_key(key: str) -> bool:
    return key.endswith(LLMAJ_EXAMPLES_SUFFIX)
