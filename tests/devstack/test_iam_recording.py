"""``CallsByComponent`` gives each AWS call to the component whose code made it (no AWS: stubbed clients)."""

from __future__ import annotations

import asyncio
from typing import Any

import boto3
from botocore.stub import Stubber

from devstack.iam_policy import API_SERVERS, TRIGGERERS, UNATTRIBUTED, WORKERS, CallsByComponent

_CLIENT_ARGS: dict[str, Any] = {
    "region_name": "us-east-1",
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
}


def _call_from(module: str, client: Any) -> None:
    """Call ListPipelines from code of ``module`` (its globals' ``__name__``), as that module would."""
    code = compile("client.list_pipelines()", f"<{module}>", "exec")
    exec(code, {"__name__": module, "client": client})


def test_each_call_goes_to_the_component_whose_code_made_it() -> None:
    client = boto3.client("sagemaker", **_CLIENT_ARGS)
    with Stubber(client) as stub, CallsByComponent().recording() as recorder:
        for _ in range(4):
            stub.add_response("list_pipelines", {"PipelineSummaries": []})
        _call_from("airflow_provider_sm_eval.operators.start_evaluation", client)
        _call_from("airflow_provider_sm_eval.plugins.live", client)
        _call_from("airflow_provider_sm_eval.plugins.live", client)
        client.list_pipelines()  # this test's own call: no component's

    assert recorder.calls() == {
        WORKERS: {"sagemaker": {"ListPipelines": 1}},
        API_SERVERS: {"sagemaker": {"ListPipelines": 2}},
        UNATTRIBUTED: {"sagemaker": {"ListPipelines": 1}},
    }


def test_an_async_call_outside_a_component_module_is_the_triggerers() -> None:
    from aiobotocore.session import get_session
    from aiobotocore.stub import AioStubber

    async def call() -> None:
        async with get_session().create_client("sagemaker", **_CLIENT_ARGS) as client:
            with AioStubber(client) as stub:
                stub.add_response("list_pipelines", {"PipelineSummaries": []})
                await client.list_pipelines()

    with CallsByComponent().recording() as recorder:
        asyncio.run(call())

    assert recorder.calls() == {TRIGGERERS: {"sagemaker": {"ListPipelines": 1}}}


def test_recording_ends_with_its_block() -> None:
    client = boto3.client("sagemaker", **_CLIENT_ARGS)
    with Stubber(client) as stub:
        stub.add_response("list_pipelines", {"PipelineSummaries": []})
        with CallsByComponent().recording() as recorder:
            pass
        client.list_pipelines()

    assert recorder.calls() == {}
