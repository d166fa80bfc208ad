"""A local SageMaker evaluation service: SageMaker pipelines on top of moto, over real HTTP.

One endpoint on 127.0.0.1 speaks the AWS wire protocols, so boto3, aiobotocore, the amazon
provider's hooks and the SageMaker SDK use it unmodified through ``endpoint_url``:

- SageMaker pipeline calls (CreatePipeline ... RetryPipelineExecution, DescribeTrainingJob of
  the step jobs) are served by the emulator's own backend (``backend``): executions move
  through their steps over time (``execution``), and evaluation steps write synthetic result
  files to S3 where SageMaker's evaluation jobs write them (``artifacts``, ``results``).
- Everything else (S3, STS, IAM, other SageMaker calls) is served by moto.
- Faults (failing steps, error codes, throttling, delays) and settings are controlled
  in-process (``EvaluationEmulator.faults`` / ``.results``) or over HTTP (``control``).
- Every AWS call received is counted per service and operation (``EvaluationEmulator.calls``,
  ``GET /_emulator/calls``; ``call_log``).

Run it with ``python -m sagemaker_eval_emulator --port N`` (or ``sagemaker-evaluation-emulator``),
in-process with ``EvaluationEmulator``, or in tests with the ``sm_eval_emulator`` /
``sm_eval_aws_env`` fixtures of the pytest plugin (``pytest_plugin``).

It knows the service on its own (``service``, ``artifacts``) and imports nothing of the Airflow
provider. The names below are imported on first use, so that importing this package (the pytest
plugin does, in every test session) does not import moto.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sagemaker_eval_emulator.faults import FaultController
    from sagemaker_eval_emulator.results import ResultSettings
    from sagemaker_eval_emulator.server import EvaluationEmulator

_EXPORTS = {"EvaluationEmulator": "server", "FaultController": "faults", "ResultSettings": "results"}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)


__version__ = "0.1.0"
__all__ = ["EvaluationEmulator", "FaultController", "ResultSettings"]
