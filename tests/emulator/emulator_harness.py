"""Shared helpers of the emulator tests: example definitions, a client harness, polling."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.config import Config

from airflow_provider_sm_eval.evaluation.constants import TERMINAL_STATUSES, EvalType
from airflow_provider_sm_eval.evaluation.types.registry import kind_of
from sagemaker_eval_emulator import EvaluationEmulator

DEFINITIONS = Path(__file__).resolve().parents[2] / "example_dags" / "pipeline_definitions"
ROLE_ARN = "arn:aws:iam::123456789012:role/EvaluationRole"
BUCKET = "eval-results"
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})
_TERMINAL = {s.value for s in TERMINAL_STATUSES}


def definition(kind: str) -> str:
    """Text of an example definition: benchmark, custom_scorer or llm_as_judge."""
    return (DEFINITIONS / f"{kind}.json").read_text()


def token() -> str:
    return uuid.uuid4().hex


def pipeline_name(eval_type: EvalType) -> str:
    return f"{kind_of(eval_type).pipeline_name_prefix}-{uuid.uuid4()}"


def wait_for(
    predicate: Callable[[], Any], *, timeout: float = 20.0, interval: float = 0.02, what: str = "condition"
) -> Any:
    """Poll ``predicate`` until it returns a truthy value (a generous bound, not a timing check)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        time.sleep(interval)


def control(harness: Harness, method: str, route: str, body: dict[str, Any] | None = None) -> Any:
    """Call the emulator's control API with its token; the decoded JSON response (HTTPError on 4xx)."""
    return harness.emu.control(method, route, body)


class Harness:
    """A test's emulator, clients and shortcuts for common calls."""

    def __init__(self, emulator: EvaluationEmulator, sm: Any, s3: Any) -> None:
        self.emu = emulator
        self.sm = sm
        self.s3 = s3
        self.s3.create_bucket(Bucket=BUCKET)

    def create(self, eval_type: EvalType = EvalType.BENCHMARK, kind: str | None = None, **extra: Any) -> str:
        name = extra.pop("PipelineName", None) or pipeline_name(eval_type)
        kinds = {
            EvalType.BENCHMARK: "benchmark",
            EvalType.CUSTOM_SCORER: "custom_scorer",
            EvalType.LLM_AS_JUDGE: "llm_as_judge",
        }
        self.sm.create_pipeline(
            PipelineName=name,
            PipelineDefinition=extra.pop("PipelineDefinition", None) or definition(kind or kinds[eval_type]),
            RoleArn=ROLE_ARN,
            ClientRequestToken=token(),
            **extra,
        )
        return name

    def start(self, name: str, prefix: str = "run", **extra: Any) -> str:
        params = extra.pop(
            "PipelineParameters", [{"Name": "S3OutputPath", "Value": f"s3://{BUCKET}/{prefix}"}]
        )
        return str(
            self.sm.start_pipeline_execution(
                PipelineName=name, PipelineParameters=params, ClientRequestToken=token(), **extra
            )["PipelineExecutionArn"]
        )

    def status(self, arn: str) -> str:
        return str(self.sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"])

    def wait_terminal(self, arn: str) -> dict[str, Any]:
        return dict(
            wait_for(
                lambda: (
                    (d := self.sm.describe_pipeline_execution(PipelineExecutionArn=arn))[
                        "PipelineExecutionStatus"
                    ]
                    in _TERMINAL
                    and d
                ),
                what=f"terminal status of {arn}",
            )
        )

    def steps(self, arn: str) -> dict[str, dict[str, Any]]:
        entries = []
        for page in self.sm.get_paginator("list_pipeline_execution_steps").paginate(PipelineExecutionArn=arn):
            entries.extend(page["PipelineExecutionSteps"])
        return {e["StepName"]: e for e in entries}

    def keys(self, prefix: str = "") -> list[str]:
        keys: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
            keys.extend(o["Key"] for o in page.get("Contents", []))
        return keys

    def read_json(self, key: str) -> Any:
        return json.loads(self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
