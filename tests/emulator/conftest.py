"""Fixtures of the emulator tests; ``sm_eval_emulator`` comes from the emulator's pytest plugin."""

from __future__ import annotations

import pytest
from emulator_harness import Harness

from airflow_provider_sm_eval.emulator import EvaluationEmulator


@pytest.fixture
def harness(sm_eval_emulator: EvaluationEmulator) -> Harness:
    return Harness(sm_eval_emulator)
