"""Calls of other services than SageMaker that the SDK makes and moto does not implement."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sagemaker_eval_emulator import bedrock, iam_simulation
from sagemaker_eval_emulator.catalog import Catalog


def answer(
    environ: dict[str, Any], start_response: Callable[..., Any], catalog: Catalog
) -> Iterable[bytes] | None:
    """The response to ``iam:SimulatePrincipalPolicy`` or ``bedrock:GetFoundationModel``; None otherwise."""
    return iam_simulation.answer(environ, start_response) or bedrock.answer(
        environ, start_response, catalog.judge_models
    )
