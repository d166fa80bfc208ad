"""Fixtures of the emulator tests; ``sm_eval_emulator`` comes from the emulator's pytest plugin."""

from __future__ import annotations

from typing import Any

import pytest
from emulator_harness import NO_RETRIES, Harness

from sagemaker_eval_emulator import EvaluationEmulator


@pytest.fixture(scope="session")
def _clients(sm_eval_emulator_session: EvaluationEmulator) -> tuple[Any, Any]:
    """SageMaker (no retries) and S3 clients, made once: creating boto3 clients is slow."""
    return (
        sm_eval_emulator_session.client("sagemaker", config=NO_RETRIES),
        sm_eval_emulator_session.client("s3"),
    )


@pytest.fixture
def harness(sm_eval_emulator: EvaluationEmulator, _clients: tuple[Any, Any]) -> Harness:
    return Harness(sm_eval_emulator, *_clients)
