"""A local SageMaker evaluation emulator: SageMaker pipelines on top of moto, over real HTTP.

One endpoint on 127.0.0.1 speaks the AWS wire protocols, so boto3, aiobotocore, the amazon
provider's hooks and the SageMaker SDK use it unmodified through ``endpoint_url``:

- SageMaker pipeline calls (CreatePipeline ... RetryPipelineExecution, DescribeTrainingJob of
  the step jobs) are served by the emulator's own backend (``backend``): executions move
  through their steps over time (``execution``), and evaluation steps write synthetic result
  files to S3 at the layouts of ``evaluation.s3_layout`` (``artifacts``, ``results``).
- Everything else (S3, STS, IAM, other SageMaker calls) is served by moto.
- Faults (failing steps, error codes, throttling, delays) and settings are controlled
  in-process (``EvaluationEmulator.faults`` / ``.results``) or over HTTP (``control``).
- Every AWS call received is counted per service and operation (``EvaluationEmulator.calls``,
  ``GET /_emulator/calls``; ``call_log``).

Run it with ``python -m airflow_provider_sm_eval.emulator --port N``, in-process with
``EvaluationEmulator``, or in tests with the ``sm_eval_emulator`` / ``sm_eval_aws_env``
fixtures of the pytest plugin (``pytest_plugin``).

It needs the provider's ``emulator`` extra (``extra``). The names below are imported on first
use, so that importing this package (the pytest plugin does, in every test session) never
fails without it; using them then says which command installs it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from airflow_provider_sm_eval.emulator.extra import require_emulator_extra

if TYPE_CHECKING:
    from airflow_provider_sm_eval.emulator.faults import FaultController
    from airflow_provider_sm_eval.emulator.results import ResultSettings
    from airflow_provider_sm_eval.emulator.server import EvaluationEmulator

_EXPORTS = {"EvaluationEmulator": "server", "FaultController": "faults", "ResultSettings": "results"}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    require_emulator_extra()
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)


__all__ = ["EvaluationEmulator", "FaultController", "ResultSettings"]
