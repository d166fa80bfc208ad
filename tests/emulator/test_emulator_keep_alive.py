"""The emulator keeps HTTP connections open between calls, as AWS endpoints do."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

from emulator_harness import Harness

from sagemaker_eval_emulator.control import CONTROL_TOKEN_HEADER

AUTHORIZATION = (
    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sagemaker/aws4_request, "
    "SignedHeaders=host;x-amz-target, Signature=0"
)


def sagemaker_request(
    connection: http.client.HTTPConnection, operation: str, body: dict[str, object]
) -> tuple[int, dict[str, object], bool]:
    data = json.dumps(body).encode()
    connection.request(
        "POST",
        "/",
        body=data,
        headers={
            "X-Amz-Target": f"SageMaker.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": AUTHORIZATION,
        },
    )
    response = connection.getresponse()
    payload = json.loads(response.read())
    return response.status, payload, response.will_close


def connect(harness: Harness) -> http.client.HTTPConnection:
    url = urlsplit(harness.emu.endpoint_url)
    return http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)


def test_one_connection_serves_many_calls(harness: Harness) -> None:
    connection = connect(harness)
    connection.connect()
    first_socket = connection.sock
    for _ in range(3):
        status, payload, will_close = sagemaker_request(connection, "ListPipelines", {})
        assert (status, payload, will_close) == (200, {"PipelineSummaries": []}, False)
    harness.s3.put_object(Bucket="eval-results", Key="k", Body=b"x")
    connection.request(
        "GET", "/eval-results/k", headers={"Authorization": AUTHORIZATION.replace("sagemaker", "s3")}
    )
    s3_response = connection.getresponse()
    assert (s3_response.status, s3_response.read(), s3_response.will_close) == (200, b"x", False)
    assert connection.sock is first_socket
    connection.close()


def test_a_body_the_emulator_did_not_read_does_not_break_the_next_call(harness: Harness) -> None:
    harness.emu.faults.throttle(share=1.0, operations=["ListPipelines"])  # answered before the body is read
    connection = connect(harness)
    status, payload, will_close = sagemaker_request(
        connection, "ListPipelines", {"MaxResults": 5, "pad": "x" * 50_000}
    )
    assert (status, payload["__type"], will_close) == (400, "ThrottlingException", False)
    harness.emu.faults.clear()
    status, payload, _ = sagemaker_request(connection, "ListPipelines", {})
    assert (status, payload) == (200, {"PipelineSummaries": []})
    connection.close()


def test_a_client_asking_to_close_gets_its_connection_closed(harness: Harness) -> None:
    connection = connect(harness)
    connection.request(
        "GET",
        "/_emulator/health",
        headers={"Connection": "close", CONTROL_TOKEN_HEADER: harness.emu.control_token},
    )
    response = connection.getresponse()
    assert (response.status, response.will_close) == (200, True)
    response.read()
    connection.close()


def test_boto3_reuses_its_pooled_connection(harness: Harness) -> None:
    sm = harness.emu.client("sagemaker")
    for _ in range(5):
        sm.list_pipelines()
    pool = sm._endpoint.http_session._manager.connection_from_url(harness.emu.endpoint_url)
    assert pool.num_connections == 1
    assert pool.num_requests == 5
