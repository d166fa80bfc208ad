"""What the emulator refuses before any handler: other web pages, strangers at its controls, huge or
malformed bodies. Requests go over raw HTTP, as a browser or a hostile local user would send them."""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error

import pytest
from emulator_harness import BUCKET, Harness

from sagemaker_eval_emulator.control import CONTROL_TOKEN_HEADER, control_request
from sagemaker_eval_emulator.guard import API_BODY_LIMIT, CONTROL_BODY_LIMIT, S3_BODY_LIMIT


def _authorization(service: str) -> str:
    return (
        f"AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, "
        "SignedHeaders=host, Signature=0"
    )


def _json_call(target: str, service: str) -> dict[str, str]:
    return {
        "X-Amz-Target": target,
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": _authorization(service),
    }


def request(
    harness: Harness, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", harness.emu.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def raw_exchange(harness: Harness, head: str, timeout: float = 10.0) -> bytes:
    """Send only a request's head (no body), read what the emulator answers until it closes."""
    with socket.create_connection(("127.0.0.1", harness.emu.port), timeout=timeout) as sock:
        sock.sendall(head.encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


# --- Host, Origin, Sec-Fetch-Site ---------------------------------------------------------------


@pytest.mark.hostile("emulator")
@pytest.mark.parametrize("host", ["rebound.attacker.example", "localhost.attacker.example", "127.0.0.1"])
def test_a_foreign_host_or_another_port_is_refused(harness: Harness, host: str) -> None:
    # A DNS-rebinding page reaches 127.0.0.1 under its own name; another port is another server.
    port = harness.emu.port if host != "127.0.0.1" else harness.emu.port + 1
    status, _, body = request(
        harness,
        "POST",
        "/",
        b"{}",
        {**_json_call("SageMaker.ListPipelines", "sagemaker"), "Host": f"{host}:{port}"},
    )
    assert status == 403
    assert json.loads(body)["__type"] == "AccessDeniedException"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "bucket.localhost", "[::1]"])
def test_loopback_names_and_ip_addresses_at_its_port_are_served(harness: Harness, host: str) -> None:
    status, _, body = request(
        harness,
        "POST",
        "/",
        b"{}",
        {**_json_call("SageMaker.ListPipelines", "sagemaker"), "Host": f"{host}:{harness.emu.port}"},
    )
    assert (status, json.loads(body)) == (200, {"PipelineSummaries": []})


@pytest.mark.hostile("emulator")
@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1:8080"},  # another local server's page (the Airflow UI, say)
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_a_request_sent_by_another_web_page_is_refused(harness: Harness, headers: dict[str, str]) -> None:
    harness.s3.put_object(Bucket=BUCKET, Key="secret.json", Body=b"{}")
    for method, path, body, call in (
        ("POST", "/", b'{"QueueName": "q"}', _json_call("AmazonSQS.CreateQueue", "sqs")),
        ("GET", f"/{BUCKET}/secret.json", b"", {"Authorization": _authorization("s3")}),
    ):
        status, _, answer = request(harness, method, path, body, {**call, **headers})
        assert status == 403, (path, answer)
        assert json.loads(answer)["__type"] == "AccessDeniedException"
    assert "sqs" not in harness.emu.calls.describe()["calls"]


def test_a_same_origin_request_is_served(harness: Harness) -> None:
    headers = {
        **_json_call("SageMaker.ListPipelines", "sagemaker"),
        "Origin": f"http://127.0.0.1:{harness.emu.port}",
        "Sec-Fetch-Site": "same-origin",
    }
    status, _, _ = request(harness, "POST", "/", b"{}", headers)
    assert status == 200


# --- the control token --------------------------------------------------------------------------


@pytest.mark.hostile("emulator")
@pytest.mark.parametrize("token", [None, "", "guessed-token"])
def test_the_control_api_without_its_token_is_refused(harness: Harness, token: str | None) -> None:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers[CONTROL_TOKEN_HEADER] = token
    for method, path, body in (
        ("POST", "/_emulator/faults/fail-call", b'{"operation": "ListPipelines", "code": "Boom"}'),
        ("POST", "/_emulator/reset", b""),
        ("GET", "/_emulator/health", b""),
        ("POST", "/moto-api/reset", b""),
    ):
        status, _, answer = request(harness, method, path, body, headers)
        assert status == 403, (path, answer)
        assert json.loads(answer)["__type"] == "AccessDeniedException"
    assert harness.emu.faults.describe() == harness.emu.control("GET", "faults")
    assert harness.emu.control("GET", "faults")["call_failures"] == []
    harness.sm.list_pipelines()  # no fault was set


def test_the_control_api_with_its_token_is_served(harness: Harness) -> None:
    assert control_request(harness.emu.endpoint_url, harness.emu.control_token, "GET", "health") == {
        "status": "ok"
    }
    with pytest.raises(urllib.error.HTTPError) as refused:
        control_request(harness.emu.endpoint_url, "not-" + harness.emu.control_token, "GET", "health")
    assert refused.value.code == 403


# --- body size ----------------------------------------------------------------------------------


@pytest.mark.hostile("emulator")
@pytest.mark.parametrize("expect", [False, True])
@pytest.mark.parametrize(
    ("request_line", "headers"),
    [
        (
            "POST / HTTP/1.1",
            "X-Amz-Target: SageMaker.CreatePipeline\r\nContent-Type: application/x-amz-json-1.1\r\n",
        ),
        (f"PUT /{BUCKET}/huge.bin HTTP/1.1", f"Authorization: {_authorization('s3')}\r\n"),
        ("PUT /_emulator/config HTTP/1.1", "Content-Type: application/json\r\n"),
    ],
)
def test_a_256_mib_declared_body_gets_413_before_any_of_it_is_read(
    harness: Harness, request_line: str, headers: str, expect: bool
) -> None:
    # Only the head is sent: an emulator that waited for the body would time out here.
    head = (
        f"{request_line}\r\nHost: 127.0.0.1:{harness.emu.port}\r\n{headers}"
        f"Content-Length: {256 * 1024 * 1024}\r\n" + ("Expect: 100-continue\r\n" if expect else "") + "\r\n"
    )
    answer = raw_exchange(harness, head)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413"), answer[:300]  # and no "100 Continue" before it
    payload = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert payload["__type"] == "RequestEntityTooLargeException"
    assert b"connection: close" in rest.lower()


def test_the_body_limits_sit_above_the_largest_legitimate_request() -> None:
    from airflow_provider_sm_eval.evaluation.definition import MAX_DEFINITION_CHARS

    largest_definition = json.dumps({"PipelineDefinition": "\U0001f600" * MAX_DEFINITION_CHARS})
    assert len(largest_definition.encode()) < API_BODY_LIMIT
    assert S3_BODY_LIMIT >= 8 * 1024 * 1024  # boto3's multipart parts
    assert CONTROL_BODY_LIMIT < API_BODY_LIMIT < S3_BODY_LIMIT


def test_a_definition_of_the_largest_size_is_accepted(harness: Harness) -> None:
    from airflow_provider_sm_eval.evaluation.definition import MAX_DEFINITION_CHARS

    body = json.dumps({"PipelineName": "big", "PipelineDefinition": "\u00e9" * MAX_DEFINITION_CHARS}).encode()
    status, _, answer = request(
        harness, "POST", "/", body, _json_call("SageMaker.CreatePipeline", "sagemaker")
    )
    assert status == 400  # read and validated (no role ARN), not refused for its size
    assert json.loads(answer)["__type"] == "ValidationException"


@pytest.mark.hostile("emulator")
def test_a_chunked_body_is_read_only_up_to_its_limit(harness: Harness) -> None:
    def chunks() -> object:
        for _ in range(CONTROL_BODY_LIMIT // 65536 + 2):
            yield b" " * 65536

    connection = http.client.HTTPConnection("127.0.0.1", harness.emu.port, timeout=10)
    try:
        connection.request(
            "PUT",
            "/_emulator/config",
            body=chunks(),
            headers={CONTROL_TOKEN_HEADER: harness.emu.control_token},
            encode_chunked=True,
        )
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["__type"] == "RequestEntityTooLargeException"
    finally:
        connection.close()


# --- malformed bodies ---------------------------------------------------------------------------


@pytest.mark.hostile("emulator")
@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[1, 2]", b"null"])
@pytest.mark.parametrize(
    ("target", "service"),
    [
        ("SageMaker.ListPipelines", "sagemaker"),
        ("AWSEvents.PutEvents", "events"),
        ("AmazonSQS.SendMessage", "sqs"),
        ("AmazonSQS.ReceiveMessage", "sqs"),
    ],
)
def test_a_malformed_json_body_gets_a_json_error_with_type(
    harness: Harness, target: str, service: str, body: bytes
) -> None:
    status, headers, answer = request(harness, "POST", "/", body, _json_call(target, service))
    assert status == 400, answer[:200]
    assert headers["Content-Type"] == "application/x-amz-json-1.1"
    assert json.loads(answer)["__type"] == "SerializationException"


@pytest.mark.hostile("emulator")
def test_a_request_moto_cannot_parse_gets_a_json_error_not_an_html_page(harness: Harness) -> None:
    for method, path, body, headers in (
        (
            "PUT",
            "/malformed-bucket",
            b"<CreateBucketConfiguration><unclosed>",
            {"Authorization": _authorization("s3")},
        ),
        (
            "POST",
            "/",
            b"{}",
            # A JSON call signed for another service: moto has no such operation there.
            {**_json_call("AWSEvents.PutEvents", "sagemaker")},
        ),
    ):
        status, _, answer = request(harness, method, path, body, headers)
        assert status in {400, 500}, answer[:200]
        assert not answer.lstrip().startswith(b"<"), answer[:200]
        assert json.loads(answer)["__type"], answer[:200]
