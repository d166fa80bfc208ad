"""Bedrock's ``GetFoundationModel``, which the SDK's LLM-as-judge evaluator calls for its judge model.

moto does not implement it. The emulator knows the judge models of its seed (the list the SDK
also reads from S3): each is an ``ACTIVE`` text model; any other id is
``ResourceNotFoundException`` (HTTP 404), as Bedrock answers for a model it does not offer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

from sagemaker_eval_emulator.operations import credential_scope

_PREFIX = "/foundation-models/"


def foundation_model(model_id: str, region: str) -> dict[str, Any]:
    """``modelDetails`` of one judge model."""
    provider = model_id.split(".", 1)[0]
    return {
        "modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model_id}",
        "modelId": model_id,
        "modelName": model_id.split(".", 1)[-1],
        "providerName": provider.capitalize(),
        "inputModalities": ["TEXT"],
        "outputModalities": ["TEXT"],
        "responseStreamingSupported": True,
        "customizationsSupported": [],
        "inferenceTypesSupported": ["ON_DEMAND"],
        "modelLifecycle": {"status": "ACTIVE"},
    }


def answer(
    environ: dict[str, Any], start_response: Callable[..., Any], judge_models: tuple[str, ...]
) -> Iterable[bytes] | None:
    """Answer a GetFoundationModel request; None for any other request."""
    path = environ.get("PATH_INFO", "")
    scope = credential_scope(environ)
    if environ.get("REQUEST_METHOD") != "GET" or scope is None or scope.service != "bedrock":
        return None
    if not path.startswith(_PREFIX) or "/" in path[len(_PREFIX) :]:
        return None
    model_id = unquote(path[len(_PREFIX) :])
    if model_id.startswith("arn:"):
        model_id = model_id.rpartition("/")[2]
    body: dict[str, Any]
    if model_id in judge_models:
        status, body, error = "200 OK", {"modelDetails": foundation_model(model_id, scope.region)}, None
    else:
        error = "ResourceNotFoundException"
        status, body = "404 Not Found", {"message": f"The model {model_id} does not exist."}
    data = json.dumps(body).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    if error is not None:
        headers.append(("x-amzn-ErrorType", error))
    start_response(status, headers)
    return [data]
