"""pytest plugin: the ``sm_eval_emulator`` and ``sm_eval_aws_env`` fixtures.

Registered through the ``pytest11`` entry point of this distribution, so any test suite in an
environment where the emulator is installed can use it. One server runs per test session; its state
is reset before each test. Step duration and example count come from the ini options
``sm_eval_emulator_step_seconds`` (default 0.05) and ``sm_eval_emulator_examples`` (default 10).

Loading the plugin imports neither the emulator's server nor moto: a test session that does not
use the fixtures pays nothing for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sagemaker_eval_emulator.server import EvaluationEmulator

_STEP_SECONDS_INI = "sm_eval_emulator_step_seconds"
_EXAMPLES_INI = "sm_eval_emulator_examples"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        _STEP_SECONDS_INI,
        "seconds each pipeline step takes in the SageMaker evaluation emulator",
        default="0.05",
    )
    parser.addini(
        _EXAMPLES_INI, "per-example records the emulator writes for LLM-as-judge steps", default="10"
    )


@pytest.fixture(scope="session")
def sm_eval_emulator_session(pytestconfig: pytest.Config) -> Iterator[EvaluationEmulator]:
    """The session's emulator, without a reset: prefer ``sm_eval_emulator``."""
    from sagemaker_eval_emulator.server import EvaluationEmulator

    step_seconds = float(pytestconfig.getini(_STEP_SECONDS_INI))
    examples = int(pytestconfig.getini(_EXAMPLES_INI))
    with EvaluationEmulator(port=0, step_seconds=step_seconds, examples=examples) as emulator:
        yield emulator


@pytest.fixture
def sm_eval_emulator(sm_eval_emulator_session: EvaluationEmulator) -> EvaluationEmulator:
    """A running emulator with clean state (pipelines, faults, settings and moto reset)."""
    sm_eval_emulator_session.reset()
    return sm_eval_emulator_session


@pytest.fixture
def sm_eval_aws_env(
    sm_eval_emulator: EvaluationEmulator, monkeypatch: pytest.MonkeyPatch
) -> EvaluationEmulator:
    """Point every AWS client created during the test at the emulator, with dummy credentials."""
    from sagemaker_eval_emulator.server import ACCESS_KEY_ID, SECRET_ACCESS_KEY

    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", sm_eval_emulator.endpoint_url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", sm_eval_emulator.region)
    monkeypatch.setenv("AWS_REGION", sm_eval_emulator.region)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    return sm_eval_emulator
